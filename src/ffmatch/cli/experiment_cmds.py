"""``ffmatch cv``, ``prune``, ``evolve`` and ``reproduce``: the experiment commands.

Each resolves its options into a ``RunConfig``, calls one function of
``ffmatch.paper.pipeline.run`` (which assembles the run and writes its folder) under a
progress bar, and prints what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ffmatch.cli import options as opt
from ffmatch.cli.app import app, command_line, is_quiet, prepare_training
from ffmatch.cli.common import out, print_json, progress_bar

if TYPE_CHECKING:
    from ffmatch.paper.pipeline.config import RunConfig
    from ffmatch.paper.pipeline.results import ProtocolMetrics
    from ffmatch.paper.pipeline.run import RunOutput, Step


JSON_OUT = typer.Option(False, "--json", help="Print the output paths as JSON.")


def _summary(m: ProtocolMetrics) -> None:
    """Print each stage's CV accuracy, F1, ROC-AUC and holdout accuracy beside the baseline."""
    from ffmatch.paper.report.builders import mean_sd, pct, stage_name, with_baseline

    grid = Table(title=f"protocol {m.protocol!r}, representation {m.representation!r}")
    for col in ("model", "CV accuracy", "CV F1", "CV ROC-AUC", "holdout accuracy"):
        grid.add_column(col, justify="left" if col == "model" else "right")
    for key, s in with_baseline(m):
        grid.add_row(
            stage_name(key, s),
            mean_sd(s.cv["accuracy"]),
            mean_sd(s.cv["f1"], "num"),
            mean_sd(s.cv["roc_auc"], "num"),
            pct(s.holdout.accuracy),
        )
    out.print(grid)


def _finish(result: RunOutput, *, json_out: bool) -> None:
    """Print the summary tables and what was written."""
    from ffmatch.paper.pipeline.results import ReproduceMetrics

    m = result.metrics
    if json_out:
        print_json({"out": str(result.folder), "metrics": str(result.folder / "metrics.json")})
        return
    _summary(m)
    if isinstance(m, ReproduceMetrics):
        _summary(m.other_protocol)
    for note in result.notes:
        out.print(note)
    out.print(
        f"wrote {result.folder}/ (metrics.json, config.toml, {', '.join(result.reports)}, figures/)"
    )


def _step(
    command: Step,
    config: RunConfig,
    out_dir: Path,
    total: int,
    *,
    overwrite: bool,
    yes: bool,
    **kw: Any,
) -> RunOutput:
    """Run one step with a progress bar over ``total`` epochs or generations."""
    from ffmatch.paper.pipeline.run import run_step

    opt.check_cost(command, config, yes=yes)
    opt.check_out_folder(out_dir, config, overwrite=overwrite, resume=kw.get("resume", False))
    unit = "generations" if command == "evolve" else "training"
    with progress_bar(unit, total, quiet=is_quiet()) as update:
        prepare_training(config.engine, config.device)
        return run_step(
            command, config, out_dir, command_line=command_line(), progress=update, **kw
        )


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
    engine: str | None = opt.ENGINE,
    config_path: Path | None = opt.CONFIG,
    overwrite: bool = opt.OVERWRITE,
    yes: bool = opt.YES,
    json_out: bool = JSON_OUT,
) -> None:
    """10-fold cross-validation of the MLP (56-20-10-2 by default), and a holdout check.

    Example: ffmatch cv --protocol paper --out runs/cv-paper
    """
    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device, engine=engine, repeats=repeats, epochs=epochs, hidden=hidden,
    )  # fmt: skip
    _finish(
        _step("cv", config, out_dir, config.mlp.epochs, overwrite=overwrite, yes=yes),
        json_out=json_out,
    )


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
        f"angles are measured. {opt.shown(opt.RUN, 'pruning.centring')}",
    ),
    layers: str | None = typer.Option(
        None,
        "--layers",
        help=f"first (the paper) or all hidden layers. {opt.shown(opt.RUN, 'pruning.layers')}",
    ),
    finetune_epochs: int | None = typer.Option(
        None,
        "--finetune-epochs",
        help="Fine-tune the pruned networks for this many epochs. "
        f"{opt.shown(opt.RUN, 'finetune_epochs')}",
    ),
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    engine: str | None = opt.ENGINE,
    config_path: Path | None = opt.CONFIG,
    overwrite: bool = opt.OVERWRITE,
    yes: bool = opt.YES,
    json_out: bool = JSON_OUT,
) -> None:
    """Train the MLP and prune it by distinctiveness (Gedeon), fold by fold.

    Example: ffmatch prune --protocol grouped --out runs/prune
    """
    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device, engine=engine, repeats=repeats, epochs=epochs, hidden=hidden,
        pruning={"centring": centring, "layers": layers}, finetune_epochs=finetune_epochs,
    )  # fmt: skip
    _finish(
        _step("prune", config, out_dir, config.mlp.epochs, overwrite=overwrite, yes=yes),
        json_out=json_out,
    )


GA_POPULATION = typer.Option(
    None, "--population", help=f"GA population size. {opt.shown(opt.RUN, 'ga.population')}"
)
GA_GENERATIONS = typer.Option(
    None, "--generations", help=f"GA generations. {opt.shown(opt.RUN, 'ga.generations')}"
)
GA_FITNESS = typer.Option(
    None,
    "--fitness",
    help="accuracy (the paper), f1, balanced_accuracy or roc_auc. "
    f"{opt.shown(opt.RUN, 'ga.fitness')}",
)
GA_ELITISM = typer.Option(
    None,
    "--elitism",
    help=f"Best individuals kept each generation. {opt.shown(opt.RUN, 'ga.elitism')}",
)


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
    engine: str | None = opt.ENGINE,
    config_path: Path | None = opt.CONFIG,
    overwrite: bool = opt.OVERWRITE,
    yes: bool = opt.YES,
    json_out: bool = JSON_OUT,
) -> None:
    """The genetic algorithm over hidden size, epochs and learning rate (section 2.4).

    Example: ffmatch evolve --protocol paper --out runs/evolve
    """
    config = opt.resolve(
        config_path, data=data, representation=representation, protocol=protocol, seed=seed,
        device=device,
        engine=engine,
        ga={"population": population, "generations": generations, "fitness": fitness,
            "elitism": elitism},
    )  # fmt: skip
    result = _step(
        "evolve",
        config,
        out_dir,
        config.ga.generations + 1,
        overwrite=overwrite,
        yes=yes,
        resume=resume,
        prune_networks=not no_prune,
    )
    _finish(result, json_out=json_out)


@app.command("reproduce")
def reproduce_cmd(
    out_dir: Path = opt.OUT,
    data: str | None = opt.DATA,
    protocol: str | None = opt.PROTOCOL,
    seed: int | None = opt.SEED,
    device: str | None = opt.DEVICE,
    engine: str | None = opt.ENGINE,
    config_path: Path | None = opt.CONFIG,
    overwrite: bool = opt.OVERWRITE,
    yes: bool = opt.YES,
    json_out: bool = JSON_OUT,
) -> None:
    """The whole paper on its own data: selection, MLP, pruning, GA, holdout, controls.

    Runs both protocols; --protocol chooses which one leads the report (grouped, the honest
    one, by default; paper reproduces the paper's procedure).

    Example: ffmatch reproduce --out runs/paper
    """
    from ffmatch.paper.pipeline.run import run_reproduce

    config = opt.resolve(
        config_path, data=data, protocol=protocol, seed=seed, device=device, engine=engine
    )
    opt.check_cost("reproduce", config, yes=yes)
    opt.check_out_folder(out_dir, config, overwrite=overwrite)
    with progress_bar("GA generations", 2 * (config.ga.generations + 1), quiet=is_quiet()) as bar:
        prepare_training(config.engine, config.device)
        result = run_reproduce(config, out_dir, command_line=command_line(), progress=bar)
    _finish(result, json_out=json_out)
