"""Adam for N networks stacked in one ``(N, P)`` tensor, each with its own learning rate.

Hand-written because ``torch.optim.Adam`` takes one learning rate per parameter tensor,
not per slice of one; here each row (network) has its own. All rows of a stack take their
steps together (the trainer buckets networks by steps per epoch), so they share one step
count and one bias correction. The arithmetic is ``torch.optim.Adam``'s (betas 0.9 and
0.999, eps 1e-8, no weight decay), equal to it up to float rounding (~1e-7 relative).
"""

from __future__ import annotations

import math

import torch

BETA1 = 0.9
BETA2 = 0.999
EPS = 1e-8


def adam_step_(
    params: torch.Tensor,
    grads: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    lr: torch.Tensor,
    step: int,
) -> None:
    """Adam step number ``step`` (1-based), in place, for every row of ``params``.

    ``params``, ``grads``, ``m`` (first moment), ``v`` (second moment) are ``(n, P)``;
    ``lr`` is ``(n, 1)``. Eight elementwise passes over ``(n, P)`` and no host work: at
    batch 12 these cost about as much as the step's matmuls.
    """
    bias1 = 1.0 - BETA1**step
    bias2_sqrt = math.sqrt(1.0 - BETA2**step)
    m.lerp_(grads, 1.0 - BETA1)
    v.mul_(BETA2).addcmul_(grads, grads, value=1.0 - BETA2)
    # sqrt(v) as 1 / rsqrt(v): equal to ~1 ulp, and on AVX-512 CPUs torch's sqrt is 5-40x
    # slower on the zeros (padded units) and denormals (tiny gradients) that fill v here.
    # The second moment's bias correction is folded into eps and the step size (a pass less).
    denom = v.rsqrt().reciprocal_().add_(EPS * bias2_sqrt)
    torch.div(m, denom, out=denom)
    params.addcmul_(denom, lr, value=-bias2_sqrt / bias1)
