"""Benchmark: three ways to run the training step of many small MLPs on the CPU (issue 15).

The same 100 networks (56-80-40-2, batch 12, Adam), side by side in one process:

- ``stacked``: ffmatch 0.1's step, all networks as one tensor program (stacked ``bmm``,
  hand-written backward, eager Adam passes): ``ffmatch.paper.nn.batched.stacked_gradients``
  and ``ffmatch.paper.nn.adam.adam_step_``;
- ``torch.compile``: that step through ``torch.compile`` (inductor's C++ backend); its
  compile time is reported separately (inductor caches it on disk between runs);
- ``compiled``: ``train_many``'s CPU engine, each network's whole training in one compiled
  loop (``ffmatch.paper.nn.cpu``), timed on the same networks for the same number of steps.

Reported: microseconds per network-step (best of ``--repeats``, process CPU time, so a
shared machine's other work counts less) and the ratios.

    python benchmarks/bench_engines.py --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch

from ffmatch.paper.nn import cpu
from ffmatch.paper.nn.adam import BETA1, BETA2, EPS
from ffmatch.paper.nn.batched import stacked_gradients
from ffmatch.paper.nn.train import TrainJob

N_NETS, BATCH, SIZES, EPOCHS, ROWS = 100, 12, (56, 80, 40, 2), 20, 36


def _stacked_state(seed: int) -> tuple[list[torch.Tensor], ...]:
    """Weights ``(N, in, out)`` and biases ``(N, 1, out)`` of every layer, and Adam's moments."""
    gen = torch.Generator().manual_seed(seed)
    params: list[torch.Tensor] = []
    for a, b in itertools.pairwise(SIZES):
        bound = 1 / a**0.5
        params += [
            (torch.rand(N_NETS, a, b, generator=gen) * 2 - 1) * bound,
            (torch.rand(N_NETS, 1, b, generator=gen) * 2 - 1) * bound,
        ]
    return params, [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]


def _step(
    params: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    x: torch.Tensor,
    w: torch.Tensor,
    neg_yw: torch.Tensor,
    lr: torch.Tensor,
    scale: torch.Tensor,
    eps: torch.Tensor,
) -> None:
    """One training step of every network: forward, hand-written backward, then Adam with
    its bias corrections folded into ``scale`` and ``eps`` (0-d tensors, so that
    ``torch.compile`` does not specialise on the step number)."""
    layers = list(zip(params[::2], params[1::2], strict=True))
    grads = stacked_gradients(layers, x, w, neg_yw)
    for p, g, mm, vv in zip(params, grads, m, v, strict=True):
        g = g.reshape(p.shape)
        mm.lerp_(g, 1 - BETA1)
        vv.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
        # sqrt(v) as 1 / rsqrt(v), as ffmatch.paper.nn.adam does: torch's sqrt is many times
        # slower on the zeros (silent units) that fill v here.
        p.add_(mm / (vv.rsqrt().reciprocal() + eps) * lr * scale)


def _batches(seed: int, steps: int) -> list[tuple[torch.Tensor, ...]]:
    """Fresh rows each step (no network sees one batch twice: no drift into denormals)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        x = torch.rand(N_NETS, BATCH, SIZES[0], generator=gen)
        y = torch.nn.functional.one_hot(torch.randint(0, 2, (N_NETS, BATCH), generator=gen), 2)
        w = torch.full((N_NETS, BATCH, 1), 1 / BATCH)
        out.append((x, w, -y.float() * w))
    return out


def _time_stacked(step: Callable[..., None], steps: int, seed: int) -> float:
    params, m, v = _stacked_state(seed)
    lr = torch.full((N_NETS, 1, 1), 1e-3)
    batches = _batches(seed, steps)
    start = time.process_time()
    with torch.inference_mode():
        for t, (x, w, neg_yw) in enumerate(batches, 1):
            c2 = math.sqrt(1 - BETA2**t)
            scale = torch.tensor(-c2 / (1 - BETA1**t))
            step(params, m, v, x, w, neg_yw, lr, scale, torch.tensor(EPS * c2))
    return time.process_time() - start


def _jobs(seed: int) -> list[TrainJob]:
    rng = np.random.default_rng(seed)
    return [
        TrainJob(
            x_train=rng.random((ROWS, SIZES[0]), dtype=np.float32),
            y_train=rng.integers(0, 2, ROWS),
            hidden=SIZES[1:-1],
            epochs=EPOCHS,
            lr=1e-3,
            seed=k,
        )
        for k in range(N_NETS)
    ]


def _time_compiled(threads: int, seed: int) -> float:
    jobs = _jobs(seed)
    packed = cpu.pack(jobs)
    start = time.process_time()
    cpu.run(packed, jobs, every_epoch=False, threads=threads)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = EPOCHS * -(-ROWS // BATCH)  # the compiled engine's steps per network
    print(
        f"# bench_engines: {N_NETS} networks {SIZES}, batch {BATCH}, {steps} steps each, "
        f"{args.threads} threads, load average {os.getloadavg()[0]:.2f}"
    )

    start = time.perf_counter()
    compiled_step = torch.compile(_step, dynamic=False)
    _time_stacked(compiled_step, 2, args.seed)  # compiles
    compile_s = time.perf_counter() - start
    _time_compiled(args.threads, args.seed)  # loads (or compiles) the numba loop
    best: dict[str, float] = {}
    for _ in range(args.repeats):  # interleaved, so load hits all alike
        for name, run in (
            ("stacked", lambda: _time_stacked(_step, steps, args.seed)),
            ("torch.compile", lambda: _time_stacked(compiled_step, steps, args.seed)),
            ("compiled", lambda: _time_compiled(args.threads, args.seed)),
        ):
            best[name] = min(best.get(name, float("inf")), run())
    per = {k: s / (N_NETS * steps) * 1e6 for k, s in best.items()}
    print("| engine | CPU us per network-step | x stacked |")
    print("|---|---|---|")
    for k, us in per.items():
        print(f"| {k} | {us:.1f} | {per['stacked'] / us:.2f} |")
    print(f"torch.compile: {compile_s:.1f} s to compile (wall, this process)")


if __name__ == "__main__":
    main()
