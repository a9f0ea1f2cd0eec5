"""A job's seed: nn.Linear's default init and per-epoch batch orders, bit for bit torch's."""

from __future__ import annotations

import itertools
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from torch import nn

from ffmatch.paper.nn.init import (
    _ORDER_STREAM,
    batch_orders,
    init_draws,
    init_weights,
    n_draws,
    weights_from_draws,
)

# Seeds across the whole range torch takes, so the low-32-bit seeding is exercised.
_SEEDS = [0, 1, 7, 12345, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 5, 2**53 + 1, 2**63 - 1]


def _torch_linears(sizes: tuple[int, ...], seed: int) -> list[nn.Linear]:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]


def _assert_same_as_torch(sizes: tuple[int, ...], seed: int) -> None:
    w = init_weights(sizes, seed)
    for layer, wk, bk in zip(_torch_linears(sizes, seed), w.weights, w.biases, strict=True):
        assert wk.dtype == np.float32
        assert bk.dtype == np.float32
        assert wk.flags.c_contiguous
        np.testing.assert_array_equal(wk, layer.weight.detach().numpy().T)
        np.testing.assert_array_equal(bk, layer.bias.detach().numpy())


def test_init_matches_nn_linear_after_manual_seed() -> None:
    _assert_same_as_torch((5, 4, 3, 2), seed=7)


@pytest.mark.parametrize("seed", _SEEDS)
def test_init_is_bit_identical_to_nn_linear_for_the_papers_sizes(seed: int) -> None:
    _assert_same_as_torch((56, 20, 10, 2), seed)
    _assert_same_as_torch((56, 80, 40, 2), seed)


def test_init_is_bit_identical_to_nn_linear_for_random_sizes_and_seeds() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        depth = int(rng.integers(1, 5))
        sizes = tuple(int(s) for s in rng.integers(1, 130, size=depth + 1))
        _assert_same_as_torch(sizes, int(rng.integers(0, 2**63, dtype=np.uint64)))


def test_networks_of_one_seed_share_a_prefix_of_one_draw() -> None:
    sizes = [(56, 20, 10, 2), (56, 100, 50, 2), (7, 1, 2), (56, 20, 10, 2)]
    draws = init_draws(2**32 + 9, max(n_draws(s) for s in sizes))
    for s in sizes:
        w = weights_from_draws(s, draws)
        for layer, wk, bk in zip(_torch_linears(s, 2**32 + 9), w.weights, w.biases, strict=True):
            np.testing.assert_array_equal(wk, layer.weight.detach().numpy().T)
            np.testing.assert_array_equal(bk, layer.bias.detach().numpy())


def test_init_bounds_are_one_over_sqrt_fan_in() -> None:
    w = init_weights((100, 50, 2), seed=0)
    assert np.abs(w.weights[0]).max() <= 0.1
    assert np.abs(w.weights[0]).max() > 0.09  # drawn over the whole range
    assert np.abs(w.biases[1]).max() <= 1 / np.sqrt(50)


def _torch_orders(n_rows: int, epochs: int, seed: int) -> np.ndarray:
    """What batch_orders computed with torch: torch.rand keys, stable argsort."""
    order_seed = int(np.random.SeedSequence([seed, _ORDER_STREAM]).generate_state(1, np.uint64)[0])
    gen = torch.Generator().manual_seed(order_seed)
    keys = torch.rand(epochs, n_rows, generator=gen)
    return torch.argsort(keys, dim=1, stable=True).numpy()


@pytest.mark.parametrize("seed", _SEEDS)
def test_batch_orders_are_torchs_rand_and_stable_argsort(seed: int) -> None:
    np.testing.assert_array_equal(batch_orders(110, 80, seed), _torch_orders(110, 80, seed))


def test_batch_orders_match_torch_for_random_shapes_and_seeds() -> None:
    rng = np.random.default_rng(1)
    for _ in range(60):
        n_rows, epochs = int(rng.integers(1, 400)), int(rng.integers(1, 30))
        seed = int(rng.integers(0, 2**63, dtype=np.uint64))
        np.testing.assert_array_equal(
            batch_orders(n_rows, epochs, seed), _torch_orders(n_rows, epochs, seed)
        )


def test_batch_order_keys_tie_like_torch() -> None:
    # 2**24 possible keys: with 20000 rows per epoch ties are near certain, so this checks
    # that equal keys keep row order (stable) as torch's argsort does.
    np.testing.assert_array_equal(batch_orders(20000, 2, 5), _torch_orders(20000, 2, 5))


def test_batch_orders_are_permutations_fixed_by_the_seed() -> None:
    orders = batch_orders(13, 5, seed=3)
    assert orders.shape == (5, 13)
    assert orders.dtype == np.int64
    assert all(sorted(row) == list(range(13)) for row in orders.tolist())
    assert len({tuple(row) for row in orders.tolist()}) == 5  # a new order every epoch
    np.testing.assert_array_equal(orders, batch_orders(13, 5, seed=3))
    assert not np.array_equal(orders, batch_orders(13, 5, seed=4))


def test_batch_orders_of_fewer_epochs_are_a_prefix() -> None:
    np.testing.assert_array_equal(batch_orders(9, 3, seed=1), batch_orders(9, 6, seed=1)[:3])


def test_init_does_not_import_torch(pytester: pytest.Pytester) -> None:
    """The compiled CPU engine draws here: importing torch would cost its start-up."""
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys; from ffmatch.paper.nn.init import batch_orders, init_weights; "
        "init_weights((3, 2), 0); batch_orders(4, 2, 0); print('torch' in sys.modules)",
    )
    assert result.outlines[-1] == "False"


def test_draws_from_many_threads_at_once_are_each_seeds_own() -> None:
    seeds = list(range(40))
    with ThreadPoolExecutor(4) as pool:
        orders = list(pool.map(lambda s: batch_orders(50, 20, s), seeds))
        inits = list(pool.map(lambda s: init_weights((30, 8, 2), s), seeds))
    for s, order, w in zip(seeds, orders, inits, strict=True):
        np.testing.assert_array_equal(order, batch_orders(50, 20, s))
        np.testing.assert_array_equal(w.weights[0], init_weights((30, 8, 2), s).weights[0])
