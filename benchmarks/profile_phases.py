"""Where a command's time goes: wall seconds of its parts, timed by wrapping the functions.

Not a comparison: one run, its parts. Two commands:

- ``evolve``: ``ffmatch -q evolve`` at the paper's settings; the GA's search split into
  training (``train_many``), pruning, scoring the pruned networks and the rest (per-fold
  metrics and cutting the folds, where a revision still does them in the search); pruning
  and scoring done inside the training's calls, as networks finish, are shown as its share;
- ``muct``: ``run_benchmark`` on MUCT with two worker processes; when each variant's MLP
  training starts and ends, when the last fold fit ends, and the whole run.

Usage::

    python benchmarks/profile_phases.py evolve --out /tmp/phases-evolve [--no-prune]
    FFMATCH_DATA=../shared/data python benchmarks/profile_phases.py muct
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_T0 = "PROFILE_PHASES_T0"  # wall clock at the start, shared with the worker processes


def _wrap(
    module: Any,
    name: str,
    record: Callable[[str, float, float], None],
    clock: Callable[[], float] = time.time,
) -> None:
    """Replace ``module.name`` by a wrapper that calls ``record(name, start, end)``, read off
    ``clock`` (wall seconds by default)."""
    inner = getattr(module, name)

    # wraps: the wrapper takes the function's module and name, so a process pool pickles it
    # by that name, and each worker (which instruments itself on import) finds its own.
    @functools.wraps(inner)
    def timed(*args: Any, **kw: Any) -> Any:
        start = clock()
        try:
            return inner(*args, **kw)
        finally:
            # what the task worked on: a variant's name, or a fold's variant
            first = args[0] if args else None  # evolve's functions take keywords only
            on = first if isinstance(first, str) else getattr(first, "variant", "")
            record(f"{name} {on}".strip(), start, clock())

    setattr(module, name, timed)


def _evolve(out: str, *, no_prune: bool) -> None:
    import ffmatch.paper.evaluation.cv as cv
    import ffmatch.paper.pipeline.stages as stages
    from ffmatch.cli.app import run

    spent: dict[str, float] = defaultdict(float)
    running: list[str] = []  # the wrapped functions now running (outermost first)

    def record(name: str, start: float, end: float) -> None:
        if name == "evolve" or "evolve" in running:  # the search only, not the holdout after
            # Since the fifth round the GA prunes and scores each network as it is trained,
            # within train_many's call: that time is counted apart, as a share of training.
            within = " within training" if name != "train_many" and "train_many" in running else ""
            spent[name + within] += end - start

    def flag(module: Any, name: str) -> None:
        inner = getattr(module, name)

        @functools.wraps(inner)
        def flagged(*args: Any, **kw: Any) -> Any:
            running.append(name)
            try:
                return inner(*args, **kw)
            finally:
                running.pop()

        setattr(module, name, flagged)

    for name in ("prune", "prune_weights", "_score"):
        if hasattr(stages, name):  # the GA prunes through prune_weights since the sixth round
            _wrap(stages, name, record)
    for name in ("cv_result_from_training", "fold_data"):
        _wrap(cv, name, record)
    _wrap(cv, "train_many", record)
    flag(cv, "train_many")
    _wrap(stages, "evolve", record)
    flag(stages, "evolve")
    cpu_seconds = [0.0]  # the process's CPU seconds in the search

    def add_cpu(_name: str, start: float, end: float) -> None:
        cpu_seconds[0] += end - start

    _wrap(stages, "evolve", add_cpu, clock=time.process_time)
    loop_seconds = _compiled_loop_seconds(lambda: "evolve" in running)
    run(["-q", "evolve", "--out", out, "--overwrite", *(["--no-prune"] if no_prune else [])])
    for name in ("prune", "prune within training"):
        spent[name] += spent.pop(name.replace("prune", "prune_weights"), 0.0)
    parts = {
        "training (train_many)": spent["train_many"],
        "pruning (prune)": spent["prune"],
        "per-fold metrics (cv_result_from_training)": spent["cv_result_from_training"],
        "scoring the pruned networks (_score)": spent["_score"],
        "cutting the folds (fold_data)": spent["fold_data"],
    }
    cpus = os.cpu_count() or 1
    print(f"GA search (evolve): {spent['evolve']:.2f} s")
    for what, seconds in parts.items():
        if seconds > 0:  # a revision may not do a part, or not apart from the training
            print(f"  {what}: {seconds:.2f} s")
        if what.startswith("training") and spent["prune within training"]:
            print(f"    of which pruning the networks trained so far: "
                  f"{spent['prune within training']:.2f} s")  # fmt: skip
            print(f"    of which scoring them: {spent['_score within training']:.2f} s")
    print(f"  everything else (the GA, building and packing jobs): "
          f"{spent['evolve'] - sum(parts.values()):.2f} s")  # fmt: skip
    print(f"CPU time of the search: {cpu_seconds[0]:.2f} s")
    if loop_seconds:
        print(f"  of which the compiled training loop, all threads: {sum(loop_seconds):.2f} s")
    # No schedule can beat this without less work: every CPU busy from start to end.
    print(f"  over this machine's {cpus} CPUs, busy throughout: {cpu_seconds[0] / cpus:.2f} s")


def _compiled_loop_seconds(counting: Callable[[], bool]) -> list[float]:
    """Wrap the compiled engine's loop to append each call's CPU seconds (its thread's) to the
    list returned, while ``counting()``: one entry per piece of networks, from every thread."""
    import ffmatch.paper.nn.cpu as cpu

    loop = cpu._kernel()
    seconds: list[float] = []

    def timed(*args: Any) -> None:
        start = time.thread_time()
        loop(*args)
        if counting():
            seconds.append(time.thread_time() - start)  # list.append is atomic under the GIL

    cpu._kernel = lambda: timed  # type: ignore[assignment]
    return seconds


def _stamp(name: str, start: float, end: float) -> None:
    """Print one task's start and end, in seconds since the run began (any process)."""
    t0 = float(os.environ[_T0])
    print(f"{start - t0:8.1f} {end - t0:8.1f}  {name}", flush=True)


def _instrument_protocol() -> None:
    """Time the worker tasks; runs in the main process and, on import, in each worker."""
    import ffmatch.benchmark.protocol as protocol

    for name in ("_train_variant", "_fit_fold", "_score_mlp"):
        _wrap(protocol, name, _stamp)


def _muct() -> None:
    from ffmatch.benchmark.config import BenchmarkConfig
    from ffmatch.benchmark.protocol import run_benchmark
    from ffmatch.core.sources import load_photos
    from ffmatch.paper.nn.train import set_threads

    set_threads(1)  # as `ffmatch benchmark muct` does by default
    photos = load_photos("muct")
    print("   start      end  task (seconds since the start)")
    run_benchmark(photos, BenchmarkConfig(), jobs=2)
    print(f"{time.time() - float(os.environ[_T0]):8.1f}           the whole run")


os.environ.setdefault(_T0, str(time.time()))
if os.environ.get("PROFILE_PHASES_MODE") == "muct":
    _instrument_protocol()  # also in the forkserver's workers, which import this file

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("evolve", "muct"))
    parser.add_argument("--out", default="/tmp/phases-evolve", help="evolve's run folder")
    parser.add_argument(
        "--no-prune", action="store_true", help="evolve --no-prune: the training without pruning"
    )
    args = parser.parse_args()
    if args.command == "evolve":
        _evolve(args.out, no_prune=args.no_prune)
    else:
        os.environ["PROFILE_PHASES_MODE"] = "muct"
        _instrument_protocol()
        _muct()
