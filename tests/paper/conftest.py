"""Tiny synthetic data shaped like the paper's: sets of three rows (A&B match, B&C, C&A not)."""

from __future__ import annotations

import numpy as np
import pytest


def sets_of_three(
    n_sets: int, d: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (3 n_sets, d) with a learnable signal in column 0, y (1, 0, 0 per set), set ids."""
    rng = np.random.default_rng(seed)
    y = np.tile(np.array([1, 0, 0], dtype=np.int64), n_sets)
    groups = np.repeat(np.array([f"set{k:02d}" for k in range(n_sets)]), 3)
    X = rng.normal(size=(3 * n_sets, d))
    X[:, 0] += 2.0 * y
    return X, y, groups


@pytest.fixture
def paper_like() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """36 rows in 12 sets, like the workbook."""
    return sets_of_three(12)


@pytest.fixture
def make_sets():  # type: ignore[no-untyped-def]
    """The ``sets_of_three`` factory, for tests that need other sizes."""
    return sets_of_three
