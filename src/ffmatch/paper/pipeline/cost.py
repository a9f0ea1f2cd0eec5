"""What a training command will cost, estimated before it starts, and the guard on it.

A job far past the usual size (more memory than the machine has, or hours of work) stops
with its estimate unless the user says ``--yes``. The estimate is arithmetic on the
configuration only (no timing), so it is the same on every machine and every run.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Literal

from ffmatch.core.errors import ConfigError
from ffmatch.paper.pipeline.config import RunConfig

Command = Literal["cv", "prune", "evolve", "reproduce"]

# The batched trainer ran 15.6 GFLOP/s of useful work on an uncontended 2-core CPU
# (docs/benchmarks.md, workload (b), `benchmarks/bench_trainer.py --threads 2`); the
# estimate assumes 15 GFLOP/s. Small networks are launch-bound and run slower than this,
# but they are also far below any limit.
FLOP_PER_S = 15e9
MAX_SECONDS = 3600.0  # one hour of training: past it, a job asks for --yes
# float32 weights, gradients and Adam's two moments: 16 bytes per parameter of every
# network stacked in one call (train_many trains them all at once), plus activations.
BYTES_PER_PARAM = 16
ROWS = 36  # the paper's table; the rows of a landmark file are counted by the caller
N_FEATURES = {"ffms": 56}  # the other representations have at most 91 features
WIDEST = 91
GA_HIDDEN = (100, 50)  # the GA's widest network (GeneLayout.hidden_range, ratio 0.5)
GA_EPOCHS = 100  # and its most epochs (GeneLayout.epochs_range)


@dataclass(frozen=True, kw_only=True, slots=True)
class Cost:
    """A command's training work: networks, network-epochs, FLOPs, peak bytes, seconds."""

    networks: int
    network_epochs: int
    shape: str  # the largest network, e.g. "56-20-10-2"
    flops: float
    peak_bytes: int
    seconds: float


def n_params(sizes: tuple[int, ...]) -> int:
    """Weights and biases of a fully connected network of layer ``sizes``."""
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def estimate(config: RunConfig, command: Command, *, rows: int = ROWS) -> Cost:
    """The training work of ``command`` under ``config`` (an upper bound for the GA)."""
    width = N_FEATURES.get(config.data.representation, WIDEST)
    folds = config.eval.n_splits + 1  # every fold's network and the holdout model
    mlp = (width, *config.mlp.hidden, 2)
    ga = (width, *GA_HIDDEN, 2)
    cv_nets = config.eval.repeats * folds
    # (networks, epochs each, sizes, networks trained in one call)
    parts: list[tuple[int, int, tuple[int, ...], int]] = []
    if command in ("cv", "prune", "reproduce"):
        parts.append((cv_nets, config.mlp.epochs + config.finetune_epochs, mlp, cv_nets))
    if command in ("evolve", "reproduce"):
        per_generation = config.ga.population * folds
        parts.append((per_generation * (config.ga.generations + 1), GA_EPOCHS, ga, per_generation))
    times = 2 if command == "reproduce" else 1  # reproduce runs both protocols
    networks = times * sum(p[0] for p in parts)
    network_epochs = times * sum(p[0] * p[1] for p in parts)
    # forward + backward over the training rows (6 FLOPs per weight and row), one forward
    # pass over all rows per epoch (2 more)
    flops = float(times * sum(n * e * 8 * n_params(s) * rows for n, e, s, _ in parts))
    peak = max(k * (BYTES_PER_PARAM * n_params(s) + 4 * rows * sum(s)) for _, _, s, k in parts)
    widest = max(parts, key=lambda p: n_params(p[2]))[2]
    return Cost(
        networks=networks,
        network_epochs=network_epochs,
        shape="-".join(map(str, widest)),
        flops=flops,
        peak_bytes=peak,
        seconds=flops / FLOP_PER_S,
    )


def machine_memory() -> int:
    """Bytes of physical memory (0 when the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:,.0f} h"
    if seconds >= 60:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds:,.0f} s"


def check_cost(cost: Cost, *, memory: int, yes: bool = False) -> None:
    """ConfigError with the estimate when ``cost`` needs more than ``memory`` bytes or more
    than ``MAX_SECONDS``, unless ``yes``."""
    too_big = memory > 0 and cost.peak_bytes > memory
    if yes or not (too_big or cost.seconds > MAX_SECONDS):
        return
    raise ConfigError(
        f"this job needs about {cost.peak_bytes / 1e9:,.1f} GB of memory "
        f"(this machine has {memory / 1e9:,.1f} GB) and {_duration(cost.seconds)} of CPU "
        f"({cost.network_epochs:,} network-epochs of {cost.shape}); run with --yes to start "
        "it anyway"
    )
