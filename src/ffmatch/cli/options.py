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


def parse_hidden(text: str | None) -> tuple[int, ...] | None:
    """``"20,10"`` to ``(20, 10)``; a clear error for anything else."""
    if text is None:
        return None
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--hidden: expected sizes separated by commas, e.g. 20,10; found {text!r}"
        ) from None
    return sizes


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
    if device is not None and device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"--device: expected cpu or cuda, found {device!r}")
    return _replace(
        config,
        seed=seed,
        device=device,
        finetune_epochs=finetune_epochs,
        pruning=_replace(config.pruning, **(pruning or {})),
        data=_replace(config.data, data=data, representation=representation),
        eval=_replace(config.eval, protocol=protocol, repeats=repeats),
        mlp=_replace(config.mlp, epochs=epochs, hidden=parse_hidden(hidden)),
        ga=_replace(config.ga, **(ga or {})),
    )
