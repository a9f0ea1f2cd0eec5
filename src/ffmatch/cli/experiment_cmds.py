"""``ffmatch cv``, ``prune``, ``evolve`` and ``reproduce``: the experiment commands.

Each resolves its options into a ``RunConfig``, runs the pipeline with a progress bar, and
only then writes its run folder (``metrics.json``, ``config.toml``, ``figures/``, reports).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ffmatch.cli import options as opt
from ffmatch.cli.app import app, command_line, is_quiet, use_threads
from ffmatch.cli.common import out, print_json, progress_bar

if TYPE_CHECKING:
    from ffmatch.paper.search.ga import GenerationRecord


JSON_OUT = typer.Option(False, "--json", help="Print the output paths as JSON.")


def _start(out_dir: Path, config: Any) -> tuple[Any, Any]:
    """Make the run folder (before any work, so a bad --out fails fast), set the threads,
    and load and prepare the data."""
    from ffmatch.core.sources import load_pairs
    from ffmatch.paper.pipeline.runfolder import RunFolder
    from ffmatch.paper.pipeline.stages import prepare

    folder = RunFolder.create(out_dir)
    use_threads()
    return folder, prepare(config, load_pairs(config.data.data, seed=config.seed))


def _step_metrics(command: str, config: Any, prep: Any, stages: dict[str, Any]) -> dict[str, Any]:
    """The common head of a step's metrics.json."""
    from ffmatch.paper.pipeline.experiment import run_metrics
    from ffmatch.paper.pipeline.stages import majority_stage

    return {
        "command": command,
        "dataset": config.data.data,
        "seed": config.seed,
        **run_metrics(prep, {**stages, "majority": majority_stage(prep)}),
    }


def _summary(m: dict[str, Any]) -> None:
    """Print each stage's CV accuracy, F1, ROC-AUC and holdout accuracy beside the baseline."""
    from ffmatch.paper.report.builders import mean_sd, pct, stage_name

    stages = {**m["stages"], "majority": m["majority_baseline"]}
    grid = Table(title=f"protocol {m['protocol']!r}, representation {m['representation']!r}")
    for col in ("model", "CV accuracy", "CV F1", "CV ROC-AUC", "holdout accuracy"):
        grid.add_column(col, justify="left" if col == "model" else "right")
    for key, s in stages.items():
        grid.add_row(
            stage_name(key, s),
            mean_sd(s["cv"]["accuracy"]),
            mean_sd(s["cv"]["f1"], "num"),
            mean_sd(s["cv"]["roc_auc"], "num"),
            pct(s["holdout"]["accuracy"]),
        )
    out.print(grid)


def _finish(
    folder: Any,
    config: Any,
    metrics: dict[str, Any],
    blocks: list[Any],
    *,
    html: bool,
    json_out: bool,
) -> None:
    from ffmatch.paper.report.document import write_reports

    folder.json("metrics.json", metrics)
    folder.config(config)
    write_reports(blocks, folder.path, title="ffmatch", html_too=html)
    if json_out:
        print_json({"out": str(folder.path), "metrics": str(folder.path / "metrics.json")})
    else:
        reports = "report.md, report.html" if html else "report.md"
        out.print(f"wrote {folder.path}/ (metrics.json, config.toml, {reports}, figures/)")


@app.command("cv")
def cv_cmd(
    out_dir: Path = opt.OUT,
    data: str | None = opt.DATA,
    representation: str | None = opt.REPRESENTATION,
    protocol: str | None = opt.PROTOCOL,
    repeats: int | None = opt.REPEATS,
    epochs: int | None = opt.EPOCHS,
    hidden: str | None = opt.HIDDEN,
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    config_path: Path | None = opt.CONFIG,
    json_out: bool = JSON_OUT,
) -> None:
    """10-fold cross-validation of the MLP (56-20-10-2 by default), and a holdout check.

    Example: ffmatch cv --protocol paper --out runs/cv-paper
    """
    from ffmatch.paper.pipeline.stages import mlp_stage
    from ffmatch.paper.report.builders import step_report

    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device, repeats=repeats, epochs=epochs, hidden=hidden,
    )  # fmt: skip
    folder, prep = _start(out_dir, config)
    with progress_bar("training", config.mlp.epochs, quiet=is_quiet()) as update:
        mlp, cv, _ = mlp_stage(prep, config, on_epoch=update)
    metrics = {
        **_step_metrics("cv", config, prep, {"mlp": mlp}),
        "cv_folds": cv.to_dict(history=True),
    }
    figures = _cv_figures(folder, cv)
    blocks = step_report("ffmatch cv", metrics, figures, command_line())
    _summary(metrics)
    _finish(folder, config, metrics, blocks, html=False, json_out=json_out)


def _cv_figures(folder: Any, cv: Any) -> dict[str, str]:
    from ffmatch.cli.figures import save_cv_figures

    return save_cv_figures(folder, cv)


@app.command("prune")
def prune_cmd(
    out_dir: Path = opt.OUT,
    data: str | None = opt.DATA,
    representation: str | None = opt.REPRESENTATION,
    protocol: str | None = opt.PROTOCOL,
    repeats: int | None = opt.REPEATS,
    epochs: int | None = opt.EPOCHS,
    hidden: str | None = opt.HIDDEN,
    centring: str | None = typer.Option(
        None,
        "--centring",
        help="none, mean or half: how ReLU activations are centred before "
        "angles are measured. [default: mean]",
    ),
    layers: str | None = typer.Option(
        None, "--layers", help="first (the paper) or all hidden layers. [default: first]"
    ),
    finetune_epochs: int | None = typer.Option(
        None,
        "--finetune-epochs",
        help="Fine-tune the pruned networks for this many epochs. [default: 0]",
    ),
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    config_path: Path | None = opt.CONFIG,
    json_out: bool = JSON_OUT,
) -> None:
    """Train the MLP and prune it by distinctiveness (Gedeon), fold by fold.

    Example: ffmatch prune --protocol grouped --out runs/prune
    """
    from ffmatch.paper.pipeline.stages import mlp_stage, pruned_stage
    from ffmatch.paper.report.builders import step_report
    from ffmatch.paper.report.document import Block, Heading, Paragraph

    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device, repeats=repeats, epochs=epochs, hidden=hidden,
        pruning={"centring": centring, "layers": layers}, finetune_epochs=finetune_epochs,
    )  # fmt: skip
    folder, prep = _start(out_dir, config)
    with progress_bar("training", config.mlp.epochs, quiet=is_quiet()) as update:
        mlp, cv, final = mlp_stage(prep, config, on_epoch=update)
    pruned, report, summary = pruned_stage(prep, config, cv, final)
    metrics = {
        **_step_metrics("prune", config, prep, {"mlp": mlp, "pruned": pruned}),
        "pruning": {**report.to_dict(), "folds": summary.to_dict()},
    }
    figures = _cv_figures(folder, cv)
    extra: list[Block] = [
        Paragraph(
            text="Each fold's network is pruned on that fold's training rows only; the "
            "holdout network on the holdout's training part."
        ),
        Heading(text="Pruning of the holdout network"),
        Paragraph(text=report.to_markdown(title="", level=3).strip()),
        Paragraph(text=summary.to_markdown(title="Pruning across folds", level=3).strip()),
    ]
    blocks = step_report("ffmatch prune", metrics, figures, command_line(), extra)
    _summary(metrics)
    out.print(
        f"pruned holdout network: units {report.units_before} -> {report.units_after}, "
        f"parameters {report.params_before} -> {report.params_after}"
    )
    _finish(folder, config, metrics, blocks, html=False, json_out=json_out)


GA_POPULATION = typer.Option(None, "--population", help="GA population size. [default: 10]")
GA_GENERATIONS = typer.Option(None, "--generations", help="GA generations. [default: 10]")
GA_FITNESS = typer.Option(
    None, "--fitness", help="accuracy (the paper), f1, balanced_accuracy or roc_auc."
)
GA_ELITISM = typer.Option(None, "--elitism", help="Best individuals kept each generation. [0]")


@app.command("evolve")
def evolve_cmd(
    out_dir: Path = opt.OUT,
    data: str | None = opt.DATA,
    representation: str | None = opt.REPRESENTATION,
    protocol: str | None = opt.PROTOCOL,
    population: int | None = GA_POPULATION,
    generations: int | None = GA_GENERATIONS,
    fitness: str | None = GA_FITNESS,
    elitism: int | None = GA_ELITISM,
    no_prune: bool = typer.Option(
        False, "--no-prune", help="Score individuals unpruned (the paper prunes)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue from the run folder's checkpoint.json."
    ),
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    config_path: Path | None = opt.CONFIG,
    json_out: bool = JSON_OUT,
) -> None:
    """The genetic algorithm over hidden size, epochs and learning rate (section 2.4).

    Example: ffmatch evolve --protocol paper --out runs/evolve
    """
    from ffmatch.cli.figures import save_ga_figures
    from ffmatch.paper.pipeline.stages import ga_stage
    from ffmatch.paper.report.builders import step_report
    from ffmatch.paper.report.document import Block, Heading, Paragraph

    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device,
        ga={"population": population, "generations": generations, "fitness": fitness,
            "elitism": elitism},
    )  # fmt: skip
    folder, prep = _start(out_dir, config)
    with progress_bar("generations", config.ga.generations + 1, quiet=is_quiet()) as update:
        stage, result = ga_stage(
            prep,
            config,
            checkpoint=folder.path / "checkpoint.json",
            resume=resume,
            prune_networks=not no_prune,
            on_generation=lambda rec: update(rec.generation + 1, config.ga.generations + 1),
        )
    metrics = {**_step_metrics("evolve", config, prep, {"ga": stage}), "ga": result.to_dict()}
    figures = save_ga_figures(folder, result)
    best = stage.details["best"]
    extra: list[Block] = [
        Heading(text="Best individual"),
        Paragraph(
            text=(
                f"hidden {best['hidden_sizes']}, {best['epochs']} epochs, learning rate "
                f"{best['learning_rate']:.3g}, chromosome {best['chromosome']}, fitness "
                f"{best['fitness']:.3f} ({config.ga.fitness}, mean over folds)."
            )
        ),
    ]
    blocks = step_report("ffmatch evolve", metrics, figures, command_line(), extra)
    _summary(metrics)
    cost = stage.details["cost"]
    out.print(
        f"best: hidden {best['hidden_sizes']}, {best['epochs']} epochs, lr "
        f"{best['learning_rate']:.3g}; {cost['networks_trained']} networks in "
        f"{cost['seconds']:.1f} s"
    )
    _finish(folder, config, metrics, blocks, html=False, json_out=json_out)


def _offset_progress(
    update: Callable[[int, int], None], offset: int, total: int
) -> Callable[[GenerationRecord], None]:
    """A GA progress callback that counts on from ``offset``."""

    def on_generation(record: GenerationRecord) -> None:
        update(offset + record.generation + 1, total)

    return on_generation


@app.command("reproduce")
def reproduce_cmd(
    out_dir: Path = opt.OUT,
    data: str | None = opt.DATA,
    protocol: str | None = opt.PROTOCOL,
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    config_path: Path | None = opt.CONFIG,
    json_out: bool = JSON_OUT,
) -> None:
    """The whole paper on its own data: selection, MLP, pruning, GA, holdout, controls.

    Runs both protocols; --protocol chooses which one leads the report (grouped, the honest
    one, by default; paper reproduces the paper's procedure).

    Example: ffmatch reproduce --out runs/paper
    """
    from ffmatch.cli.figures import save_cv_figures, save_ga_figures
    from ffmatch.core.sources import load_pairs
    from ffmatch.paper.pipeline.experiment import reproduce_metrics, run_protocol, with_protocol
    from ffmatch.paper.pipeline.runfolder import RunFolder
    from ffmatch.paper.report.builders import build

    config = opt.resolve(config_path, data=data, protocol=protocol, seed=seed, device=device)
    folder = RunFolder.create(out_dir)
    use_threads()
    pairs = load_pairs(config.data.data, seed=config.seed)
    primary_protocol = config.eval.protocol
    other_protocol = "paper" if primary_protocol == "grouped" else "grouped"
    runs = {}
    total = 2 * (config.ga.generations + 1)
    with progress_bar("GA generations", total, quiet=is_quiet()) as update:
        for k, name in enumerate((primary_protocol, other_protocol)):
            runs[name] = run_protocol(
                with_protocol(config, name),
                pairs,
                on_generation=_offset_progress(update, k * (config.ga.generations + 1), total),
            )
    metrics = {"command": "reproduce", **reproduce_metrics(runs[primary_protocol],
                                                             runs[other_protocol])}  # fmt: skip
    lead = runs[primary_protocol]
    figures = {
        **save_cv_figures(folder, lead.cv),
        **save_ga_figures(folder, lead.ga),
    }
    blocks = build(metrics, figures, command_line())
    _summary(metrics)
    _summary(metrics["other_protocol"])
    _finish(folder, config, metrics, blocks, html=True, json_out=json_out)
