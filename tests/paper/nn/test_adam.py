"""The batched Adam against torch.optim.Adam, one network (row) at a time."""

from __future__ import annotations

import torch

from ffmatch.paper.nn.adam import adam_step_


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
    lr = torch.tensor([[1e-4], [1e-3], [1e-2], [3e-2]])
    p0 = torch.randn(n, size, generator=gen)
    # Gradients over six orders of magnitude, some exactly zero (as on padded units).
    grads = [torch.randn(n, size, generator=gen) * 10.0 ** (-(s % 7)) for s in range(steps)]
    for g in grads:
        g[:, :5] = 0.0
    p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    for s, g in enumerate(grads, start=1):
        adam_step_(p, g, m, v, lr, s)
    for i in range(n):
        want = _reference(p0[i], [g[i] for g in grads], float(lr[i]))
        torch.testing.assert_close(p[i], want, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(p[:, :5], p0[:, :5], rtol=0, atol=0)  # zero gradient: no move


def test_first_step_moves_each_weight_by_lr_against_the_gradient_sign() -> None:
    p = torch.zeros(2, 3)
    g = torch.tensor([[1.0, -2.0, 0.5], [-1e-3, 4.0, 1.0]])
    adam_step_(p, g, torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([[0.1], [0.01]]), 1)
    want = -torch.sign(g) * torch.tensor([[0.1], [0.01]])
    torch.testing.assert_close(p, want, rtol=1e-5, atol=1e-6)
