"""Nearest neighbours: the exact search against brute force, FAISS's recall against exact."""

from __future__ import annotations

import numpy as np
import pytest

from ffmatch.archive.neighbours import approximate_neighbours, exact_neighbours, recall_at


def test_exact_neighbours_match_brute_force_in_blocks() -> None:
    x = np.random.default_rng(0).standard_normal((50, 8))
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    ref = np.argsort(d, axis=1, kind="stable")[:, :5]
    assert (exact_neighbours(x, 5, block=7) == ref).all()


def test_approximate_recall_at_20_is_at_least_099() -> None:
    pytest.importorskip("faiss")
    x = np.random.default_rng(1).standard_normal((2000, 128)).astype(np.float32)
    exact = exact_neighbours(x, 20)
    approx = approximate_neighbours(x, 20)
    assert approx.shape == (2000, 20)
    assert (approx != np.arange(2000)[:, None]).all()
    assert recall_at(approx, exact) >= 0.99
