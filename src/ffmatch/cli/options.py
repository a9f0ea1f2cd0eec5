"""Options shared by the experiment commands, and their resolution into a ``RunConfig``.

A command starts from ``--config FILE`` (or the defaults) and applies only the options given
on the command line, so a saved ``config.toml`` reruns a run exactly.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import typer

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.config import check_engine
from ffmatch.paper.pipeline.config import RunConfig


def shown(config: object, dotted: str) -> str:
    """``[default: X]`` for ``--help``, read from a config dataclass's field ``dotted``
    (e.g. ``"mlp.epochs"``): defaults live in the config classes only."""
    value = functools.reduce(getattr, dotted.split("."), config)
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return f"[default: {value}]"


RUN = RunConfig()

DATA = typer.Option(
    None,
    "--data",
    "-d",
    help="Dataset (paper, paper-computed, paper-workbook, muct) or landmark file. "
    f"{shown(RUN, 'data.data')}",
)
REPRESENTATION = typer.Option(
    None,
    "--representation",
    "-r",
    help="ffms, distances, proportions (the paper), aligned-diff, aligned-pair (pose-invariant),"
    f" or 'selected' (by the selection rule). {shown(RUN, 'data.representation')}",
)
PROTOCOL = typer.Option(
    None,
    "--protocol",
    "-p",
    help="grouped (honest: sets kept together, scaler fitted inside) or paper (as the paper "
    f"did). {shown(RUN, 'eval.protocol')}",
)
SEED = typer.Option(
    None, "--seed", help=f"The one seed behind every random choice. {shown(RUN, 'seed')}"
)
DEVICE = typer.Option(None, "--device", help=f"cpu or cuda. {shown(RUN, 'device')}")
ENGINE = typer.Option(
    None,
    "--engine",
    help="How networks train: auto (compiled on the CPU, stacked on a GPU), compiled, or "
    f"stacked (on the CPU, the numbers of ffmatch 0.1). {shown(RUN, 'engine')}",
)
REPEATS = typer.Option(
    None,
    "--repeats",
    help=f"Repeat the cross-validation with new seeds. {shown(RUN, 'eval.repeats')}",
)
CONFIG = typer.Option(
    None, "--config", "-c", help="A config.toml (as written beside every result) to start from."
)
OUT = typer.Option(..., "--out", "-o", help="Run folder to write the results into.")
EPOCHS = typer.Option(
    None, "--epochs", help=f"Training epochs of the MLP. {shown(RUN, 'mlp.epochs')}"
)
HIDDEN = typer.Option(
    None,
    "--hidden",
    help=f"Hidden layer sizes, comma-separated, e.g. 20,10. {shown(RUN, 'mlp.hidden')}",
)


MAX_SEED = 2**32 - 1  # numpy.random.SeedSequence takes any int; torch and random take 64 bits
MAX_JOBS = 64  # worker processes: each holds a MediaPipe graph (~200 MB)
MAX_THREADS = 256  # PyTorch threads; 100000 crashes its thread pool
MAX_HIDDEN = 4096  # units per hidden layer: the paper's largest is 100
MAX_LAYERS = 8
MAX_REPEATS = 1000
MAX_EPOCHS = 100_000
MAX_GA_SIZE = 10_000  # population, generations


OVERWRITE = typer.Option(
    False,
    "--overwrite",
    help="Replace an earlier run's results in the --out folder (once the new run has finished).",
)


YES = typer.Option(
    False,
    "--yes",
    help="Start even a job estimated to need more memory than the machine "
    "has, or over an hour of training.",
)


def check_cost(command: Any, config: Any, *, yes: bool) -> None:
    """ConfigError with the estimate when the job is far past the usual size, unless --yes."""
    from ffmatch.paper.pipeline.cost import check_cost as check
    from ffmatch.paper.pipeline.cost import estimate, machine_memory

    check(estimate(config, command), memory=machine_memory(), yes=yes)


def check_benchmark_cost(config: Any, *, yes: bool, jobs: int = 1) -> None:
    """``check_cost`` for ``ffmatch benchmark``: its MLPs on the table it will load, its
    folds in ``jobs`` processes."""
    from ffmatch.benchmark.cost import benchmark_size, estimate_benchmark
    from ffmatch.paper.pipeline.cost import check_cost as check
    from ffmatch.paper.pipeline.cost import machine_memory

    people, photos = benchmark_size(config)
    cost = estimate_benchmark(config, people=people, photos=photos, jobs=jobs)
    check(cost, memory=machine_memory(), yes=yes)


def check_out_folder(out_dir: Path, config: Any, *, overwrite: bool, resume: bool = False) -> None:
    """The run folder checked before the run: not holding another run, not an input."""
    from ffmatch.core.io.output import check_output_folder

    inputs = [config.data.data] if Path(config.data.data).exists() else []
    check_output_folder(out_dir, overwrite=overwrite, resume=resume, inputs=inputs)


def check_range(option: str, value: int | None, low: int, high: int) -> None:
    """ConfigError unless ``value`` (when given) is an integer in ``low..high``."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{option}: expected an integer in {low}..{high}, found {value!r}")


def check_device(device: str) -> None:
    """ConfigError unless ``device`` is cpu, or a CUDA device this machine has."""
    if device != "cpu" and device != "cuda" and not device.startswith("cuda:"):
        raise ConfigError(f"--device: expected cpu or cuda, found {device!r}")
    if device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            f"--device {device}: CUDA is not available on this machine (PyTorch finds no GPU); "
            "use --device cpu"
        )
    index = device.partition(":")[2]
    if index and not (index.isdigit() and int(index) < torch.cuda.device_count()):
        raise ConfigError(
            f"--device {device}: expected cuda:0..cuda:{torch.cuda.device_count() - 1}"
        )


def parse_hidden(text: str | None) -> tuple[int, ...] | None:
    """``"20,10"`` to ``(20, 10)``; a clear error for anything else."""
    if text is None:
        return None
    parts = text.split(",")
    if not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise ConfigError(
            f"--hidden: expected sizes separated by commas, e.g. 20,10; found {text!r}"
        )
    sizes = tuple(int(part) for part in parts)
    if len(sizes) > MAX_LAYERS or not all(1 <= h <= MAX_HIDDEN for h in sizes):
        raise ConfigError(
            f"--hidden: expected 1 to {MAX_LAYERS} sizes in 1..{MAX_HIDDEN}, found {text!r}"
        )
    return sizes


def check_run_config(config: Any) -> None:
    """ConfigError for settings out of range, from the command line or a config file."""
    check_range("seed", config.seed, 0, MAX_SEED)
    check_range("finetune_epochs", config.finetune_epochs, 0, MAX_EPOCHS)
    check_range("eval.repeats", config.eval.repeats, 1, MAX_REPEATS)
    check_range("mlp.epochs", config.mlp.epochs, 1, MAX_EPOCHS)
    check_range("mlp.batch_size", config.mlp.batch_size, 1, 1_000_000)
    check_range("ga.population", config.ga.population, 2, MAX_GA_SIZE)
    check_range("ga.generations", config.ga.generations, 0, MAX_GA_SIZE)
    hidden = config.mlp.hidden
    if len(hidden) > MAX_LAYERS or not all(1 <= int(h) <= MAX_HIDDEN for h in hidden):
        raise ConfigError(
            f"mlp.hidden: expected 1 to {MAX_LAYERS} sizes in 1..{MAX_HIDDEN}, found {hidden}"
        )
    check_device(config.device)
    check_engine(config.engine, "cpu" if config.device == "cpu" else "cuda")


def _replace(obj: Any, **changes: Any) -> Any:
    given = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(obj, **given) if given else obj


def resolve(
    config_path: Path | None,
    *,
    data: str | None = None,
    representation: str | None = None,
    protocol: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    engine: str | None = None,
    repeats: int | None = None,
    epochs: int | None = None,
    hidden: str | None = None,
    ga: dict[str, Any] | None = None,
    pruning: dict[str, Any] | None = None,
    finetune_epochs: int | None = None,
) -> Any:
    """The run configuration: ``config_path`` (or defaults) with the given options applied."""
    from ffmatch.core.splits import check_protocol
    from ffmatch.paper.pipeline.config import load_run_config
    from ffmatch.paper.representations import check_representation

    config = load_run_config(config_path)
    if representation is not None and representation != "selected":
        check_representation(representation)
    if protocol is not None:
        check_protocol(protocol)
    check_range("--seed", seed, 0, MAX_SEED)
    check_range("--repeats", repeats, 1, MAX_REPEATS)
    check_range("--epochs", epochs, 1, MAX_EPOCHS)
    check_range("--finetune-epochs", finetune_epochs, 0, MAX_EPOCHS)
    if device is not None:
        check_device(device)
    resolved = _replace(
        config,
        seed=seed,
        device=device,
        engine=engine,
        finetune_epochs=finetune_epochs,
        pruning=_replace(config.pruning, **(pruning or {})),
        data=_replace(config.data, data=data, representation=representation),
        eval=_replace(config.eval, protocol=protocol, repeats=repeats),
        mlp=_replace(config.mlp, epochs=epochs, hidden=parse_hidden(hidden)),
        ga=_replace(config.ga, **(ga or {})),
    )
    check_run_config(resolved)
    return resolved
