"""The "stacked" engine of ``train_many`` (``ffmatch.paper.nn.train``): many small MLPs
trained at once, as one stacked tensor program per bucket of similar size.

The paper's networks (56-h-h/2-2, batch 12) are far too small to keep a processor busy one
at a time; cross-validation and the genetic search train hundreds of them. Here N networks
live in one flat parameter buffer, layer-major (all networks' first-layer weights
``(N, in, out)``, then all their first-layer biases, then the next layer), so each layer's
weights and gradients are contiguous ``(n, in, out)`` tensors that ``bmm`` reads and writes
in place. A training step is a handful of ``bmm`` calls over all networks, with a
hand-written backward, then Adam over the buffer: on the CPU one compiled pass over the real
(unpadded) parameters (``ffmatch.paper.nn.fused``), elsewhere the eager passes of
``ffmatch.paper.nn.adam`` per block. Both give the same numbers.

Networks may differ in everything a ``TrainJob`` holds:
- hidden sizes (and depth, input width): jobs are grouped into buckets of similar size,
  padded only within a bucket; padded units start at zero, get zero gradient and stay
  exactly zero;
- training rows: each network has its own row order; rows past its last one are zero
  with zero loss weight, so a short last batch averages over its real rows only, exactly
  like a ``DataLoader`` with ``drop_last=False``; a bucket holds networks with the same
  number of batches per epoch, so they step together;
- epochs: a bucket is sorted by epochs, longest first, and each epoch trains only the
  leading networks that still have epochs to go;
- learning rate and seed: a learning rate per row in Adam, an init and order per job.
A network's result depends only on its own job: no number flows between networks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from ffmatch.paper.nn import fused
from ffmatch.paper.nn.adam import adam_step_
from ffmatch.paper.nn.init import batch_orders, init_weights
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import N_OUT, TrainJob, TrainResult, train_result


@dataclass(frozen=True, kw_only=True, slots=True)
class _CostModel:
    """Seconds of a training step, for bucketing: only the ratios matter. A bucket pays a
    fixed cost per step (about 30 kernel launches); every network in it pays for the
    bucket's padded size (matmul FLOPs, and Adam's passes over each parameter)."""

    step_overhead_s: float
    flop_s: float
    param_step_s: float


_COSTS = {
    "cpu": _CostModel(step_overhead_s=3e-4, flop_s=1 / 30e9, param_step_s=1e-9),  # 2-core CPU
    # On a GPU the launches are the cost and padding is nearly free: few, wide buckets.
    "cuda": _CostModel(step_overhead_s=3e-4, flop_s=1 / 20e12, param_step_s=1e-12),
}
_MAX_ATOMS = 64  # distinct sizes are merged into at most this many before bucketing
# Parameter-steps (padded parameters x steps) from which the compiled Adam pays for loading
# numba and its cached loop (0.5-1 s of CPU) in a process that has not loaded it yet:
# it saves about 3 ns per padded parameter-step over the eager passes on this 2-core CPU.
# Either path gives the same numbers, so this choice only moves time.
_FUSED_MIN_WORK = 1e8


def train_stacked(
    jobs: Sequence[TrainJob],
    *,
    device: str,
    on_epoch: Callable[[int, int], None] | None,
    every_epoch: bool,
    threads: int | None,
) -> list[TrainResult]:
    """``train_many`` on the stacked engine (jobs already checked there); ``threads`` sets
    PyTorch's intra-op threads (None: leave them)."""
    if threads is not None:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    buckets = bucket_jobs(jobs, device=dev.type)
    use_fused = _use_fused(jobs, buckets, dev)
    stacks = [_build_stack(jobs, members, dev, use_fused=use_fused) for members in buckets]
    total = max(job.epochs for job in jobs)
    with torch.inference_mode():
        # Epoch-major over buckets, so on_epoch follows the longest job; buckets share nothing.
        for epoch in range(total):
            for stack in stacks:
                if epoch < stack.n_epochs:
                    _train_epoch(stack, epoch, every_epoch=every_epoch)
            if on_epoch is not None:
                on_epoch(epoch + 1, total)
        results: dict[int, TrainResult] = {}
        for stack in stacks:
            results.update(_collect(jobs, stack))
    return [results[k] for k in range(len(jobs))]


# --- bucketing ----------------------------------------------------------------------------


def _sizes(job: TrainJob) -> tuple[int, ...]:
    return (int(np.shape(job.x_train)[1]), *(int(h) for h in job.hidden), N_OUT)


def _n_batches(job: TrainJob) -> int:
    return -(-int(np.shape(job.x_train)[0]) // job.batch_size)


def _step_cost(sizes: tuple[int, ...], batch: int, cost: _CostModel) -> float:
    """Seconds one network of these (padded) sizes adds to a step: matmuls plus Adam."""
    mac = sum(a * b for a, b in itertools.pairwise(sizes))
    n_params = mac + sum(sizes[1:])
    flops = 6 * batch * mac - 2 * batch * sizes[0] * sizes[1]  # fwd + bwd, no input grad
    return flops * cost.flop_s + n_params * cost.param_step_s


def bucket_jobs(jobs: Sequence[TrainJob], *, device: str = "cpu") -> list[list[int]]:
    """Job indices in the buckets ``train_many`` stacks, padded to each bucket's widest job.

    A bucket has one depth, batch size and number of batches per epoch; widths are cut by
    a cost model that ``device`` ("cpu", "cuda") picks. Public so benchmarks can count work.
    """
    # Same steps per epoch, so a stack's networks step together and share Adam's step count.
    groups: dict[tuple[int, int, int], list[int]] = {}
    for k, job in enumerate(jobs):
        groups.setdefault((len(job.hidden), job.batch_size, _n_batches(job)), []).append(k)
    out: list[list[int]] = []
    for (_, batch, _), members in sorted(groups.items()):
        out.extend(_split_group(jobs, members, batch, _COSTS.get(device, _COSTS["cuda"])))
    return out


def _split_group(
    jobs: Sequence[TrainJob], members: list[int], batch: int, cost: _CostModel
) -> list[list[int]]:
    """Cut one group, sorted by size, into contiguous buckets of least modelled cost (DP)."""
    by_size: dict[tuple[int, ...], list[int]] = {}
    for k in members:
        by_size.setdefault(_sizes(jobs[k]), []).append(k)
    keys = sorted(by_size, key=lambda s: (_step_cost(s, batch, cost), s))
    # Atoms: runs of adjacent sizes, at most _MAX_ATOMS of them, so the DP stays O(64^2).
    cuts = np.linspace(0, len(keys), min(len(keys), _MAX_ATOMS) + 1).round().astype(int)
    atoms = [[k for s in keys[a:b] for k in by_size[s]] for a, b in itertools.pairwise(cuts)]
    dims = [np.max([_sizes(jobs[k]) for k in atom], axis=0) for atom in atoms]
    work = [sum(jobs[k].epochs * (_n_batches(jobs[k]) + 1) for k in atom) for atom in atoms]
    span = [max(jobs[k].epochs * (_n_batches(jobs[k]) + 1) for k in atom) for atom in atoms]
    n = len(atoms)
    best = [0.0] + [math.inf] * n  # best[j]: least cost of atoms[:j]
    cut_at = [0] * (n + 1)
    for j in range(1, n + 1):
        pad, w, s = dims[j - 1], 0, 0
        for i in range(j - 1, -1, -1):
            pad, w, s = np.maximum(pad, dims[i]), w + work[i], max(s, span[i])
            total = best[i] + s * cost.step_overhead_s + w * _step_cost(tuple(pad), batch, cost)
            if total < best[j]:
                best[j], cut_at[j] = total, i
    out: list[list[int]] = []
    j = n
    while j > 0:
        out.append([k for atom in atoms[cut_at[j] : j] for k in atom])
        j = cut_at[j]
    return out[::-1]


# --- one bucket as stacked tensors --------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _Stack:
    """One bucket's tensors. The tensors are updated in place; shapes are fixed.

    N networks, sorted by epochs (longest first); ``n_pad`` training rows per network
    (the bucket's longest training set), ``n_val`` validation rows, P (padded) parameters
    per network.
    """

    members: tuple[int, ...]  # job index of each stacked network, in stack order
    sizes: tuple[int, ...]  # padded layer sizes (d, *hidden, 2)
    layout: tuple[tuple[int, int], ...]  # per layer: offsets of its weight and bias blocks
    blocks: npt.NDArray[np.int64]  # (2 * layers, 3) offset, rows, cols of each block
    real_rows: npt.NDArray[np.int64]  # (N, 2 * layers) rows of each block a network has
    real_cols: npt.NDArray[np.int64]  # (N, 2 * layers) columns of each block it has
    batch: int
    n_batches: int
    n_pad: int
    n_active: npt.NDArray[np.int64]  # (n_epochs,) networks still training at each epoch
    params: torch.Tensor  # (N * P,) layer-major, see _layout
    grads: torch.Tensor  # (N * P,) the same layout
    m: torch.Tensor  # (N * P,) Adam's first moment
    v: torch.Tensor  # (N * P,) Adam's second moment
    lr: torch.Tensor  # (N,) learning rates
    # (N * P,) learning rate of each parameter, for the eager Adam; None where the compiled
    # one (CPU) steps the networks.
    lr_flat: torch.Tensor | None
    x_train: torch.Tensor  # (N * n_pad, d) rows past a network's own are zero
    y_train: torch.Tensor  # (N * n_pad, 2) one-hot labels
    order: torch.Tensor  # (n_epochs, N * n_pad) rows of x_train in each epoch's order
    loss_w: torch.Tensor  # (N, n_pad, 1) 1 / (real rows in the batch), 0 on padding
    x_eval: torch.Tensor  # (N, n_pad + n_val, d) training rows, then validation rows
    y_eval: torch.Tensor  # (N, n_pad + n_val, 1) int64 labels
    eval_mask: torch.Tensor  # (N, n_pad + n_val, 2) 1 on real training / validation rows
    eval_count: torch.Tensor  # (N, 2, 1) real training and validation rows (at least 1)
    stats: torch.Tensor  # (n_epochs, N, 4) train loss, train acc, val loss, val acc; NaN
    # where not evaluated
    val_proba: torch.Tensor  # (N, n_val) P(label 1) at each network's last epoch

    @property
    def n_epochs(self) -> int:
        return int(self.n_active.shape[0])


def _use_fused(
    jobs: Sequence[TrainJob], buckets: Sequence[Sequence[int]], dev: torch.device
) -> bool:
    """The compiled Adam on the CPU, when it is loaded or the work pays for loading it."""
    if dev.type != "cpu":
        return False
    return fused.is_loaded() or _param_steps(jobs, buckets) >= _FUSED_MIN_WORK


def _param_steps(jobs: Sequence[TrainJob], buckets: Sequence[Sequence[int]]) -> float:
    """Padded parameters times training steps over all buckets: the optimizer's work."""
    total = 0.0
    for members in buckets:
        sizes = np.max([_sizes(jobs[k]) for k in members], axis=0)
        n_params = sum(int(a) * int(b) + int(b) for a, b in itertools.pairwise(sizes))
        total += n_params * sum(jobs[k].epochs * _n_batches(jobs[k]) for k in members)
    return total


def _build_stack(
    jobs: Sequence[TrainJob], members: list[int], dev: torch.device, *, use_fused: bool
) -> _Stack:
    """Pad and stack the jobs of one bucket; draw each one's init and batch order."""
    members = sorted(members, key=lambda k: (-jobs[k].epochs, k))
    sub = [jobs[k] for k in members]
    n = len(sub)
    real = np.array([_sizes(j) for j in sub], dtype=np.int64)  # (N, layers + 1)
    sizes = tuple(int(s) for s in real.max(axis=0))
    layout, blocks = _layout(sizes, n)
    ones = np.ones(n, np.int64)
    real_rows = np.stack([r for k in range(len(layout)) for r in (real[:, k], ones)], axis=1)
    real_cols = np.repeat(real[:, 1:], 2, axis=1)
    rows = _pack_rows(sub, sizes[0])
    n_epochs = sub[0].epochs

    def put(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(a), device=dev)

    p = put(_pack_weights(sub, sizes, layout))
    lr = np.array([j.lr for j in sub], dtype=np.float32)
    return _Stack(
        members=tuple(members),
        sizes=sizes,
        layout=layout,
        blocks=blocks,
        real_rows=real_rows,
        real_cols=real_cols,
        batch=sub[0].batch_size,
        n_batches=_n_batches(sub[0]),  # the same for every job of a bucket
        n_pad=rows.n_pad,
        n_active=np.array([sum(j.epochs > e for j in sub) for e in range(n_epochs)]),
        params=p,
        grads=torch.zeros_like(p),
        m=torch.zeros_like(p),
        v=torch.zeros_like(p),
        lr=put(lr),
        lr_flat=None if use_fused else put(_per_parameter(lr, blocks)),
        x_train=put(rows.x[:, : rows.n_pad].reshape(n * rows.n_pad, sizes[0])),
        y_train=put(np.eye(2, dtype=np.float32)[rows.y[:, : rows.n_pad].reshape(-1)]),
        order=put(_pack_orders(sub, rows.n_pad).reshape(n_epochs, n * rows.n_pad)),
        loss_w=put(_loss_weights(sub, rows.n_pad)[:, :, None]),
        x_eval=put(rows.x),
        y_eval=put(rows.y[:, :, None]),
        eval_mask=put(rows.mask),
        eval_count=put(np.maximum(rows.mask.sum(axis=1), 1.0)[:, :, None]),
        stats=torch.full((n_epochs, n, 4), torch.nan, device=dev),
        val_proba=torch.zeros((n, rows.x.shape[1] - rows.n_pad), device=dev),
    )


def _layout(
    sizes: tuple[int, ...], n: int
) -> tuple[tuple[tuple[int, int], ...], npt.NDArray[np.int64]]:
    """Layer-major offsets of ``n`` networks of these padded sizes in one flat buffer.

    Per layer, the start of its weight block ``(n, in, out)`` and of its bias block
    ``(n, out)``; and every block as (offset, rows, cols), biases as one row.
    """
    layout: list[tuple[int, int]] = []
    blocks: list[tuple[int, int, int]] = []
    off = 0
    for a, b in itertools.pairwise(sizes):
        layout.append((off, off + n * a * b))
        blocks += [(off, a, b), (off + n * a * b, 1, b)]
        off += n * (a * b + b)
    return tuple(layout), np.array(blocks, dtype=np.int64)


def _per_parameter(
    values: npt.NDArray[np.float32], blocks: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """A value per network, spread over that network's parameters in the flat layout."""
    return np.concatenate([np.repeat(values, rows * cols) for _, rows, cols in blocks.tolist()])


def _views(
    flat: npt.NDArray[np.float32] | torch.Tensor,
    sizes: tuple[int, ...],
    layout: tuple[tuple[int, int], ...],
    n: int,
) -> list[tuple[Any, Any]]:
    """Per layer, the leading ``n`` networks' weights ``(n, in, out)`` and biases
    ``(n, 1, out)``: contiguous views of a flat buffer (numpy or torch)."""
    out = []
    for k, (wo, bo) in enumerate(layout):
        a, b = sizes[k], sizes[k + 1]
        w = flat[wo : wo + n * a * b].reshape(n, a, b)
        bias = flat[bo : bo + n * b].reshape(n, 1, b)
        out.append((w, bias))
    return out


def _pack_weights(
    sub: Sequence[TrainJob], sizes: tuple[int, ...], layout: tuple[tuple[int, int], ...]
) -> npt.NDArray[np.float32]:
    """Initial flat parameters: each job's own init in the top-left of the padded layers."""
    n = len(sub)
    params = np.zeros(layout[-1][1] + n * sizes[-1], np.float32)
    views = _views(params, sizes, layout, n)
    for i, job in enumerate(sub):
        w0 = job.init if job.init is not None else init_weights(_sizes(job), job.seed)
        for (full, bias_full), wt, bias in zip(views, w0.weights, w0.biases, strict=True):
            full[i, : wt.shape[0], : wt.shape[1]] = wt  # padded rows and columns stay zero
            bias_full[i, 0, : len(bias)] = bias
    return params


@dataclass(frozen=True, kw_only=True, slots=True)
class _Rows:
    """Every job's rows, zero-padded: ``n_pad`` training rows, then the validation rows."""

    n_pad: int
    x: npt.NDArray[np.float32]  # (N, n_pad + n_val, d)
    y: npt.NDArray[np.int64]  # (N, n_pad + n_val)
    mask: npt.NDArray[np.float32]  # (N, n_pad + n_val, 2) 1 on real training / val rows


def _pack_rows(sub: Sequence[TrainJob], d: int) -> _Rows:
    n_pad = max(len(j.y_train) for j in sub)  # the last batch is only as wide as needed
    n_val = max((len(j.y_val) for j in sub if j.y_val is not None), default=0)
    x = np.zeros((len(sub), n_pad + n_val, d), np.float32)
    y = np.zeros((len(sub), n_pad + n_val), np.int64)
    mask = np.zeros((len(sub), n_pad + n_val, 2), np.float32)
    for i, job in enumerate(sub):
        nt, dj = len(job.y_train), _sizes(job)[0]
        x[i, :nt, :dj], y[i, :nt], mask[i, :nt, 0] = job.x_train, job.y_train, 1.0
        if job.x_val is not None and job.y_val is not None:
            nv = len(job.y_val)
            x[i, n_pad : n_pad + nv, :dj] = job.x_val
            y[i, n_pad : n_pad + nv] = job.y_val
            mask[i, n_pad : n_pad + nv, 1] = 1.0
    return _Rows(n_pad=n_pad, x=x, y=y, mask=mask)


def _pack_orders(sub: Sequence[TrainJob], n_pad: int) -> npt.NDArray[np.int64]:
    """(n_epochs, N, n_pad) each epoch's row order, as rows of the flattened x_train."""
    order = np.zeros((sub[0].epochs, len(sub), n_pad), np.int64)
    pos = np.arange(n_pad)
    for i, job in enumerate(sub):
        nt = len(job.y_train)
        order[: job.epochs, i, :nt] = batch_orders(nt, job.epochs, job.seed)
        order[:, i, nt:] = pos[nt:]  # padding rows: zero, weight 0
        order[:, i] += i * n_pad
    return order


def _loss_weights(sub: Sequence[TrainJob], n_pad: int) -> npt.NDArray[np.float32]:
    """(N, n_pad) 1 / real rows of the batch a position falls in; 0 past a job's rows."""
    w = np.zeros((len(sub), n_pad), np.float32)
    for i, job in enumerate(sub):
        nt, b = len(job.y_train), job.batch_size
        real_per_batch = np.clip(nt - b * np.arange(_n_batches(job)), 0, b)
        w[i, :nt] = 1.0 / real_per_batch[np.arange(nt) // b]
    return w


# --- the training loop --------------------------------------------------------------------


def _layers(
    stack: _Stack, n: int, flat: torch.Tensor | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views of the leading ``n`` networks' weights ``(n, in, out)`` and biases ``(n, 1, out)``
    in ``flat`` (the parameters by default, or a buffer of the same layout)."""
    buf = stack.params if flat is None else flat
    return _views(buf, stack.sizes, stack.layout, n)


def _forward(
    layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor
) -> list[torch.Tensor]:
    """Each layer's input, then the logits: ``[x, a_1, ..., z_L]``, each (n, rows, width)."""
    acts = [x]
    for k, (w, b) in enumerate(layers):
        z = torch.baddbmm(b, acts[-1], w)
        acts.append(z.relu_() if k < len(layers) - 1 else z)
    return acts


def stacked_gradients(
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    w: torch.Tensor,
    neg_yw: torch.Tensor,
    *,
    out: Sequence[torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """Gradients of each network's weighted cross-entropy: ``[dW_1, db_1, dW_2, ...]``.

    ``layers`` holds (n, in, out) weights and (n, 1, out) biases; ``x`` is (n, B, d); ``w``
    (n, B, 1) each row's loss weight (1 / real rows in the batch, 0 on padding); ``neg_yw``
    (n, B, 2) is -w * one-hot label, so the logits' gradient is softmax(z) * w + neg_yw.
    Hand-written backward of the fixed MLP, cheaper than autograd's graph and checked
    against it in the tests: for layer k, dW = a_k^T g, db = sum over rows of g, and the
    gradient below is (g W^T) * (a_k > 0). dW is (n, in, out), db (n, out); ``out``, if
    given, holds contiguous tensors of those shapes that receive them (no copy).
    """
    acts = _forward(layers, x)
    g = torch.softmax(acts[-1], dim=2).mul_(w).add_(neg_yw)  # (n, B, 2)
    grads: list[torch.Tensor] = []
    for k in range(len(layers) - 1, -1, -1):
        if out is None:
            grads.append(g.sum(1))  # (n, out)
            grads.append(torch.bmm(acts[k].transpose(1, 2), g))  # (n, in, out)
        else:
            grads.append(torch.sum(g, 1, out=out[2 * k + 1]))
            grads.append(torch.bmm(acts[k].transpose(1, 2), g, out=out[2 * k]))
        if k:
            below = torch.bmm(g, layers[k][0].transpose(1, 2))  # (n, B, in)
            g = torch.ops.aten.threshold_backward(below, acts[k], 0.0)
    return grads[::-1]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Active:
    """Views of the leading ``n`` networks of a stack, made once per epoch (not per step)."""

    n: int
    layers: list[tuple[torch.Tensor, torch.Tensor]]
    grads: list[torch.Tensor]  # [dW_1, db_1, ...] (n, in, out) and (n, out) views of grads
    # The eager Adam's operands: (params, grads, m, v, lr) 1-D views of the active
    # networks, the whole buffers while all train, else one per block (a leading slice).
    eager: list[tuple[torch.Tensor, ...]]


def _active(stack: _Stack, n: int) -> _Active:
    eager: list[tuple[torch.Tensor, ...]] = []
    if stack.lr_flat is not None:
        buffers = (stack.params, stack.grads, stack.m, stack.v, stack.lr_flat)
        if n == len(stack.members):
            eager.append(buffers)
        else:
            for off, rows, cols in stack.blocks.tolist():
                eager.append(tuple(t[off : off + n * rows * cols] for t in buffers))
    return _Active(
        n=n,
        layers=_layers(stack, n),
        grads=[t for w, b in _layers(stack, n, stack.grads) for t in (w, b.view(n, -1))],
        eager=eager,
    )


def _train_step(
    stack: _Stack, act: _Active, x: torch.Tensor, w: torch.Tensor, neg_yw: torch.Tensor, step: int
) -> None:
    """One forward, backward and Adam step of the active networks on one batch."""
    stacked_gradients(act.layers, x, w, neg_yw, out=act.grads)
    if stack.lr_flat is None:
        fused.adam_step_flat_(
            stack.params,
            stack.grads,
            stack.m,
            stack.v,
            stack.lr,
            step,
            blocks=stack.blocks,
            real_rows=stack.real_rows,
            real_cols=stack.real_cols,
            n=act.n,
        )
    else:
        for p, g, m, v, lr in act.eager:
            adam_step_(p, g, m, v, lr, step)


def _train_epoch(stack: _Stack, epoch: int, *, every_epoch: bool) -> None:
    """Train the networks that still have epochs to go, then evaluate them (or only those
    whose last epoch this is: a trailing slice, since the stack is sorted by epochs)."""
    n = int(stack.n_active[epoch])
    act = _active(stack, n)
    d, b = stack.sizes[0], stack.batch
    idx = stack.order[epoch, : n * stack.n_pad]
    x = stack.x_train.index_select(0, idx).view(n, stack.n_pad, d)  # this epoch's row order
    w = stack.loss_w[:n]
    neg_yw = stack.y_train.index_select(0, idx).view(n, stack.n_pad, 2).mul_(w).neg_()
    for k in range(stack.n_batches):
        rows = slice(k * b, (k + 1) * b)
        step = epoch * stack.n_batches + k + 1  # Adam's 1-based step count
        _train_step(stack, act, x[:, rows], w[:, rows], neg_yw[:, rows], step)
    last = epoch + 1 == stack.n_epochs
    start = 0 if every_epoch or last else int(stack.n_active[epoch + 1])
    if start < n:
        _evaluate(stack, act, epoch, start)


def _evaluate(stack: _Stack, act: _Active, epoch: int, start: int) -> None:
    """Loss and accuracy on all training and validation rows of the active networks from
    ``start`` on, into ``stats[epoch]``."""
    n = act.n
    rows = slice(start, n)
    layers = [(w[rows], b[rows]) for w, b in act.layers] if start else act.layers
    z = _forward(layers, stack.x_eval[rows])[-1]  # (n - start, rows, 2)
    y = stack.y_eval[rows]
    loss = -torch.log_softmax(z, dim=2).gather(2, y)  # (n, rows, 1)
    pred = (z[:, :, 1:] > z[:, :, :1]).long()  # argmax; a tie goes to class 0, as argmax
    per_row = torch.cat([loss, (pred == y).float()], dim=2)  # (n, rows, 2)
    sums = torch.bmm(stack.eval_mask[rows].transpose(1, 2), per_row)  # (n', 2 parts, 2 values)
    stack.stats[epoch, rows] = (sums / stack.eval_count[rows]).view(n - start, 4)
    stack.val_proba[rows] = torch.softmax(z[:, stack.n_pad :], dim=2)[:, :, 1]


def _collect(jobs: Sequence[TrainJob], stack: _Stack) -> dict[int, TrainResult]:
    """Read one bucket back (the only device-to-host copy) and unpad every network."""
    layers = _views(stack.params.cpu().numpy(), stack.sizes, stack.layout, len(stack.members))
    stats = stack.stats.cpu().numpy().astype(np.float64)
    val_proba = stack.val_proba.cpu().numpy()
    out: dict[int, TrainResult] = {}
    for i, k in enumerate(stack.members):
        job = jobs[k]
        sizes = _sizes(job)
        ws, bs = [], []
        for li, (full, bias) in enumerate(layers):
            ws.append(np.array(full[i, : sizes[li], : sizes[li + 1]]))
            bs.append(np.array(bias[i, 0, : sizes[li + 1]]))
        weights = MLPWeights(weights=tuple(ws), biases=tuple(bs))
        n_val = 0 if job.y_val is None else len(job.y_val)
        out[k] = train_result(job, weights, stats[: job.epochs, i], val_proba[i, :n_val])
    return out
