"""Options shared by the experiment commands, and their resolution into a ``RunConfig``.

A command starts from ``--config FILE`` (or the defaults) and applies only the options given
on the command line, so a saved ``config.toml`` reruns a run exactly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from ffmatch.core.errors import ConfigError

DATA = typer.Option(
    None,
    "--data",
    "-d",
    help="Dataset (paper, paper-computed, paper-workbook, muct) or landmark file. [default: paper]",
)
REPRESENTATION = typer.Option(
    None,
    "--representation",
    "-r",
    help="ffms, distances, proportions (the paper), aligned-diff, aligned-pair (pose-invariant),"
    " or 'selected' (by the selection rule). [default: ffms]",
)
PROTOCOL = typer.Option(
    None,
    "--protocol",
    "-p",
    help="grouped (honest: sets kept together, scaler fitted inside) or paper (as the paper "
    "did). [default: grouped]",
)
SEED = typer.Option(None, "--seed", help="The one seed behind every random choice. [default: 0]")
DEVICE = typer.Option(None, "--device", help="cpu or cuda. [default: cpu]")
REPEATS = typer.Option(
    None, "--repeats", help="Repeat the cross-validation with new seeds. [default: 1]"
)
CONFIG = typer.Option(
    None, "--config", "-c", help="A config.toml (as written beside every result) to start from."
)
OUT = typer.Option(..., "--out", "-o", help="Run folder to write the results into.")
EPOCHS = typer.Option(None, "--epochs", help="Training epochs of the MLP. [default: 80]")
HIDDEN = typer.Option(
    None, "--hidden", help="Hidden layer sizes, comma-separated, e.g. 20,10. [default: 20,10]"
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
