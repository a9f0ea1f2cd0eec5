"""The batched Adam against torch.optim.Adam, one network (row) at a time."""

from __future__ import annotations

import numpy as np
import torch

from ffmatch.nn.adam import adam_schedule, adam_step_


def _reference(p0: torch.Tensor, grads: list[torch.Tensor], lr: float) -> torch.Tensor:
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=lr)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return p.detach()


def test_matches_torch_adam_with_a_learning_rate_per_network() -> None:
    gen = torch.Generator().manual_seed(0)
    n, size, steps = 4, 50, 30
    lr = np.array([1e-4, 1e-3, 1e-2, 3e-2])
    p0 = torch.randn(n, size, generator=gen)
    grads = [torch.randn(n, size, generator=gen) * 10.0 ** (-s % 4) for s in range(steps)]
    sched = adam_schedule(np.ones((steps, n), bool), lr)
    p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    for s, g in enumerate(grads):
        adam_step_(p, g, m, v, sched, s)
    for i in range(n):
        want = _reference(p0[i], [g[i] for g in grads], float(lr[i]))
        torch.testing.assert_close(p[i], want, rtol=1e-6, atol=1e-7)


def test_a_network_that_sits_out_a_step_is_left_untouched() -> None:
    gen = torch.Generator().manual_seed(1)
    steps = 6
    active = np.ones((steps, 2), bool)
    active[[1, 4], 1] = False  # network 1 sits out steps 1 and 4
    p0 = torch.randn(2, 8, generator=gen)
    grads = [torch.randn(2, 8, generator=gen) for _ in range(steps)]
    sched = adam_schedule(active, np.array([1e-2, 1e-2]))
    p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    for s, g in enumerate(grads):
        before = p[1].clone()
        adam_step_(p, g, m, v, sched, s)
        if not active[s, 1]:
            torch.testing.assert_close(p[1], before, rtol=0, atol=0)
    # ... and its bias correction counts only the steps it took.
    want = _reference(p0[1], [grads[s][1] for s in range(steps) if active[s, 1]], 1e-2)
    torch.testing.assert_close(p[1], want, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(p[0], _reference(p0[0], [g[0] for g in grads], 1e-2))


def test_only_the_leading_networks_step() -> None:
    sched = adam_schedule(np.ones((1, 3), bool), np.full(3, 0.1))
    p = torch.zeros(3, 2)
    adam_step_(p[:2], torch.ones(2, 2), torch.zeros(2, 2), torch.zeros(2, 2), sched, 0)
    assert (p[:2] < 0).all()
    assert (p[2] == 0).all()
