"""The compiled Adam against the eager one: the same bits on the real parameters."""

from __future__ import annotations

import numpy as np
import torch

from ffmatch.paper.nn.adam import adam_step_
from ffmatch.paper.nn.fused import adam_step_flat_


def test_matches_the_eager_adam_bit_for_bit_and_skips_padding() -> None:
    gen = torch.Generator().manual_seed(0)
    n, rows, cols = 3, 5, 37  # one (n, rows, cols) block; 37 columns: not a vector multiple
    real_rows = np.array([[5], [2], [1]], np.int64)
    real_cols = np.array([[37], [20], [3]], np.int64)
    blocks = np.array([[0, rows, cols]], np.int64)
    lr = torch.tensor([1e-2, 1e-3, 3e-4])
    mask = torch.zeros(n, rows, cols)
    for i in range(n):
        mask[i, : real_rows[i, 0], : real_cols[i, 0]] = 1.0
    p0 = torch.randn(n, rows, cols, generator=gen) * mask
    flat = [p0.clone().view(-1), torch.zeros(p0.numel()), torch.zeros(p0.numel())]
    eager = [p0.clone().view(n, -1), torch.zeros(n, rows * cols), torch.zeros(n, rows * cols)]
    for step in range(1, 40):
        # Gradients over eight orders of magnitude, some exactly zero; none on padding.
        scale = 10.0 ** -torch.randint(0, 8, (n, rows, cols), generator=gen)
        g = torch.randn(n, rows, cols, generator=gen) * scale * mask
        g[:, 0, :2] = 0.0
        adam_step_(eager[0], g.view(n, -1), eager[1], eager[2], lr[:, None], step)
        adam_step_flat_(
            flat[0], g.reshape(-1), flat[1], flat[2], lr, step,
            blocks=blocks, real_rows=real_rows, real_cols=real_cols, n=n,
        )  # fmt: skip
    for got, want in zip(flat, eager, strict=True):
        assert torch.equal(got.view(n, -1), want)
    assert torch.equal(flat[0].view(n, rows, cols) * (1 - mask), torch.zeros(n, rows, cols))


def test_steps_only_the_leading_networks() -> None:
    blocks = np.array([[0, 1, 4]], np.int64)
    real = np.array([[1], [1]], np.int64)
    p, g = torch.zeros(8), torch.ones(8)
    m, v = torch.zeros(8), torch.zeros(8)
    adam_step_flat_(
        p, g, m, v, torch.tensor([0.1, 0.1]), 1,
        blocks=blocks, real_rows=real, real_cols=real * 4, n=1,
    )  # fmt: skip
    torch.testing.assert_close(p[:4], torch.full((4,), -0.1))
    assert torch.equal(p[4:], torch.zeros(4))
    assert torch.equal(v[4:], torch.zeros(4))
