"""The numba loop behind ``ffmatch.paper.nn.fused`` (its own module so that importing
``fused`` does not import numba, and so numba can cache the compiled code on disk)."""

# mypy: ignore-errors

from __future__ import annotations

import numba
import numpy as np
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's fma), as torch's vectorised CPU kernels compute it."""
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def adam_ragged(p, g, m, v, lr, blocks, real_rows, real_cols, n, b1w, b2, b2c, eps, step_scale):
    """Adam for networks 0..n-1 over their real parts of each block; see fused.adam_step_flat_."""
    one = np.float32(1.0)
    for k in range(blocks.shape[0]):
        off, rows, cols = blocks[k, 0], blocks[k, 1], blocks[k, 2]
        for i in range(n):
            scale = lr[i]
            width = real_cols[i, k]
            # The network's real rows of the block; as one run where they fill whole rows
            # (long loops vectorise best: a row of 20 leaves a scalar tail of 4).
            n_rows, run = real_rows[i, k], width
            if width == cols:
                n_rows, run = 1, real_rows[i, k] * cols
            for r in range(n_rows):
                at = off + (i * rows + r) * cols
                # Unsigned indices: no negative-index check, so LLVM vectorises; and no
                # slices, each of which took a reference count (an atomic operation).
                for jj in range(run):
                    j = np.uint64(at + jj)
                    gj = g[j]
                    mj = fma(b1w, gj - m[j], m[j])  # m.lerp_(g, 1 - beta1)
                    vj = fma(b2c * gj, gj, v[j] * b2)  # v.mul_(beta2).addcmul_(g, g, .)
                    denom = one / (one / np.sqrt(vj)) + eps  # 1 / rsqrt(v) + eps'
                    p[j] = fma(step_scale * (mj / denom), scale, p[j])  # addcmul_
                    m[j] = mj
                    v[j] = vj
