"""Benchmark: the batched trainer vs a sequential PyTorch loop vs scikit-learn's MLPClassifier.

The same work three ways, side by side in one run (issue 3, item 8):
  (a) one 10-fold CV at the paper's settings (56-20-10-2, 80 epochs, lr 1e-4, batch 12) on
      the paper's 36 rows (columns 1-56 of the workbook's FFMs sheet, Min-Max scaled);
  (b) 1000 networks: 100 configurations (first hidden layer 1-100, second half of it, at
      least 1; epochs 10-100; lr 1e-4-1e-2) x 10 folds, as the paper's GA would train them.
"compiled" is ``train_many``'s default CPU engine (one compiled loop per network),
"stacked" its tensor-program engine (the only one of ffmatch 0.1); "-last" measures only
each network's last epoch (as the genetic search runs it). The sequential loop and
scikit-learn run (b) on a sample of networks and are extrapolated by network-epochs
(their cost is per step, nearly independent of the width at these sizes).
FLOPs are counted, not measured: useful = the unpadded networks' matmuls; executed = what
the batched trainer runs after padding within buckets. The peak is measured in the same
run: a 1024x1024 float32 matmul and a bmm of (1000, 12, 56) @ (1000, 56, 20).

    python benchmarks/bench_trainer.py              # the full run, 2 threads
    python benchmarks/bench_trainer.py --quick      # a smoke run (seconds)
    python benchmarks/bench_trainer.py --device cuda --json out.json
    python benchmarks/bench_trainer.py --compare cfd2e83 --threads 1   # against a revision

``--compare REV`` times only the batched trainer: the one of git revision REV (its
``paper/nn/batched.py``, loaded beside the current one) against the current one with the
compiled Adam and with the eager one, interleaved in one process, best of ``--repeats``
process-CPU times (robust on a shared machine), and checks that all give the same bits.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ffmatch.paper.nn import batched, fused
from ffmatch.paper.nn.batched import bucket_jobs
from ffmatch.paper.nn.sequential import train_sequential_many
from ffmatch.paper.nn.train import TrainJob, TrainResult, set_threads, train_many

N_FOLDS = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing:
    """Seconds for the whole workload (extrapolated when ``sampled`` networks were timed)."""

    seconds: float
    sampled: int | None = None  # networks actually timed, None when all were


# --- workloads ------------------------------------------------------------------------------


def paper_rows() -> tuple[np.ndarray, np.ndarray]:
    """The paper's 36 rows: 56 features (Min-Max scaled on all rows, as the paper did), labels.

    Read from the package's copy of the workbook's FFMs sheet (``paper_ffms.csv``, the same
    numbers), so the benchmark needs no spreadsheet reader and runs on any machine.
    """
    import pandas as pd

    with resources.as_file(
        resources.files("ffmatch.core.datasets") / "files" / "paper_ffms.csv"
    ) as f:
        sheet = pd.read_csv(f)
    x = sheet.iloc[:, 1:57].to_numpy(np.float64)
    span = np.where(x.max(0) > x.min(0), x.max(0) - x.min(0), 1.0)
    return ((x - x.min(0)) / span).astype(np.float32), sheet["Outcome"].to_numpy(np.int64)


def folds(n: int, seed: int) -> list[np.ndarray]:
    """Validation rows of a shuffled 10-fold split (the paper's protocol)."""
    return np.array_split(np.random.default_rng(seed).permutation(n), N_FOLDS)


def cv_jobs(
    x: np.ndarray, y: np.ndarray, *, hidden: tuple[int, ...], epochs: int, lr: float, seed: int
) -> list[TrainJob]:
    """One job per fold, each with its own seed."""
    jobs = []
    for f, val in enumerate(folds(len(y), seed)):
        train = np.setdiff1d(np.arange(len(y)), val)
        jobs.append(
            TrainJob(
                x_train=x[train],
                y_train=y[train],
                x_val=x[val],
                y_val=y[val],
                hidden=hidden,
                epochs=epochs,
                lr=lr,
                seed=seed * 100 + f,
            )
        )
    return jobs


def search_jobs(x: np.ndarray, y: np.ndarray, *, n_configs: int, seed: int) -> list[TrainJob]:
    """Workload (b): configurations spread over the GA's ranges, x 10 folds each."""
    rng = np.random.default_rng(seed)
    widths = (
        rng.permutation(np.arange(1, 101))[:n_configs]
        if n_configs <= 100
        else (rng.integers(1, 101, n_configs))
    )
    jobs: list[TrainJob] = []
    for c, h in enumerate(widths):
        epochs, lr = int(rng.integers(10, 101)), float(10 ** rng.uniform(-4, -2))
        hidden = (int(h), max(1, int(h) // 2))
        jobs += cv_jobs(x, y, hidden=hidden, epochs=epochs, lr=lr, seed=seed * 1000 + c)
    return jobs


# --- what the work costs ----------------------------------------------------------------------


def _mac(sizes: Sequence[int]) -> int:
    return sum(a * b for a, b in itertools.pairwise(sizes))


def _epoch_flops(sizes: Sequence[int], train_rows: int, eval_rows: int) -> int:
    """One epoch: forward + backward on the training rows (no input gradient), then a
    forward pass over all rows for the recorded metrics."""
    step = 6 * _mac(sizes) - 2 * sizes[0] * sizes[1]
    return train_rows * step + eval_rows * 2 * _mac(sizes)


def _sizes(job: TrainJob) -> tuple[int, ...]:
    return (job.x_train.shape[1], *job.hidden, 2)


def _n_val(job: TrainJob) -> int:
    return 0 if job.y_val is None else len(job.y_val)


def useful_flops(jobs: Sequence[TrainJob]) -> float:
    """Matmul FLOPs of the jobs as defined: no padding."""
    return float(
        sum(
            job.epochs * _epoch_flops(_sizes(job), len(job.y_train), len(job.y_train) + _n_val(job))
            for job in jobs
        )
    )


def executed_flops(jobs: Sequence[TrainJob], device: str) -> float:
    """Matmul FLOPs the batched trainer runs: padded to each bucket's widest network and
    longest fold, for the networks still training at each epoch."""
    total = 0
    for bucket in bucket_jobs(jobs, device=torch.device(device).type):
        sub = [jobs[k] for k in bucket]
        sizes = np.max([_sizes(j) for j in sub], axis=0)
        n_pad = max(len(j.y_train) for j in sub)  # rows past a network's own are padding
        n_val = max(_n_val(j) for j in sub)
        per_net = _epoch_flops(sizes.tolist(), n_pad, n_pad + n_val)
        total += sum(j.epochs for j in sub) * per_net
    return float(total)


def network_epochs(jobs: Sequence[TrainJob]) -> int:
    return sum(job.epochs for job in jobs)


# --- timers -----------------------------------------------------------------------------------


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_seconds(fn: Callable[[], object], repeats: int, device: str = "cpu") -> float:
    """Median wall time of ``repeats`` calls (after one untimed warm-up call elsewhere)."""
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_peak(device: str, repeats: int) -> dict[str, float]:
    """GFLOP/s of a 1024^2 matmul and of the bmm shape the paper's networks use."""
    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(0)
    a = torch.rand(1024, 1024, device=dev, generator=gen)
    x = torch.rand(1000, 12, 56, device=dev, generator=gen)
    w = torch.rand(1000, 56, 20, device=dev, generator=gen)
    torch.mm(a, a), torch.bmm(x, w)  # warm-up
    n = max(repeats, 1) * 10
    t_mm = median_seconds(lambda: torch.mm(a, a), n, device)
    t_bmm = median_seconds(lambda: torch.bmm(x, w), n, device)
    return {
        "matmul_1024": 2 * 1024**3 / t_mm / 1e9,
        "bmm_1000x12x56x20": 2 * 1000 * 12 * 56 * 20 / t_bmm / 1e9,
    }


def time_batched(
    jobs: Sequence[TrainJob],
    device: str,
    repeats: int,
    evaluate: str = "every_epoch",
    engine: str = "auto",
) -> Timing:
    """``train_many`` on all jobs with ``engine``; ``evaluate="last_epoch"`` as the genetic
    search runs it."""
    train_many(jobs[:2], device=device, engine=engine)  # warm-up: first-call costs
    mode: Literal["every_epoch", "last_epoch"] = (
        "last_epoch" if evaluate == "last_epoch" else "every_epoch"
    )
    return Timing(
        seconds=median_seconds(
            lambda: train_many(jobs, device=device, evaluate=mode, engine=engine),
            repeats,
            device,
        )
    )


def time_sequential(jobs: Sequence[TrainJob], device: str, sample: int | None) -> Timing:
    """The plain loop on all jobs, or on every k-th one, extrapolated by network-epochs."""
    train_sequential_many([_shorten(jobs[0])], device=device)  # warm-up: optimizer imports
    picked = _sample(jobs, sample)
    t = median_seconds(lambda: train_sequential_many(picked, device=device), 1, device)
    return _extrapolate(t, picked, jobs)


def time_sklearn(jobs: Sequence[TrainJob], sample: int | None) -> Timing:
    """scikit-learn's MLPClassifier: adam, same sizes, batch, epochs; no early stopping."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    picked = _sample(jobs, sample)

    def run() -> None:
        for job in picked:
            clf = MLPClassifier(
                hidden_layer_sizes=job.hidden,
                solver="adam",
                alpha=0.0,
                batch_size=job.batch_size,
                learning_rate_init=job.lr,
                max_iter=job.epochs,
                tol=0.0,
                n_iter_no_change=job.epochs + 1,  # never stops early
                shuffle=True,
                random_state=job.seed % 2**32,
            )
            clf.fit(job.x_train, job.y_train)
            clf.predict_proba(job.x_val)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _extrapolate(median_seconds(run, 1), picked, jobs)


def _shorten(job: TrainJob) -> TrainJob:
    return TrainJob(x_train=job.x_train, y_train=job.y_train, hidden=job.hidden, epochs=1)


def _sample(jobs: Sequence[TrainJob], sample: int | None) -> list[TrainJob]:
    if sample is None or sample >= len(jobs):
        return list(jobs)
    return [jobs[k] for k in np.linspace(0, len(jobs) - 1, sample).round().astype(int)]


def _extrapolate(seconds: float, picked: Sequence[TrainJob], jobs: Sequence[TrainJob]) -> Timing:
    if len(picked) == len(jobs):
        return Timing(seconds=seconds)
    scale = network_epochs(jobs) / network_epochs(picked)
    return Timing(seconds=seconds * scale, sampled=len(picked))


# --- report -----------------------------------------------------------------------------------


def report(
    name: str,
    jobs: Sequence[TrainJob],
    timings: dict[str, Timing],
    peak: dict[str, float],
    device: str,
) -> dict[str, object]:
    """Print one workload's table; return its numbers. Ratios and the FLOP-limit line are
    against the first timing (ffmatch's default engine)."""
    useful, executed = useful_flops(jobs), executed_flops(jobs, device)
    net_epochs = network_epochs(jobs)
    first = next(iter(timings))
    batched = timings[first].seconds
    limit = useful / (peak["bmm_1000x12x56x20"] * 1e9)
    print(
        f"\n## {name}: {len(jobs)} networks, {net_epochs} network-epochs, "
        f"{useful / 1e9:.2f} GFLOP useful, {executed / 1e9:.2f} GFLOP executed (padded)"
    )
    print(f"{'trainer':<12}{'wall s':>10}{'nets/s':>10}{'net-ep/s':>11}{'x slower':>10}  note")
    rows = {}
    for label, t in timings.items():
        note = f"timed on {t.sampled} networks, extrapolated" if t.sampled else ""
        print(
            f"{label:<12}{t.seconds:>10.3f}{len(jobs) / t.seconds:>10.1f}"
            f"{net_epochs / t.seconds:>11.0f}{t.seconds / batched:>10.1f}  {note}"
        )
        rows[label] = {
            "seconds": t.seconds,
            "sampled": t.sampled,
            "ratio_to_first": t.seconds / batched,
        }
    print(
        f"{first}: {useful / batched / 1e9:.1f} GFLOP/s useful; FLOP limit at the bmm peak "
        f"{limit:.3f} s, so {batched / limit:.1f}x of it"
    )
    return {
        "networks": len(jobs),
        "network_epochs": net_epochs,
        "useful_gflop": useful / 1e9,
        "executed_gflop": executed / 1e9,
        "flop_limit_s": limit,
        "x_flop_limit": batched / limit,
        "timings": rows,
    }


# --- against an earlier revision ---------------------------------------------------------------


def load_revision(rev: str) -> types.ModuleType:
    """The batched trainer of git revision ``rev``, as a module beside the current one."""
    root = Path(__file__).resolve().parents[1]
    src = subprocess.run(
        ["git", "-C", str(root), "show", f"{rev}:src/ffmatch/paper/nn/batched.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "batched_baseline.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("batched_baseline", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _same_bits(a: Sequence[TrainResult], b: Sequence[TrainResult]) -> bool:
    def arrays(r: TrainResult) -> list[np.ndarray | None]:
        h = r.history
        return [*r.weights.weights, *r.weights.biases, r.val_proba, h.train_loss, h.val_loss]

    return all(
        (u is None and v is None) or np.array_equal(u, v, equal_nan=True)
        for ra, rb in zip(a, b, strict=True)
        for u, v in zip(arrays(ra), arrays(rb), strict=True)
    )


def compare(rev: str, jobs_by_name: dict[str, list[TrainJob]], repeats: int) -> dict[str, object]:
    """Best-of-``repeats`` CPU seconds of revision ``rev``'s trainer and the current one
    (compiled and eager Adam), interleaved; whether their results are the same bits."""
    base = load_revision(rev)
    always = batched._use_fused

    def current(on: bool) -> Callable[..., list[TrainResult]]:
        def run(jobs: Sequence[TrainJob], **kw: object) -> list[TrainResult]:
            batched._use_fused = lambda *_: on  # type: ignore[assignment]
            try:
                return train_many(jobs, **kw)  # type: ignore[arg-type]
            finally:
                batched._use_fused = always

        return run

    trainers: dict[str, Callable[..., list[TrainResult]]] = {
        f"rev {rev}": base.train_many,
        "current, eager Adam": current(False),
        "current, compiled Adam": current(True),
    }
    tiny = next(iter(jobs_by_name.values()))[:1]
    trainers[f"rev {rev}"](tiny)  # warm-up: first-call costs of torch kernels
    trainers["current, eager Adam"](tiny)
    # The first compiled step loads numba and its loop (compiled once, cached on disk): a
    # cost each process pays once, when it trains enough to use the compiled Adam.
    loaded_before = fused.is_loaded()
    start = time.process_time()
    trainers["current, compiled Adam"](tiny)
    load_s = time.process_time() - start
    print(
        f"compiled Adam: first use (numba import, cached loop loaded) {load_s:.2f} s CPU"
        + (" (already loaded)" if loaded_before else "")
    )
    out: dict[str, object] = {"load_s": load_s}
    print(f"\n## batched trainer of {rev} vs current: best of {repeats} CPU seconds, interleaved")
    print(f"{'workload':<34}" + "".join(f"{k:>24}" for k in trainers) + "   same bits")
    for name, (jobs, evaluate) in {
        **{k: (v, "every_epoch") for k, v in jobs_by_name.items()},
        **{f"{k}, last epoch": (v, "last_epoch") for k, v in jobs_by_name.items()},
    }.items():
        best = dict.fromkeys(trainers, float("inf"))
        results = {}
        for _ in range(repeats):
            for label, train in trainers.items():
                start = time.process_time()
                results[label] = train(jobs, evaluate=evaluate)
                best[label] = min(best[label], time.process_time() - start)
        first = next(iter(results.values()))
        same = all(_same_bits(first, r) for r in results.values())
        ref = best[f"rev {rev}"]
        cells = "".join(f"{f'{v:.3f} s ({ref / v:.2f}x)':>24}" for v in best.values())
        print(f"{name:<34}{cells}   {same}")
        out[name] = {"seconds": best, "same_bits": same}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny workloads")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (sklearn stays on cpu)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats, median taken")
    parser.add_argument(
        "--sample",
        type=int,
        default=50,
        help="networks of (b) the sequential loop and sklearn run (default 50)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--compare", metavar="REV", help="only: this git revision's batched trainer vs current"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # the stacked engine and the sequential loop
    set_threads(args.threads)  # the compiled engine
    repeats = 1 if args.quick else args.repeats
    epochs = 8 if args.quick else 80

    x, y = paper_rows()
    peak = measure_peak(args.device, repeats)
    print(
        f"# bench_trainer: torch {torch.__version__}, device {args.device}, "
        f"{args.threads} threads, {platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"peak: matmul 1024^2 {peak['matmul_1024']:.1f} GFLOP/s, "
        f"bmm (1000,12,56)@(1000,56,20) {peak['bmm_1000x12x56x20']:.1f} GFLOP/s"
    )
    out: dict[str, object] = {
        "device": args.device,
        "threads": args.threads,
        "peak": peak,
        "torch": torch.__version__,
        "quick": args.quick,
    }

    jobs_a = cv_jobs(x, y, hidden=(20, 10), epochs=epochs, lr=1e-4, seed=args.seed)
    n_configs = 5 if args.quick else 100
    jobs_b = search_jobs(x, y, n_configs=n_configs, seed=args.seed)
    if args.compare:
        out["compare"] = compare(args.compare, {"(a)": jobs_a, "(b)": jobs_b}, repeats)
        limit = useful_flops(jobs_b) / (peak["bmm_1000x12x56x20"] * 1e9)
        print(f"(b): FLOP limit at this run's bmm peak {limit:.3f} s")
        if args.json:
            args.json.write_text(json.dumps(out, indent=2))
        return
    out["a"] = report(
        "(a) 10-fold CV at the paper's settings",
        jobs_a,
        {
            "compiled": time_batched(jobs_a, args.device, repeats),
            "stacked": time_batched(jobs_a, args.device, repeats, engine="stacked"),
            "sequential": time_sequential(jobs_a, args.device, None),
            "sklearn": time_sklearn(jobs_a, None),
        },
        peak,
        args.device,
    )

    sample = min(args.sample, 10) if args.quick else args.sample
    out["b"] = report(
        f"(b) {n_configs} configurations x 10 folds",
        jobs_b,
        {
            "compiled": time_batched(jobs_b, args.device, repeats),
            "compiled-last": time_batched(jobs_b, args.device, repeats, "last_epoch"),
            "stacked": time_batched(jobs_b, args.device, repeats, engine="stacked"),
            "stacked-last": time_batched(
                jobs_b, args.device, repeats, "last_epoch", engine="stacked"
            ),
            "sequential": time_sequential(jobs_b, args.device, sample),
            "sklearn": time_sklearn(jobs_b, sample),
        },
        peak,
        args.device,
    )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
