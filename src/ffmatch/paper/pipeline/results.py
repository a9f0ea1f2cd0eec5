"""What a run found, as frozen dataclasses: the stages' scores and each command's metrics.

``ffmatch.core.serial.to_mapping`` writes them as ``metrics.json`` (the field names are the
JSON keys) and ``from_mapping`` reads them back; the report builders and the terminal
summaries take these objects, so a renamed field fails at type-check time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Self

import numpy as np

from ffmatch.core.metrics import Metrics, Summary, pooled_confusion, summarize
from ffmatch.core.serial import OMIT_NONE
from ffmatch.paper.evaluation.controls import ControlResult
from ffmatch.paper.evaluation.cv import CVResult
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pruning import PruningReport, PruningSummary
from ffmatch.paper.selection import Selection

Confusion = tuple[tuple[int, int], tuple[int, int]]  # ((tn, fp), (fn, tp))


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldoutMetrics(Metrics):
    """Scores on the holdout rows, with the exact 95% interval of the accuracy."""

    accuracy_ci95: tuple[float, float]

    @classmethod
    def of(cls, metrics: Metrics) -> HoldoutMetrics:
        """``metrics`` with its Clopper-Pearson interval: on 9 holdout rows it spans about
        50 points, which is what one such number can say."""
        from scipy.stats import binomtest

        (tn, _), (_, tp) = metrics.confusion
        ci = binomtest(int(tn + tp), int(metrics.n)).proportion_ci(confidence_level=0.95)
        values = {f.name: getattr(metrics, f.name) for f in fields(metrics)}
        return cls(**values, accuracy_ci95=(float(ci.low), float(ci.high)))


@dataclass(frozen=True, kw_only=True, slots=True)
class StageScores:
    """One stage's cross-validated scores (per fold, summarised, pooled) and holdout scores.

    The majority baseline is exactly this; the network stages add what they found.
    """

    cv: Mapping[str, Summary]  # each of SCALAR_METRICS over folds
    cv_confusion: Confusion  # the folds' validation confusion matrices added up
    folds: tuple[Metrics, ...]  # validation metrics per fold
    holdout: HoldoutMetrics

    @classmethod
    def scored(
        cls, *, folds: Sequence[Metrics], repeat: Sequence[int], holdout: Metrics, **extra: Any
    ) -> Self:
        """The stage of these fold and holdout scores (``repeat``: each fold's repeat)."""
        return cls(
            cv=summarize(folds, repeat=repeat),
            cv_confusion=pooled_confusion(folds),
            folds=tuple(folds),
            holdout=HoldoutMetrics.of(holdout),
            **extra,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkSettings:
    """The MLP settings a stage trained with."""

    hidden: tuple[int, ...]
    epochs: int
    lr: float


@dataclass(frozen=True, kw_only=True, slots=True)
class MLPStage(StageScores):
    """The MLP of the configuration's settings."""

    config: NetworkSettings
    sizes: tuple[int, ...]  # layer widths input..output of the holdout network
    final_epoch: Mapping[str, Summary]  # the last epoch's loss and accuracy over folds


@dataclass(frozen=True, kw_only=True, slots=True)
class PrunedStage(StageScores):
    """The MLP after distinctiveness pruning (fold networks on their own training rows)."""

    pruning: PruningReport  # of the holdout network
    pruning_folds: PruningSummary
    finetune_epochs: int


@dataclass(frozen=True, kw_only=True, slots=True)
class BestIndividual:
    """The GA's best-ever individual, decoded."""

    hidden: int  # the hidden-size gene
    hidden_sizes: tuple[int, ...]  # the layer widths it decodes to
    epochs: int
    learning_rate: float
    chromosome: str
    fitness: float  # the configured fitness metric, mean over folds


@dataclass(frozen=True, kw_only=True, slots=True)
class GenerationFitness:
    """Best and mean fitness of one generation (the paper's Fig. 2-1)."""

    generation: int
    best: float
    mean: float


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchCost:
    """What the GA trained, and how long it took (the only number that varies by machine)."""

    networks_trained: int
    network_epochs: int
    distinct_individuals: int
    seconds: float


@dataclass(frozen=True, kw_only=True, slots=True)
class GAStage(StageScores):
    """The pruned MLP whose settings the GA chose."""

    best: BestIndividual
    fitness_by_generation: tuple[GenerationFitness, ...]
    pruned: bool  # individuals scored after pruning, as in the paper
    cost: SearchCost


@dataclass(frozen=True, kw_only=True, slots=True)
class Stages:
    """The network stages a command ran (only those)."""

    mlp: MLPStage | None = field(default=None, metadata=OMIT_NONE)
    pruned: PrunedStage | None = field(default=None, metadata=OMIT_NONE)
    ga: GAStage | None = field(default=None, metadata=OMIT_NONE)

    def items(self) -> list[tuple[str, StageScores]]:
        """``(key, stage)`` of the stages that ran, in pipeline order."""
        found = (("mlp", self.mlp), ("pruned", self.pruned), ("ga", self.ga))
        return [(k, s) for k, s in found if s is not None]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProtocolMetrics:
    """One protocol's run: the data, the folds, every stage beside the majority baseline."""

    protocol: str  # the splitter's name (see ffmatch.core.splits)
    representation: str
    n_pairs: int
    n_holdout: int
    n_cv_rows: int
    n_folds: int  # folds actually used (all repeats together)
    stages: Stages
    majority_baseline: StageScores  # always the training part's majority label
    controls: Mapping[str, ControlResult] | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldHistory:
    """One fold network's per-epoch curves."""

    train_loss: tuple[float, ...]
    train_acc: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_acc: tuple[float, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldRecord:
    """One cross-validation fold as ``ffmatch cv`` records it."""

    repeat: int
    index: int
    train: tuple[int, ...]  # training row indices (into the CV rows)
    val: Metrics  # the network on the validation rows
    majority: Metrics  # the training majority label on the same rows
    final_epoch: Mapping[str, float]
    val_proba: tuple[float, ...]
    train_majority: float
    history: FoldHistory


@dataclass(frozen=True, kw_only=True, slots=True)
class CVRecord:
    """Every fold of one cross-validation, with its summaries."""

    config: MLPConfig
    protocol: str
    seed: int
    n_folds: int
    repeats: int
    summary: Mapping[str, Summary]
    majority: Mapping[str, Summary]
    final_epoch: Mapping[str, Summary]
    folds: tuple[FoldRecord, ...]

    @classmethod
    def of(cls, cv: CVResult) -> CVRecord:
        """The record of ``cv`` (its networks and scalers left out)."""

        def floats(a: np.ndarray) -> tuple[float, ...]:
            return tuple(float(v) for v in a)

        return cls(
            config=cv.config,
            protocol=cv.protocol,
            seed=cv.seed,
            n_folds=len(cv.folds),
            repeats=cv.repeats,
            summary=cv.summary,
            majority=cv.majority,
            final_epoch=cv.final_epoch,
            folds=tuple(
                FoldRecord(
                    repeat=f.fold.repeat,
                    index=f.fold.index,
                    train=tuple(int(i) for i in f.fold.train),
                    val=f.val,
                    majority=f.majority,
                    final_epoch=f.final_epoch(),
                    val_proba=floats(f.val_proba),
                    train_majority=f.train_majority,
                    history=FoldHistory(
                        train_loss=floats(f.history.train_loss),
                        train_acc=floats(f.history.train_acc),
                        val_loss=floats(f.history.val_loss),
                        val_acc=floats(f.history.val_acc),
                    ),
                )
                for f in cv.folds
            ),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PruningRecord(PruningReport):
    """The holdout network's pruning, with the folds' summary (``ffmatch prune``)."""

    folds: PruningSummary

    @classmethod
    def of(cls, report: PruningReport, folds: PruningSummary) -> PruningRecord:
        """``report`` with ``folds`` beside it."""
        return cls(**{f.name: getattr(report, f.name) for f in fields(report)}, folds=folds)


@dataclass(frozen=True, kw_only=True, slots=True)
class StepMetrics(ProtocolMetrics):
    """``metrics.json`` of ``ffmatch cv``, ``prune`` and ``evolve``."""

    command: str
    dataset: str
    seed: int
    cv_folds: CVRecord | None = field(default=None, metadata=OMIT_NONE)  # cv
    pruning: PruningRecord | None = field(default=None, metadata=OMIT_NONE)  # prune
    ga: Mapping[str, Any] | None = field(
        default=None, metadata=OMIT_NONE
    )  # evolve: the GA's whole history


@dataclass(frozen=True, kw_only=True, slots=True)
class SelectionRecord:
    """The representation selection (Table 2): the rule used, and every rule's outcome."""

    rule: str
    weights: Mapping[str, int] | None = field(
        default=None, metadata=OMIT_NONE
    )  # None: photos form no sets
    selected: str | None = field(default=None, metadata=OMIT_NONE)
    per_set: Mapping[str, tuple[int, ...]] | None = field(default=None, metadata=OMIT_NONE)
    rules: Mapping[str, Selection]

    @classmethod
    def of(cls, rule: str, selections: Mapping[str, Selection]) -> SelectionRecord:
        """The record of ``rule`` among ``selections`` (empty when photos form no sets)."""
        chosen = selections.get(rule)
        if chosen is None:
            return cls(rule=rule, rules=selections)
        return cls(
            rule=rule,
            weights=chosen.weights,
            selected=chosen.selected,
            per_set=chosen.per_set,
            rules=selections,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PaperCV:
    """The paper's cross-validated numbers after pruning (section 3.1)."""

    train_accuracy: float
    val_accuracy: float
    train_loss: float
    val_loss: float


@dataclass(frozen=True, kw_only=True, slots=True)
class PaperHoldout:
    """The paper's holdout numbers (Tables 5 and 6)."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    confusion: Confusion


@dataclass(frozen=True, kw_only=True, slots=True)
class PaperNumbers:
    """What the paper reports, for the report's comparison."""

    selection_weights: Mapping[str, int]
    pruned_cv: PaperCV
    pruned_holdout: PaperHoldout
    ga_holdout: PaperHoldout


# What the paper reports (sections 2.1, 3.1, 3.2; Tables 5 and 6).
PAPER = PaperNumbers(
    selection_weights={"distances": 21, "proportions": 19, "ffms": 22},
    pruned_cv=PaperCV(
        train_accuracy=0.63939, val_accuracy=0.66667, train_loss=0.6460, val_loss=0.6591
    ),
    pruned_holdout=PaperHoldout(
        accuracy=6 / 9, precision=0.0, recall=0.0, f1=0.0, confusion=((6, 0), (3, 0))
    ),
    ga_holdout=PaperHoldout(
        accuracy=7 / 9, precision=2 / 3, recall=2 / 3, f1=2 / 3, confusion=((5, 1), (1, 2))
    ),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReproduceMetrics(ProtocolMetrics):
    """``metrics.json`` of ``ffmatch reproduce``: the leading protocol at the top level, the
    other beside it, and the paper's numbers."""

    command: str = "reproduce"
    dataset: str
    seed: int
    selection: SelectionRecord
    other_protocol: ProtocolMetrics
    paper: PaperNumbers = PAPER

    @property
    def protocols(self) -> dict[str, ProtocolMetrics]:
        """Both protocols' runs by name, the leading one first."""
        return {self.protocol: self, self.other_protocol.protocol: self.other_protocol}
