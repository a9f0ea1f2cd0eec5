"""The paper end to end under one protocol: selection, MLP, pruning, GA, baselines, controls."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ffmatch.core.splits import Protocol
from ffmatch.core.table import PairTable
from ffmatch.paper.evaluation.controls import ControlResult
from ffmatch.paper.evaluation.cv import CVResult
from ffmatch.paper.pipeline.config import RunConfig
from ffmatch.paper.pipeline.stages import (
    Prepared,
    StageResult,
    controls,
    ga_stage,
    majority_stage,
    mlp_stage,
    prepare,
    pruned_stage,
)
from ffmatch.paper.pruning import PruningReport, PruningSummary
from ffmatch.paper.search.ga import GAResult, GenerationRecord

# What the paper reports (sections 2.1, 3.1, 3.2; Tables 5 and 6), for the report's comparison.
PAPER = {
    "selection_weights": {"distances": 21, "proportions": 19, "ffms": 22},
    "pruned_cv": {"train_accuracy": 0.63939, "val_accuracy": 0.66667, "train_loss": 0.6460,
                  "val_loss": 0.6591},
    "pruned_holdout": {"accuracy": 6 / 9, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                       "confusion": [[6, 0], [3, 0]]},
    "ga_holdout": {"accuracy": 7 / 9, "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3,
                   "confusion": [[5, 1], [1, 2]]},
}  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class ProtocolRun:
    """Everything one protocol's run produced."""

    config: RunConfig
    prepared: Prepared
    stages: dict[str, StageResult]  # mlp, pruned, ga, majority
    cv: CVResult  # the MLP stage's folds, with per-epoch histories (for the figures)
    pruning: PruningReport  # of the holdout network
    pruning_folds: PruningSummary
    ga: GAResult
    controls: dict[str, ControlResult]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``stages`` with cv/holdout per stage, the baseline, the controls."""
        return {
            **run_metrics(self.prepared, self.stages),
            "controls": {k: v.to_dict() for k, v in self.controls.items()},
        }


def run_metrics(prep: Prepared, stages: dict[str, StageResult]) -> dict[str, Any]:
    """The common part of every run's ``metrics.json``: the data, the folds, each stage's
    cross-validated and holdout scores, and the majority baseline beside them."""
    return {
        "protocol": prep.protocol,
        "representation": prep.representation,
        "n_pairs": len(prep.y),
        "n_holdout": len(prep.test),
        "n_cv_rows": len(prep.dev),
        "n_folds": len(prep.folds),
        "stages": {k: v.to_dict() for k, v in stages.items() if k != "majority"},
        "majority_baseline": stages["majority"].to_dict(),
    }


def run_protocol(
    config: RunConfig,
    pairs: PairTable,
    *,
    checkpoint: Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[int, int], None] | None = None,
    on_generation: Callable[[GenerationRecord], None] | None = None,
) -> ProtocolRun:
    """Run every stage of the paper under ``config.eval.protocol``."""
    prep = prepare(config, pairs)
    mlp, cv, final = mlp_stage(prep, config, on_epoch=on_epoch)
    pruned, report, summary = pruned_stage(prep, config, cv, final)
    ga, ga_result = ga_stage(
        prep, config, checkpoint=checkpoint, resume=resume, on_generation=on_generation
    )
    return ProtocolRun(
        config=config,
        prepared=prep,
        stages={"mlp": mlp, "pruned": pruned, "ga": ga, "majority": majority_stage(prep)},
        cv=cv,
        pruning=report,
        pruning_folds=summary,
        ga=ga_result,
        controls=controls(prep),
    )


def with_protocol(config: RunConfig, protocol: Protocol) -> RunConfig:
    """``config`` with another evaluation protocol."""
    return dataclasses.replace(config, eval=dataclasses.replace(config.eval, protocol=protocol))


def reproduce_metrics(primary: ProtocolRun, other: ProtocolRun) -> dict[str, Any]:
    """``metrics.json`` of ``ffmatch reproduce``: the primary protocol at the top level."""
    prep = primary.prepared
    rule = primary.config.data.selection_rule
    selection = prep.selections.get(rule)
    return {
        "dataset": primary.config.data.data,
        "seed": primary.config.seed,
        "selection": {
            **(selection.to_dict() if selection else {"rule": rule}),
            "rules": {k: v.to_dict() for k, v in prep.selections.items()},
        },
        **primary.to_dict(),
        "other_protocol": other.to_dict(),
        "paper": PAPER,
    }
