"""One run, assembled: load, prepare, stages, figures, report, files.

``run_step`` (``ffmatch cv``, ``prune``, ``evolve``) and ``run_reproduce`` (both protocols,
the paper end to end) are what the commands call; they compute, write ``metrics.json``,
``config.toml``, ``figures/`` and the reports into a staging folder, and only then swap those
in place of an earlier run's files (``replacing_run``): a run that fails or is killed leaves
the earlier run as it was. The CLI parses arguments and prints what they return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ffmatch.core.io.output import replacing_run, run_files
from ffmatch.core.metrics import pooled_confusion
from ffmatch.core.serial import to_document
from ffmatch.core.sources import load_pairs
from ffmatch.core.splits import Protocol
from ffmatch.paper.evaluation.cv import CVResult
from ffmatch.paper.pipeline.config import RunConfig
from ffmatch.paper.pipeline.experiment import (
    ProtocolRun,
    reproduce_metrics,
    run_counts,
    run_protocol,
    with_protocol,
)
from ffmatch.paper.pipeline.results import (
    PAPER,
    CVRecord,
    MLPStage,
    PaperCV,
    PruningRecord,
    ReproduceMetrics,
    Stages,
    StageScores,
    StepMetrics,
)
from ffmatch.paper.pipeline.runfolder import RunFolder
from ffmatch.paper.pipeline.stages import (
    Prepared,
    ga_stage,
    majority_stage,
    mlp_stage,
    prepare,
    pruned_stage,
)
from ffmatch.paper.report import provenance
from ffmatch.paper.report.builders import build, stage_name, step_report
from ffmatch.paper.report.document import Block, Heading, Paragraph, write_reports
from ffmatch.paper.search.ga import GAResult, GenerationRecord

if TYPE_CHECKING:  # the figure modules import matplotlib: only when figures are saved
    from ffmatch.paper.report.cv_figures import Quantity

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: called as epochs or generations complete."""

Step = Literal["cv", "prune", "evolve"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RunOutput:
    """What a run wrote, and what the terminal shows of it."""

    folder: Path
    metrics: StepMetrics | ReproduceMetrics
    reports: tuple[str, ...]  # report file names written in ``folder``
    notes: tuple[str, ...] = ()  # one-line findings beside the summary tables


def save_cv_figures(
    folder: RunFolder,
    cv: CVResult,
    mlp: MLPStage,
    prefix: str = "",
    *,
    paper: PaperCV | None = None,
) -> dict[str, str]:
    """The paper's Fig. 1-1 to 1-4 (``paper``'s values marked), learning curves and the
    pooled confusion matrix of the MLP stage's folds."""
    from ffmatch.paper.report.cv_figures import (
        confusion_figure,
        learning_curves_figure,
        paper_fold_figures,
    )

    marks: dict[Quantity, float] | None = None
    if paper is not None:
        marks = {
            "train_accuracy": paper.train_accuracy,
            "val_accuracy": paper.val_accuracy,
            "train_loss": paper.train_loss,
            "val_loss": paper.val_loss,
        }
    out = {
        stem: folder.figure(prefix + stem, fig)
        for stem, fig in paper_fold_figures(cv, marks).items()
    }
    out["learning_curves"] = folder.figure(prefix + "learning_curves", learning_curves_figure(cv))
    confusion = pooled_confusion([f.val for f in cv.folds])
    title = (
        f"{stage_name('mlp', mlp)}: validation confusion matrix,\npooled over "
        f"{len(cv.folds)} folds ({cv.protocol} protocol)"
    )
    out["confusion"] = folder.figure(prefix + "confusion", confusion_figure(confusion, title=title))
    return out


def save_ga_figures(
    folder: RunFolder,
    result: GAResult,
    baseline: StageScores,
    prefix: str = "",
    *,
    protocol: str | None = None,
) -> dict[str, str]:
    """Fitness per generation (Fig. 2-1), beside the majority class's score of the same
    fitness on the same folds, and the population's genes."""
    from ffmatch.paper.report.ga_figures import fitness_figure, genes_figure

    floor = baseline.cv[result.config.fitness].mean
    return {
        "ga_fitness": folder.figure(
            prefix + "ga_fitness", fitness_figure(result, baseline=floor, protocol=protocol)
        ),
        "ga_genes": folder.figure(prefix + "ga_genes", genes_figure(result)),
    }


def _folds_used(runs: Mapping[str, Prepared], config: RunConfig) -> dict[str, str]:
    """config.toml's comment on ``eval.n_splits`` where a protocol used fewer folds (the
    grouped one makes at most one per group)."""
    used = {name: len(p.folds) // config.eval.repeats for name, p in runs.items()}
    if all(n == config.eval.n_splits for n in used.values()):
        return {}
    text = ", ".join(f"{name} {n}" for name, n in used.items())
    return {"eval.n_splits": f"folds used: {text} (at most one per group)"}


def _write(
    folder: RunFolder,
    config: RunConfig,
    metrics: StepMetrics | ReproduceMetrics,
    blocks: list[Block],
    *,
    html: bool,
    comments: Mapping[str, str],
) -> tuple[str, ...]:
    folder.json("metrics.json", to_document(metrics))
    folder.config(config, comments=comments)
    write_reports(blocks, folder.path, title="ffmatch", html_too=html)
    return ("report.md", "report.html") if html else ("report.md",)


def _step_metrics(command: Step, config: RunConfig, prep: Prepared, **parts: object) -> dict:  # type: ignore[type-arg]
    return {
        **run_counts(prep),
        "command": command,
        "dataset": config.data.data,
        "seed": config.seed,
        "majority_baseline": majority_stage(prep),
        **parts,
    }


def run_step(
    command: Step,
    config: RunConfig,
    out_dir: Path,
    *,
    command_line: str,
    progress: ProgressFn | None = None,
    resume: bool = False,
    prune_networks: bool = True,
) -> RunOutput:
    """One pipeline step under ``config``: ``cv`` trains and cross-validates the MLP,
    ``prune`` also prunes it, ``evolve`` runs the GA (``resume``: from the folder's
    checkpoint; ``prune_networks``: score individuals pruned, as the paper did).

    The GA's checkpoint is written straight into ``out_dir`` when resuming or when the
    folder holds no earlier run, so a killed run can be resumed; when it replaces an earlier
    run it stays in the staging folder until the end, and the earlier run stays whole.
    """
    in_place = command == "evolve" and (resume or not run_files(out_dir))
    with replacing_run(out_dir, in_place=("checkpoint.json",) if in_place else ()) as staging:
        checkpoint = (out_dir if in_place else staging) / "checkpoint.json"
        output = _run_step(
            command,
            config,
            RunFolder.create(staging),
            command_line=command_line,
            progress=progress,
            checkpoint=checkpoint,
            resume=resume,
            prune_networks=prune_networks,
        )
    return dataclasses.replace(output, folder=out_dir)


def _run_step(
    command: Step,
    config: RunConfig,
    folder: RunFolder,
    *,
    command_line: str,
    progress: ProgressFn | None,
    checkpoint: Path,
    resume: bool,
    prune_networks: bool,
) -> RunOutput:
    prep = prepare(config, load_pairs(config.data.data, seed=config.seed))
    notes: list[str] = []
    extra: list[Block] = []
    if command == "evolve":
        generations = config.ga.generations + 1
        stage, result = ga_stage(
            prep,
            config,
            checkpoint=checkpoint,
            resume=resume,
            prune_networks=prune_networks,
            on_generation=None
            if progress is None
            else lambda rec: progress(rec.generation + 1, generations),
        )
        metrics = StepMetrics(
            **_step_metrics(command, config, prep, stages=Stages(ga=stage), ga=result.to_dict())
        )
        figures = save_ga_figures(folder, result, metrics.majority_baseline, protocol=prep.protocol)
        best = stage.best
        extra = [
            Heading(text="Best individual"),
            Paragraph(
                text=(
                    f"hidden {list(best.hidden_sizes)}, {best.epochs} epochs, learning rate "
                    f"{best.learning_rate:.3g}, chromosome {best.chromosome}, fitness "
                    f"{best.fitness:.3f} ({config.ga.fitness}, mean over folds)."
                )
            ),
        ]
        notes.append(
            f"best: hidden {list(best.hidden_sizes)}, {best.epochs} epochs, lr "
            f"{best.learning_rate:.3g}; {stage.cost.networks_trained} networks in "
            f"{stage.cost.seconds:.1f} s"
        )
    else:
        mlp, cv, final = mlp_stage(prep, config, on_epoch=progress)
        figures = save_cv_figures(folder, cv, mlp)
        if command == "cv":
            metrics = StepMetrics(
                **_step_metrics(
                    command, config, prep, stages=Stages(mlp=mlp), cv_folds=CVRecord.of(cv)
                )
            )
        else:
            pruned, report, summary = pruned_stage(prep, config, cv, final)
            metrics = StepMetrics(
                **_step_metrics(
                    command,
                    config,
                    prep,
                    stages=Stages(mlp=mlp, pruned=pruned),
                    pruning=PruningRecord.of(report, summary),
                )
            )
            extra = [
                Paragraph(
                    text="Each fold's network is pruned on that fold's training rows only; the "
                    "holdout network on the holdout's training part."
                ),
                Heading(text="Pruning of the holdout network"),
                Paragraph(text=report.to_markdown(title="", level=3).strip()),
                Paragraph(text=summary.to_markdown(title="Pruning across folds", level=3).strip()),
            ]
            notes.append(
                f"pruned holdout network: units {report.units_before} -> {report.units_after}, "
                f"parameters {report.params_before} -> {report.params_after}"
            )
    blocks = step_report(
        f"ffmatch {command}", metrics, figures, command_line, extra, provenance.collect()
    )
    comments = _folds_used({prep.protocol: prep}, config)
    reports = _write(folder, config, metrics, blocks, html=False, comments=comments)
    return RunOutput(folder=folder.path, metrics=metrics, reports=reports, notes=tuple(notes))


def other_protocol(name: Protocol) -> Protocol:
    """The protocol ``reproduce`` runs beside ``name``."""
    return "paper" if name == "grouped" else "grouped"


def run_reproduce(
    config: RunConfig,
    out_dir: Path,
    *,
    command_line: str,
    progress: ProgressFn | None = None,
) -> RunOutput:
    """The paper end to end under both protocols, ``config.eval.protocol`` leading the report;
    the files replace an earlier run's in ``out_dir`` once all is done."""
    with replacing_run(out_dir) as staging:
        output = _run_reproduce(
            config, RunFolder.create(staging), command_line=command_line, progress=progress
        )
    return dataclasses.replace(output, folder=out_dir)


def _run_reproduce(
    config: RunConfig, folder: RunFolder, *, command_line: str, progress: ProgressFn | None
) -> RunOutput:
    pairs = load_pairs(config.data.data, seed=config.seed)
    lead_name = config.eval.protocol
    per_run = config.ga.generations + 1
    runs: list[ProtocolRun] = []
    for k, name in enumerate((lead_name, other_protocol(lead_name))):

        def on_generation(record: GenerationRecord, offset: int = k * per_run) -> None:
            if progress is not None:
                progress(offset + record.generation + 1, 2 * per_run)

        runs.append(run_protocol(with_protocol(config, name), pairs, on_generation=on_generation))
    lead, other = runs
    metrics = reproduce_metrics(lead, other)
    figures = {}
    for k, run in enumerate(runs):
        # the leading protocol's files keep the plain names; the other's carry its name
        prefix = "" if k == 0 else f"{run.prepared.protocol}_"
        figures[run.prepared.protocol] = {
            **save_cv_figures(folder, run.cv, run.mlp, prefix, paper=PAPER.pruned_cv),
            **save_ga_figures(folder, run.ga, run.majority, prefix, protocol=run.prepared.protocol),
        }
    blocks = build(metrics, figures, command_line, provenance.collect())
    comments = _folds_used({r.prepared.protocol: r.prepared for r in runs}, config)
    reports = _write(folder, config, metrics, blocks, html=True, comments=comments)
    return RunOutput(folder=folder.path, metrics=metrics, reports=reports)
