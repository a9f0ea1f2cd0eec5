"""Train many small MLPs on the CPU: each network start to end in one compiled loop.

The paper's networks (56-h-h/2-2, batch 12) hold about 1,400 numbers: a network, its Adam
moments, its rows and one batch's activations all fit in a core's L1 cache. Stacked into
tensors (``ffmatch.paper.nn.batched``, the GPU path) every step costs some 30 kernel calls
over all networks' padded buffers; here one network's whole training is one loop that
never leaves the cache, with no padding (each network keeps its own sizes, epochs and
rows) and with ReLU's zeros skipped. Networks are independent, so threads take them in
turn; a network's numbers never depend on the threads or on the other networks.

Hand-written (numba, ``_train_kernel``) because no library trains thousands of distinct
tiny networks without per-step dispatch: ``torch.compile`` of the stacked step measured
slower than this and costs seconds of compile per process (docs/benchmarks.md). The
arithmetic is ``torch.optim.Adam`` on the mean cross-entropy, as the reference loop
``ffmatch.paper.nn.sequential`` computes it; the tests check both give the same networks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.paper.nn.init import batch_orders, init_draws, n_draws, weights_from_draws
from ffmatch.paper.nn.mlp import MLPWeights

_PIECES_PER_THREAD = 16  # work pieces per thread: small enough that no thread idles long
# Hidden and output widths are padded to a multiple of this, so the inner loops are whole
# vector registers (no scalar tails); padded units start at zero and stay zero.
LANES = 8


@cache
def _kernel() -> Callable[..., None]:
    """The compiled loop (numba is imported here, on first use, not with the package)."""
    from ffmatch.paper.nn._train_kernel import train_networks

    return train_networks  # type: ignore[no-any-return]


@dataclass(frozen=True, kw_only=True, slots=True)
class Packed:
    """Every network's data, weights and outputs in flat arrays, with each one's offsets.

    Network i has ``real[i, :depth[i] + 1]`` layer sizes, padded to ``sizes`` (every width
    but the input's rounded up to a multiple of ``LANES``); its parameters are
    ``params[p_at[i]:p_at[i] + n_params[i]]``, layer by layer a row-major ``(in, out)``
    weight then the bias; its rows are ``x[x_at[i]:]`` (``n_train`` training rows, then
    ``n_val`` validation rows, ``d_in[i]`` numbers each) with labels ``y[y_at[i]:]``; its
    batch order ``order[order_at[i]:]`` (``epochs[i] x n_train[i]``); ``stats[stats_at[i]:]``
    gets 4 numbers per epoch (train loss and accuracy, val loss and accuracy; NaN where not
    measured) and ``proba[proba_at[i]:]`` P(label 1) on its validation rows.
    """

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]
    x_at: npt.NDArray[np.int64]
    y_at: npt.NDArray[np.int64]
    d_in: npt.NDArray[np.int64]
    n_train: npt.NDArray[np.int64]
    n_val: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    order_at: npt.NDArray[np.int64]
    params: npt.NDArray[np.float32]
    m: npt.NDArray[np.float32]
    v: npt.NDArray[np.float32]
    p_at: npt.NDArray[np.int64]
    n_params: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    real: npt.NDArray[np.int64]
    depth: npt.NDArray[np.int64]
    epochs: npt.NDArray[np.int64]
    lr: npt.NDArray[np.float32]
    batch: npt.NDArray[np.int64]
    stats: npt.NDArray[np.float64]
    stats_at: npt.NDArray[np.int64]
    proba: npt.NDArray[np.float32]
    proba_at: npt.NDArray[np.int64]

    def kernel_args(self) -> tuple[Any, ...]:
        """The arrays in the order ``train_networks`` takes them, after ``nets``."""
        return (
            self.x, self.y, self.x_at, self.y_at, self.d_in, self.n_train, self.n_val,
            self.order, self.order_at, self.params, self.m, self.v, self.p_at, self.n_params,
            self.sizes, self.depth, self.epochs, self.lr, self.batch, self.stats,
            self.stats_at, self.proba, self.proba_at,
        )  # fmt: skip


def _starts(counts: Sequence[int]) -> npt.NDArray[np.int64]:
    return np.concatenate([[0], np.cumsum(counts[:-1])]).astype(np.int64)


def pack(jobs: Sequence[Any]) -> Packed:
    """Lay ``TrainJob``s out as ``Packed``: their rows, initial weights and batch orders."""
    sizes = [(np.shape(j.x_train)[1], *(int(h) for h in j.hidden), 2) for j in jobs]
    n_train = [len(j.y_train) for j in jobs]
    n_val = [0 if j.y_val is None else len(j.y_val) for j in jobs]
    rows = [nt + nv for nt, nv in zip(n_train, n_val, strict=True)]
    d_in = [s[0] for s in sizes]
    padded = [(s[0], *(-(-w // LANES) * LANES for w in s[1:])) for s in sizes]
    # An epoch's order does not depend on how many epochs follow (batch_orders draws them
    # in turn), so jobs that share rows and seed (a GA's individuals on one fold) share one
    # draw, cut to their epochs.
    longest: dict[tuple[int, int], int] = {}
    for job in jobs:
        key = (len(job.y_train), job.seed)
        longest[key] = max(longest.get(key, 0), job.epochs)
    orders = {key: batch_orders(key[0], e, key[1]) for key, e in longest.items()}
    x_parts, y_parts, o_parts = [], [], []
    for job in jobs:
        x_parts.append(np.asarray(job.x_train, np.float32).ravel())
        y_parts.append(np.asarray(job.y_train, np.int64))
        if job.y_val is not None:
            x_parts.append(np.asarray(job.x_val, np.float32).ravel())
            y_parts.append(np.asarray(job.y_val, np.int64))
        o_parts.append(orders[len(job.y_train), job.seed][: job.epochs].ravel())
    n_params = [sum(a * b + b for a, b in itertools.pairwise(s)) for s in padded]
    epochs = [j.epochs for j in jobs]
    params = np.zeros(sum(n_params), np.float32)  # the initial weights: see init_weights_
    max_depth = max(len(s) for s in sizes)
    size_table = np.zeros((2, len(jobs), max_depth), np.int64)
    for i, (s, ps) in enumerate(zip(sizes, padded, strict=True)):
        size_table[0, i, : len(s)] = ps
        size_table[1, i, : len(s)] = s
    return Packed(
        x=np.concatenate(x_parts),
        y=np.concatenate(y_parts),
        x_at=_starts([r * d for r, d in zip(rows, d_in, strict=True)]),
        y_at=_starts(rows),
        d_in=np.array(d_in, np.int64),
        n_train=np.array(n_train, np.int64),
        n_val=np.array(n_val, np.int64),
        order=np.concatenate(o_parts).astype(np.int64),
        order_at=_starts([nt * e for nt, e in zip(n_train, epochs, strict=True)]),
        params=params,
        m=np.zeros(len(params), np.float32),
        v=np.zeros(len(params), np.float32),
        p_at=_starts(n_params),
        n_params=np.array(n_params, np.int64),
        sizes=size_table[0],
        real=size_table[1],
        depth=np.array([len(s) - 1 for s in sizes], np.int64),
        epochs=np.array(epochs, np.int64),
        lr=np.array([j.lr for j in jobs], np.float32),
        batch=np.array([j.batch_size for j in jobs], np.int64),
        stats=np.full(4 * sum(epochs), np.nan),
        stats_at=_starts([4 * e for e in epochs]),
        proba=np.zeros(sum(n_val), np.float32),
        proba_at=_starts(n_val),
    )


def init_draws_by_seed(p: Packed, jobs: Sequence[Any]) -> dict[int, npt.NDArray[np.float64]]:
    """For each seed of the jobs drawn from their seed (no ``init``), its init stream as long
    as its largest network (``p.real``) needs: a GA's individuals on one fold share one draw."""
    longest: dict[int, int] = {}
    for i, job in enumerate(jobs):
        if job.init is None:
            n = n_draws(_real_sizes(p, i))
            longest[job.seed] = max(longest.get(job.seed, 0), n)
    return {seed: init_draws(seed, n) for seed, n in longest.items()}


def _real_sizes(p: Packed, i: int) -> tuple[int, ...]:
    """Network i's layer sizes, unpadded: ``(d, *hidden, 2)``."""
    return tuple(int(s) for s in p.real[i, : int(p.depth[i]) + 1])


def init_weights_(
    p: Packed,
    jobs: Sequence[Any],
    nets: Iterable[int],
    draws: dict[int, npt.NDArray[np.float64]],
) -> None:
    """Write networks ``nets``' initial weights (``job.init``, else from their seed's
    ``draws``, see ``init_draws_by_seed``) into ``p.params``, each layer in the top-left
    corner of its padded block."""
    for i in nets:
        job = jobs[i]
        nd = int(p.depth[i]) + 1
        w0 = (
            job.init
            if job.init is not None
            else weights_from_draws(_real_sizes(p, i), draws[job.seed])
        )
        at = int(p.p_at[i])
        for a, b, w, bias in zip(
            p.sizes[i, : nd - 1], p.sizes[i, 1:nd], w0.weights, w0.biases, strict=True
        ):
            p.params[at : at + a * b].reshape(a, b)[: w.shape[0], : w.shape[1]] = w
            p.params[at + a * b : at + a * b + len(bias)] = bias
            at += a * b + b


def _work(p: Packed) -> npt.NDArray[np.float64]:
    """Each network's multiply-adds per epoch times epochs: what its training costs."""
    macs = (p.real[:, :-1] * p.real[:, 1:]).sum(axis=1)
    work: npt.NDArray[np.float64] = (macs * p.n_train * p.epochs).astype(np.float64)
    return work


def run(
    p: Packed,
    jobs: Sequence[Any],
    *,
    every_epoch: bool,
    threads: int,
    on_done: Callable[[npt.NDArray[np.int64], float], None] | None = None,
) -> None:
    """Initialise and train every network of ``p`` (packed from ``jobs``) in place,
    ``threads`` at a time (the compiled loop releases the GIL). This thread draws the
    initial weights piece by piece and hands each piece to the threads as soon as it is
    drawn, so the draws (which hold the GIL) overlap the training: drawn inside the
    threads they took several times as long, and drawn all before it they were a serial
    tenth of the GA's search. As each piece finishes, this thread calls
    ``on_done(indices, fraction)``: the networks just trained (their results are final) and
    the share of all the work done so far."""
    kernel = _kernel()
    work = _work(p)
    # Networks dealt round-robin, longest first, into pieces of about equal work that the
    # threads take in turn: the last pieces to finish are short ones.
    by_cost = np.argsort(-work, kind="stable")
    n_pieces = min(len(by_cost), max(1, threads) * _PIECES_PER_THREAD)
    pieces = [np.ascontiguousarray(by_cost[k::n_pieces]) for k in range(n_pieces)]
    args = p.kernel_args()
    draws = init_draws_by_seed(p, jobs)

    def train(piece: npt.NDArray[np.int64]) -> None:
        kernel(piece, *args, every_epoch)

    total, done = float(work.sum()) or 1.0, 0.0
    if threads <= 1:
        for piece in pieces:
            init_weights_(p, jobs, piece, draws)
            train(piece)
            done += float(work[piece].sum())
            if on_done is not None:
                on_done(piece, done / total)
        return
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = {}
        for piece in pieces:  # each piece's networks only: the threads write the others
            init_weights_(p, jobs, piece, draws)
            futures[pool.submit(train, piece)] = piece
        for future in as_completed(futures):
            future.result()
            piece = futures[future]
            done += float(work[piece].sum())
            if on_done is not None:
                on_done(piece, done / total)
    finally:
        # On Ctrl-C, SIGTERM or an error, the pieces not yet started are dropped: the
        # command stops once the running ones (a small share of the work) finish.
        pool.shutdown(wait=True, cancel_futures=True)


def unpack(
    p: Packed, i: int
) -> tuple[MLPWeights, npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """Network i's trained weights, its ``(epochs, 4)`` stats and its validation P(1)
    (empty without validation rows); the last two are views into ``p``."""
    nd = int(p.depth[i]) + 1
    at = int(p.p_at[i])
    ws, bs = [], []
    for (a, b), (ra, rb) in zip(
        itertools.pairwise(p.sizes[i, :nd].tolist()),
        itertools.pairwise(p.real[i, :nd].tolist()),
        strict=True,
    ):
        ws.append(p.params[at : at + a * b].reshape(a, b)[:ra, :rb].copy())
        bs.append(p.params[at + a * b : at + a * b + rb].copy())
        at += a * b + b
    s0 = int(p.stats_at[i])
    stats = p.stats[s0 : s0 + 4 * int(p.epochs[i])].reshape(-1, 4)
    nv, q0 = int(p.n_val[i]), int(p.proba_at[i])
    return MLPWeights(weights=tuple(ws), biases=tuple(bs)), stats, p.proba[q0 : q0 + nv]
