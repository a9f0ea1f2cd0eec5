"""One-pass Adam over a stack's flat parameter buffer, skipping padded units (CPU, numba).

``ffmatch.paper.nn.adam.adam_step_`` is eight eager passes over every padded parameter;
this is one compiled loop over the real parameters only: it reads each parameter, its
gradient and both moments once and writes them back. The arithmetic is the eager path's,
operation for operation, including the fused multiply-adds torch's vectorised CPU kernels
use (``lerp``, ``addcmul``), so both give the same bits (checked in the tests). Padded
entries are zero in all four buffers and the eager step leaves them zero, so skipping them
changes nothing.

Written with numba because no library offers Adam with a learning rate per slice of one
buffer in one pass; ``torch._fused_adam_`` measured only 5% faster than the eager passes
here, and ``torch.compile`` costs seconds of start-up per run (docs/benchmarks.md). numba
is imported on first use (about half a second) and caches the compiled loop on disk.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt
import torch

from ffmatch.paper.nn.adam import BETA1, BETA2, EPS

# One block per layer's weights and one per its biases: (offset, rows, cols) in the flat
# buffer, where network i's block starts at offset + i * rows * cols (layer-major layout).
Blocks = npt.NDArray[np.int64]


@cache
def _kernel() -> Callable[..., None]:
    """The compiled Adam loop (numba is imported here, on first use, not with the package)."""
    from ffmatch.paper.nn._adam_kernel import adam_ragged

    return adam_ragged  # type: ignore[no-any-return]


def is_loaded() -> bool:
    """Whether the compiled loop is already in this process (so using it costs nothing)."""
    return _kernel.cache_info().currsize > 0


def adam_step_flat_(
    params: torch.Tensor,
    grads: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    lr: torch.Tensor,
    step: int,
    *,
    blocks: Blocks,
    real_rows: npt.NDArray[np.int64],
    real_cols: npt.NDArray[np.int64],
    n: int,
) -> None:
    """Adam step ``step`` (1-based), in place, for networks ``0..n-1`` of a flat CPU stack.

    ``params``, ``grads``, ``m``, ``v`` are the stack's 1-D float32 buffers; ``lr`` is
    ``(N,)``; ``blocks`` is ``(n_blocks, 3)`` (offset, rows, cols); ``real_rows`` and
    ``real_cols`` are ``(N, n_blocks)``: the part of each block that network i really has.
    The same numbers as ``adam_step_`` on the same networks.
    """
    bias1 = 1.0 - BETA1**step
    bias2_sqrt = math.sqrt(1.0 - BETA2**step)
    f32 = np.float32
    _kernel()(
        params.numpy(),
        grads.numpy(),
        m.numpy(),
        v.numpy(),
        lr.numpy(),
        blocks,
        real_rows,
        real_cols,
        n,
        f32(1.0 - BETA1),
        f32(BETA2),
        f32(1.0 - BETA2),
        f32(EPS * bias2_sqrt),
        f32(-bias2_sqrt / bias1),
    )
