"""A job's seed: nn.Linear's default init and per-epoch batch orders."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ffmatch.paper.nn.init import batch_orders, init_weights


def test_init_matches_nn_linear_after_manual_seed() -> None:
    with torch.random.fork_rng():
        torch.manual_seed(7)
        linears = [nn.Linear(5, 4), nn.Linear(4, 3), nn.Linear(3, 2)]
    w = init_weights((5, 4, 3, 2), seed=7)
    for layer, wk, bk in zip(linears, w.weights, w.biases, strict=True):
        np.testing.assert_array_equal(wk, layer.weight.detach().numpy().T)
        np.testing.assert_array_equal(bk, layer.bias.detach().numpy())


def test_init_bounds_are_one_over_sqrt_fan_in() -> None:
    w = init_weights((100, 50, 2), seed=0)
    assert np.abs(w.weights[0]).max() <= 0.1
    assert np.abs(w.weights[0]).max() > 0.09  # drawn over the whole range
    assert np.abs(w.biases[1]).max() <= 1 / np.sqrt(50)


def test_batch_orders_are_permutations_fixed_by_the_seed() -> None:
    orders = batch_orders(13, 5, seed=3)
    assert orders.shape == (5, 13)
    assert all(sorted(row) == list(range(13)) for row in orders.tolist())
    assert len({tuple(row) for row in orders.tolist()}) == 5  # a new order every epoch
    np.testing.assert_array_equal(orders, batch_orders(13, 5, seed=3))
    assert not np.array_equal(orders, batch_orders(13, 5, seed=4))


def test_batch_orders_of_fewer_epochs_are_a_prefix() -> None:
    np.testing.assert_array_equal(batch_orders(9, 3, seed=1), batch_orders(9, 6, seed=1)[:3])
