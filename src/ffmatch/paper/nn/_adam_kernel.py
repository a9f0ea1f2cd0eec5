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
            for r in range(real_rows[i, k]):
                at = off + (i * rows + r) * cols
                # Slices indexed from 0: no negative-index check, so LLVM vectorises.
                ps, gs = p[at : at + width], g[at : at + width]
                ms, vs = m[at : at + width], v[at : at + width]
                for j in range(width):
                    gj = gs[j]
                    mj = fma(b1w, gj - ms[j], ms[j])  # m.lerp_(g, 1 - beta1)
                    vj = fma(b2c * gj, gj, vs[j] * b2)  # v.mul_(beta2).addcmul_(g, g, .)
                    denom = one / (one / np.sqrt(vj)) + eps  # 1 / rsqrt(v) + eps'
                    ps[j] = fma(step_scale * (mj / denom), scale, ps[j])  # addcmul_
                    ms[j] = mj
                    vs[j] = vj
