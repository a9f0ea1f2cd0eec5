"""The paper's experiment as stages: MLP, pruned MLP, GA-tuned pruned MLP, and controls.

Each stage is cross-validated on the same folds and then checked on the same holdout. Under
the ``paper`` protocol the folds run over all rows and the scaler sees every row, as the paper
did; under ``grouped`` the holdout sets are cut off first, and everything learned (scalers,
pruning decisions, the GA's choice) is fitted inside the remaining training part, with folds
that keep each set of three together. The holdout then measures what the search never saw.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ffmatch.core.metrics import Metrics, binary_metrics, majority_baseline
from ffmatch.core.splits import Fold, FoldData, Splitter, fold_data, make_splitter
from ffmatch.core.table import FloatArray, IntArray, PairTable, StrArray
from ffmatch.paper.evaluation.controls import ControlResult, run_controls
from ffmatch.paper.evaluation.cv import (
    CVResult,
    evaluate_configs,
    fold_job,
    network_seed,
    train_configs,
    val_metrics,
)
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import TrainResult, train_many
from ffmatch.paper.pipeline.config import RunConfig
from ffmatch.paper.pipeline.results import (
    BestIndividual,
    GAStage,
    GenerationFitness,
    MLPStage,
    NetworkSettings,
    PrunedStage,
    SearchCost,
    StageScores,
)
from ffmatch.paper.pruning import (
    PruningConfig,
    PruningReport,
    PruningSummary,
    prune,
    prune_weights,
    summarize_folds,
)
from ffmatch.paper.representations import pair_features
from ffmatch.paper.search.encoding import Genes
from ffmatch.paper.search.ga import GAResult, GenerationRecord, evolve
from ffmatch.paper.selection import Selection, cosine_table, select

logger = logging.getLogger(__name__)

HOLDOUT_KEY = 65_535  # the holdout network's seed key, apart from every fold's (repeat, index)


@dataclass(frozen=True, kw_only=True, slots=True)
class Prepared:
    """The data of one run: features, labels, groups, the holdout cut and the CV folds."""

    pairs: PairTable
    x: FloatArray  # (m, d) raw (unscaled) pair features
    y: IntArray  # (m,)
    groups: StrArray  # (m,) set or person of each pair
    representation: str
    selections: Mapping[str, Selection]  # per rule; empty when photos do not form sets
    train: IntArray  # holdout split: training rows
    test: IntArray  # holdout rows
    dev: IntArray  # rows cross-validation runs on (all rows: paper; ``train``: grouped)
    folds: tuple[Fold, ...]  # indices into ``dev``
    splitter: Splitter  # the protocol, chosen once from the configuration

    @property
    def protocol(self) -> str:
        """The protocol's name."""
        return self.splitter.name


def prepare(config: RunConfig, pairs: PairTable) -> Prepared:
    """Select the representation, build features, cut the holdout and make the folds."""
    selections: dict[str, Selection] = {}
    if {"A", "B", "C"} <= set(pairs.photos.role):
        table = cosine_table(pairs.photos)
        selections = {rule: select(table, rule) for rule in ("paper", "corrected")}
    representation = config.data.representation
    if representation == "selected":
        rule = config.data.selection_rule
        if rule not in selections:
            selections[rule] = select(cosine_table(pairs.photos), rule)
        representation = selections[rule].selected
    x = pair_features(pairs, representation)
    y = pairs.label.astype(np.int64)
    splitter = make_splitter(
        config.eval.protocol,
        n_splits=config.eval.n_splits,
        repeats=config.eval.repeats,
        seed=config.seed,
    )
    train, test = splitter.holdout(y, pairs.group, test_size=config.eval.holdout)
    dev = splitter.cv_rows(len(y), train)
    folds = splitter.folds(y[dev], pairs.group[dev])
    return Prepared(
        pairs=pairs,
        x=x,
        y=y,
        groups=pairs.group,
        representation=representation,
        selections=selections,
        train=np.sort(train),
        test=np.sort(test),
        dev=dev,
        folds=tuple(folds),
        splitter=splitter,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Trained:
    """A network trained on one split, with the split's scaled data."""

    weights: MLPWeights
    data: FoldData


def _dev(prep: Prepared) -> tuple[FloatArray, IntArray, StrArray]:
    return prep.x[prep.dev], prep.y[prep.dev], prep.groups[prep.dev]


def _train_holdout(prep: Prepared, config: RunConfig, mlp: MLPConfig) -> Trained:
    """One network of ``mlp`` on the holdout's training part (its own seed key)."""
    hold = fold_data(prep.x, prep.y, (prep.train, prep.test), splitter=prep.splitter)
    job = fold_job(hold, mlp, seed=network_seed(config.seed, 0, HOLDOUT_KEY))
    (result,) = train_many([job], device=config.device, engine=config.engine)
    return Trained(weights=result.weights, data=hold)


def _score(weights: MLPWeights, data: FoldData) -> Metrics:
    return binary_metrics(data.y_val, weights.predict_proba(data.x_val)[:, 1])


def mlp_stage(
    prep: Prepared,
    config: RunConfig,
    *,
    mlp: MLPConfig | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
) -> tuple[MLPStage, CVResult, Trained]:
    """Cross-validate the MLP and train it once on the holdout's training part."""
    mlp = config.mlp if mlp is None else mlp
    x, y, g = _dev(prep)
    (cv,) = evaluate_configs(
        x,
        y,
        g,
        [mlp],
        splitter=prep.splitter,
        folds=prep.folds,
        seed=config.seed,
        device=config.device,
        engine=config.engine,
        on_epoch=on_epoch,
    )
    final = _train_holdout(prep, config, mlp)
    hold = final.data
    stage = MLPStage.scored(
        folds=[f.val for f in cv.folds],
        repeat=[f.fold.repeat for f in cv.folds],
        holdout=_score(final.weights, hold),
        config=NetworkSettings(hidden=mlp.hidden, epochs=mlp.epochs, lr=mlp.lr),
        sizes=tuple(final.weights.sizes),
        final_epoch=cv.final_epoch,
    )
    return stage, cv, final


def prune_trained(
    trained: Sequence[Trained],
    pruning: PruningConfig,
    *,
    finetune_epochs: int = 0,
    lr: float = 1e-4,
    batch_size: int = 12,
    seeds: Sequence[int] = (),
    device: str = "cpu",
    engine: str = "auto",
) -> list[tuple[MLPWeights, PruningReport]]:
    """Prune each network on its own training rows; optionally fine-tune all in one batch."""
    pruned = [prune(t.weights, t.data.x_train, config=pruning) for t in trained]
    if finetune_epochs <= 0:
        return [(p.weights, p.report) for p in pruned]
    jobs = [
        fold_job(
            t.data,
            MLPConfig(
                hidden=p.weights.hidden, epochs=finetune_epochs, lr=lr, batch_size=batch_size
            ),
            seed=seed,
            init=p.weights,
        )
        for t, p, seed in zip(trained, pruned, seeds or [0] * len(trained), strict=True)
    ]
    tuned = train_many(jobs, device=device, engine=engine)
    return [(r.weights, p.report) for r, p in zip(tuned, pruned, strict=True)]


def _fold_parts(prep: Prepared) -> list[FoldData]:
    """Each fold's scaled rows (the scaler fitted as the protocol says), in fold order."""
    x, y, _ = _dev(prep)
    return [fold_data(x, y, f, splitter=prep.splitter) for f in prep.folds]


def _fold_trained(cv: CVResult, parts: Sequence[FoldData]) -> list[Trained]:
    """Each fold's network beside the rows it was trained and validated on."""
    return [Trained(weights=f.weights, data=p) for f, p in zip(cv.folds, parts, strict=True)]


def pruned_stage(
    prep: Prepared, config: RunConfig, cv: CVResult, final: Trained
) -> tuple[PrunedStage, PruningReport, PruningSummary]:
    """Prune every fold's network on that fold's training rows, and the holdout network."""
    fold_nets = _fold_trained(cv, _fold_parts(prep))
    seeds = [network_seed(config.seed, f.fold.repeat, f.fold.index) for f in cv.folds]
    pruned = prune_trained(
        [*fold_nets, final],
        config.pruning,
        finetune_epochs=config.finetune_epochs,
        lr=config.mlp.lr,
        batch_size=config.mlp.batch_size,
        seeds=[*seeds, network_seed(config.seed, 0, HOLDOUT_KEY)],
        device=config.device,
        engine=config.engine,
    )
    fold_metrics = tuple(_score(w, t.data) for (w, _), t in zip(pruned, fold_nets, strict=False))
    final_weights, final_report = pruned[-1]
    summary = summarize_folds([r for _, r in pruned[:-1]])
    stage = PrunedStage.scored(
        folds=fold_metrics,
        repeat=[f.fold.repeat for f in cv.folds],
        holdout=_score(final_weights, final.data),
        pruning=final_report,
        pruning_folds=summary,
        finetune_epochs=config.finetune_epochs,
    )
    return stage, final_report, summary


def _fitness(metrics: Sequence[Metrics], name: str) -> float:
    values = [getattr(m, name) for m in metrics]
    finite = [v for v in values if not math.isnan(v)]
    return max(0.0, float(np.mean(finite))) if finite else 0.0


def ga_stage(
    prep: Prepared,
    config: RunConfig,
    *,
    checkpoint: Path | None = None,
    resume: bool = False,
    prune_networks: bool = True,
    on_generation: Callable[[GenerationRecord], None] | None = None,
) -> tuple[GAStage, GAResult]:
    """The GA over hidden size, epochs and learning rate, each individual's fitness its
    cross-validated score (after pruning, as the paper optimised the pruned network); then
    the best configuration trained on the training part, pruned, and checked on the holdout.
    """
    parts = _fold_parts(prep)  # once: every individual is scored on the same folds
    layout = config.ga.layout
    fold_scores: dict[Genes, tuple[Metrics, ...]] = {}

    def to_mlp(genes: Genes) -> MLPConfig:
        return MLPConfig(
            hidden=layout.hidden_sizes(genes),
            epochs=genes.epochs,
            lr=genes.learning_rate,
            batch_size=config.mlp.batch_size,
        )

    def fold_metrics(configs: Sequence[MLPConfig]) -> list[tuple[Metrics, ...]]:
        """Each configuration's validation metrics per fold: after pruning, or as trained."""
        after_pruning: dict[tuple[int, int], Metrics] = {}

        def prune_and_score(c: int, f: int, result: TrainResult) -> None:
            # Here, as each network is trained: the pruning overlaps the others' training.
            weights = prune_weights(result.weights, parts[f].x_train, config=config.pruning)
            after_pruning[c, f] = _score(weights, parts[f])

        trained = train_configs(
            parts,
            prep.folds,
            configs,
            seed=config.seed,
            device=config.device,
            engine=config.engine,
            history=False,
            on_result=prune_and_score if prune_networks else None,
        )
        if prune_networks:
            return [
                tuple(after_pruning[c, f] for f in range(len(parts))) for c in range(len(configs))
            ]
        # scored as trained, as evaluate_configs scores them (without their baselines)
        return [
            tuple(
                val_metrics(fold, part, r)
                for fold, part, r in zip(prep.folds, parts, results, strict=True)
            )
            for results in trained
        ]

    def evaluate(population: Sequence[Genes]) -> list[float]:
        scores = fold_metrics([to_mlp(genes) for genes in population])
        for genes, metrics in zip(population, scores, strict=True):
            fold_scores[genes] = metrics
        return [_fitness(metrics, config.ga.fitness) for metrics in scores]

    start = time.perf_counter()
    result = evolve(
        evaluate,
        config=config.ga,
        seed=config.seed,
        checkpoint=checkpoint,
        resume=resume,
        on_generation=on_generation,
    )
    seconds = time.perf_counter() - start
    best = result.best.genes
    if best not in fold_scores:  # resumed past the generation that found it
        evaluate([best])
    best_mlp = to_mlp(best)
    final = _train_holdout(prep, config, best_mlp)
    hold = final.data
    weights = final.weights
    if prune_networks:
        weights = prune_weights(weights, hold.x_train, config=config.pruning)
    stage = GAStage.scored(
        folds=fold_scores[best],
        repeat=[f.repeat for f in prep.folds],
        holdout=_score(weights, hold),
        best=BestIndividual(
            hidden=best.hidden,
            hidden_sizes=tuple(best_mlp.hidden),
            epochs=best.epochs,
            learning_rate=best.learning_rate,
            chromosome=result.best.chromosome,
            fitness=result.best.fitness,
        ),
        fitness_by_generation=tuple(
            GenerationFitness(generation=r.generation, best=r.best, mean=r.mean)
            for r in result.history
        ),
        pruned=prune_networks,
        cost=SearchCost(
            networks_trained=result.n_evaluated * len(prep.folds),
            network_epochs=result.epochs_per_fold * len(prep.folds),
            distinct_individuals=result.n_evaluated,
            seconds=seconds,
        ),
    )
    return stage, result


def majority_stage(prep: Prepared) -> StageScores:
    """The majority-class predictor on the same folds and holdout: the floor for every number."""
    y_dev = prep.y[prep.dev]
    return StageScores.scored(
        folds=[majority_baseline(y_dev[f.train], y_dev[f.val]) for f in prep.folds],
        repeat=[f.repeat for f in prep.folds],
        holdout=majority_baseline(prep.y[prep.train], prep.y[prep.test]),
    )


def controls(prep: Prepared) -> dict[str, ControlResult]:
    """Procrustes distance, and logistic regression on raw coordinates and on position only."""
    dev_pairs = prep.pairs.subset(prep.dev)
    return run_controls(dev_pairs, prep.folds)
