"""Train many small MLPs: the jobs, their results, and ``train_many``, which picks the engine.

Two engines compute the same training (``torch.optim.Adam`` on the mean cross-entropy, from
the same initial weights and batch order; their numbers differ by float rounding only):
- "compiled" (``ffmatch.paper.nn.cpu``): each network start to end in one compiled loop on
  the CPU, the networks shared out over threads;
- "stacked" (``ffmatch.paper.nn.batched``): all networks as one stacked tensor program, on
  the CPU or a GPU.
This module imports neither numba nor torch: a command that trains on the compiled engine
never loads torch (about 1.5 s of start-up), and the stacked engine is imported only when
it is asked for or the device is not the CPU.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.paper.nn import cpu
from ffmatch.paper.nn.config import check_engine
from ffmatch.paper.nn.mlp import MLPWeights

N_OUT = 2  # two logits, softmax cross-entropy (section 2.2)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainJob:
    """One network to train: its data (already scaled), sizes, schedule and seed."""

    x_train: np.ndarray  # (n_train, d) float32
    y_train: np.ndarray  # (n_train,) int64 labels in {0, 1}
    x_val: np.ndarray | None = None  # (n_val, d) float32, or None
    y_val: np.ndarray | None = None  # (n_val,) int64, or None
    hidden: tuple[int, ...] = (20, 10)
    epochs: int = 80
    lr: float = 1e-4
    batch_size: int = 12
    seed: int = 0  # drives this network's init and batch order only
    init: MLPWeights | None = None  # start from these weights (fine-tuning after pruning)


@dataclass(frozen=True, kw_only=True, slots=True)
class History:
    """Per-epoch metrics of one network, float64 ``(epochs,)``; NaN where not measured
    (val_* without validation rows; every epoch but the last with ``evaluate="last_epoch"``).

    Training loss and accuracy come from a full pass over the training rows at the end of
    each epoch (not the running mean over its batches), so they compare with the val ones.
    """

    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainResult:
    """A trained network, its history, and P(label 1) on its validation rows."""

    weights: MLPWeights
    history: History
    val_proba: np.ndarray | None  # (n_val,) after the last epoch, or None


# --- threads ------------------------------------------------------------------------------

# Threads train_many trains with, for the whole process, as torch.set_num_threads (which
# the stacked engine's threads follow) is: None until set_threads is called.
_threads: int | None = None


def set_threads(n: int | None) -> None:
    """Train with ``n`` threads from now on in this process (the CLI's ``--threads``);
    None: the default again (``training_threads``).

    The compiled engine shares its networks out over ``n`` threads; the stacked engine sets
    PyTorch's intra-op threads to ``n`` when it starts. Results do not depend on ``n``: each
    network is computed on its own.
    """
    global _threads
    if n is not None and n < 1:
        raise ConfigError(f"threads: expected an integer >= 1, found {n}")
    _threads = None if n is None else int(n)


def training_threads() -> int:
    """Threads the compiled engine trains with: ``set_threads``'s, else ``OMP_NUM_THREADS``
    where set (as torch's default), else every CPU this process may run on. (The stacked
    engine leaves torch's setting alone until ``set_threads`` is called.)"""
    if _threads is not None:
        return _threads
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) >= 1:
        return int(omp)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- training -----------------------------------------------------------------------------


def device_type(device: str) -> str:
    """The kind of torch device ``device`` names ("cpu", "cuda", ...); ConfigError if torch
    does not know it. "cpu" is answered without importing torch."""
    if device == "cpu":
        return "cpu"
    import torch  # only for devices other than the CPU (about 1.5 s to import)

    try:
        return str(torch.device(device).type)
    except (RuntimeError, TypeError) as err:
        raise ConfigError(
            f"device: expected a torch device such as 'cpu' or 'cuda', found {device!r}"
        ) from err


def train_many(
    jobs: Sequence[TrainJob],
    *,
    device: str = "cpu",
    on_epoch: Callable[[int, int], None] | None = None,
    evaluate: Literal["every_epoch", "last_epoch"] = "every_epoch",
    engine: str = "auto",
    on_result: Callable[[int, TrainResult], None] | None = None,
) -> list[TrainResult]:
    """Train all jobs; results in job order.

    engine "compiled" trains each network start to end in one compiled loop on the CPU
    (``ffmatch.paper.nn.cpu``); "stacked" trains all networks as one stacked tensor program
    (``ffmatch.paper.nn.batched``), on the CPU or a GPU; "auto" is "compiled" on the CPU,
    else "stacked". Both compute ``torch.optim.Adam`` on the mean cross-entropy from the
    same initial weights and batch order; their numbers differ by float rounding only.
    on_epoch(done, total) reports progress in epochs of the longest job (for progress bars).
    evaluate="last_epoch" measures loss and accuracy only after each network's last epoch
    (earlier history entries are NaN): about a quarter less work, for callers that need
    only the final numbers (the genetic search). Each network's values are read back once,
    when it is trained: the compiled engine trains in pieces, the stacked one all at once.
    on_result(k, result) is called in this thread with job k's result as soon as it is read
    back, so a caller can work on the first networks while the others train. Threads:
    ``set_threads``.
    """
    for k, job in enumerate(jobs):
        _check_job(job, k)
    if evaluate not in ("every_epoch", "last_epoch"):
        raise ConfigError(f"evaluate: expected 'every_epoch' or 'last_epoch', found {evaluate!r}")
    if not jobs:
        check_engine(engine, "cpu")
        return []
    kind = device_type(device)
    check_engine(engine, kind)
    every_epoch = evaluate == "every_epoch"
    if kind == "cpu" and engine != "stacked":
        return _train_compiled(
            jobs, on_epoch=on_epoch, every_epoch=every_epoch, on_result=on_result
        )
    from ffmatch.paper.nn import batched  # imports torch: only for this engine

    results = batched.train_stacked(
        jobs,
        device=device,
        on_epoch=on_epoch,
        every_epoch=every_epoch,
        threads=_threads,
    )
    if on_result is not None:
        for k, result in enumerate(results):
            on_result(k, result)
    return results


def prepare_engine(*, engine: str = "auto", device: str = "cpu") -> bool:
    """Load the compiled loop that ``train_many`` with ``engine`` on ``device`` runs, and say
    whether it does: numba compiles it on a machine's first use (10-20 s of CPU) and loads
    it from its cache afterwards (under a second). ``train_many`` loads it anyway on first
    use; a caller that wants to tell its user about the wait (the CLI) calls this first."""
    kind = device_type(device)
    check_engine(engine, kind)
    if kind != "cpu" or engine == "stacked":
        return False
    # One tiny network through the real path: the loop is compiled for exactly the
    # argument types that training passes.
    x = np.zeros((2, 1), np.float32)
    _train_compiled(
        [
            TrainJob(
                x_train=x,
                y_train=np.array([0, 1]),
                x_val=x,
                y_val=np.array([0, 1]),
                hidden=(1,),
                epochs=1,
            )
        ],
        on_epoch=None,
        every_epoch=False,
    )
    return True


def _train_compiled(
    jobs: Sequence[TrainJob],
    *,
    on_epoch: Callable[[int, int], None] | None,
    every_epoch: bool,
    on_result: Callable[[int, TrainResult], None] | None = None,
) -> list[TrainResult]:
    """``train_many`` through ``ffmatch.paper.nn.cpu``."""
    total = max(job.epochs for job in jobs)
    reported = 0

    def progress(fraction: float) -> None:
        nonlocal reported
        done = min(total, int(fraction * total + 1e-9))
        if on_epoch is not None and done > reported:
            reported = done
            on_epoch(done, total)

    packed = cpu.pack(jobs)
    results: dict[int, TrainResult] = {}

    def read_back(done: np.ndarray, fraction: float) -> None:  # a finished piece is final
        progress(fraction)
        for i in done.tolist():
            results[i] = train_result(jobs[i], *cpu.unpack(packed, i))
            if on_result is not None:
                on_result(i, results[i])

    cpu.run(packed, jobs, every_epoch=every_epoch, threads=training_threads(), on_done=read_back)
    return [results[i] for i in range(len(jobs))]  # every piece ran, or cpu.run raised


def train_result(
    job: TrainJob, weights: MLPWeights, stats: np.ndarray, val_proba: np.ndarray
) -> TrainResult:
    """One trained network (either engine): ``stats`` is its ``(epochs, 4)`` train loss and
    accuracy, val loss and accuracy (NaN where not measured); ``val_proba`` P(1) on its
    validation rows."""
    has_val = job.y_val is not None and len(job.y_val) > 0
    nan = np.full(job.epochs, np.nan)
    return TrainResult(
        weights=weights,
        history=History(
            train_loss=stats[:, 0].copy(),
            train_acc=stats[:, 1].copy(),
            val_loss=stats[:, 2].copy() if has_val else nan,
            val_acc=stats[:, 3].copy() if has_val else nan.copy(),
        ),
        val_proba=val_proba.copy() if job.y_val is not None else None,
    )


# --- validation ---------------------------------------------------------------------------


def _check_job(job: TrainJob, k: int) -> None:
    """Raise DataError/ConfigError naming job ``k`` when its arrays or settings do not fit."""
    x, y = np.asarray(job.x_train), np.asarray(job.y_train)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(
            f"job {k}: x_train: expected a non-empty (n_train, d) array, found shape {x.shape}"
        )
    _check_labels(y, x.shape[0], f"job {k}: y_train")
    if (job.x_val is None) != (job.y_val is None):
        raise DataError(f"job {k}: give both x_val and y_val, or neither")
    if job.x_val is not None and job.y_val is not None:
        xv = np.asarray(job.x_val)
        if xv.ndim != 2 or xv.shape[1] != x.shape[1]:
            raise DataError(
                f"job {k}: x_val: expected shape (n_val, {x.shape[1]}), found {xv.shape}"
            )
        _check_labels(np.asarray(job.y_val), xv.shape[0], f"job {k}: y_val")
    if not job.hidden or any(int(h) < 1 for h in job.hidden):
        raise ConfigError(f"job {k}: hidden: expected one or more sizes >= 1, found {job.hidden}")
    if job.epochs < 1 or job.batch_size < 1:
        raise ConfigError(
            f"job {k}: epochs and batch_size must be >= 1, found {job.epochs} and {job.batch_size}"
        )
    if not (math.isfinite(job.lr) and job.lr > 0):
        raise ConfigError(f"job {k}: lr: expected a number > 0, found {job.lr}")
    if job.seed < 0:
        raise ConfigError(f"job {k}: seed: expected an integer >= 0, found {job.seed}")
    sizes = (x.shape[1], *job.hidden, N_OUT)
    if job.init is not None and job.init.sizes != sizes:
        raise ConfigError(
            f"job {k}: init has layer sizes {job.init.sizes}, the job {sizes} (d, *hidden, {N_OUT})"
        )


def _check_labels(y: np.ndarray, n: int, what: str) -> None:
    if y.shape != (n,):
        raise DataError(f"{what}: expected shape ({n},), found {y.shape}")
    bad = y[(y != 0) & (y != 1)]
    if bad.size:
        raise DataError(f"{what}: expected labels 0 and 1, found {bad[0]}")
