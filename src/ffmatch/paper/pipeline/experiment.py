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
from ffmatch.paper.pipeline.results import (
    MLPStage,
    ProtocolMetrics,
    ReproduceMetrics,
    SelectionRecord,
    Stages,
    StageScores,
)
from ffmatch.paper.pipeline.stages import (
    Prepared,
    controls,
    ga_stage,
    majority_stage,
    mlp_stage,
    prepare,
    pruned_stage,
)
from ffmatch.paper.pruning import PruningReport, PruningSummary
from ffmatch.paper.search.ga import GAResult, GenerationRecord


@dataclass(frozen=True, kw_only=True, slots=True)
class ProtocolRun:
    """Everything one protocol's run produced."""

    config: RunConfig
    prepared: Prepared
    stages: Stages
    majority: StageScores
    cv: CVResult  # the MLP stage's folds, with per-epoch histories (for the figures)
    pruning: PruningReport  # of the holdout network
    pruning_folds: PruningSummary
    ga: GAResult
    controls: dict[str, ControlResult]

    @property
    def mlp(self) -> MLPStage:
        """The MLP stage (every protocol run has one)."""
        if self.stages.mlp is None:
            raise ValueError("a protocol run without its MLP stage")
        return self.stages.mlp

    def metrics(self) -> ProtocolMetrics:
        """Its part of ``metrics.json``: every stage, the baseline and the controls."""
        return ProtocolMetrics(
            **run_counts(self.prepared),
            stages=self.stages,
            majority_baseline=self.majority,
            controls=self.controls,
        )


def run_counts(prep: Prepared) -> dict[str, Any]:
    """The data and fold counts every run's ``metrics.json`` starts with (the fields of
    ``ProtocolMetrics`` before the stages)."""
    return {
        "protocol": prep.protocol,
        "representation": prep.representation,
        "n_pairs": len(prep.y),
        "n_holdout": len(prep.test),
        "n_cv_rows": len(prep.dev),
        "n_folds": len(prep.folds),
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
        stages=Stages(mlp=mlp, pruned=pruned, ga=ga),
        majority=majority_stage(prep),
        cv=cv,
        pruning=report,
        pruning_folds=summary,
        ga=ga_result,
        controls=controls(prep),
    )


def with_protocol(config: RunConfig, protocol: Protocol) -> RunConfig:
    """``config`` with another evaluation protocol."""
    return dataclasses.replace(config, eval=dataclasses.replace(config.eval, protocol=protocol))


def reproduce_metrics(primary: ProtocolRun, other: ProtocolRun) -> ReproduceMetrics:
    """``metrics.json`` of ``ffmatch reproduce``: the primary protocol at the top level."""
    lead = primary.metrics()
    return ReproduceMetrics(
        **{f.name: getattr(lead, f.name) for f in dataclasses.fields(lead)},
        dataset=primary.config.data.data,
        seed=primary.config.seed,
        selection=SelectionRecord.of(
            primary.config.data.selection_rule, primary.prepared.selections
        ),
        other_protocol=other.metrics(),
    )
