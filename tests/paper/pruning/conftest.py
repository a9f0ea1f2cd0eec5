"""Tiny constructed networks whose hidden units are clones, opposites or dead by design."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ffmatch.paper.nn.mlp import MLPWeights

Build = Callable[..., MLPWeights]


@pytest.fixture
def x_train() -> np.ndarray:
    """40 training patterns of 3 standardised features."""
    return np.random.default_rng(0).normal(size=(40, 3))


@pytest.fixture
def x_new() -> np.ndarray:
    """Patterns never seen by pruning, to check that exact folds hold everywhere."""
    return np.random.default_rng(1).normal(size=(25, 3))


@pytest.fixture
def build() -> Build:
    """``build(w1, b1, hidden2=4, seed=2)``: a 3-h-hidden2-2 MLP with the given first layer.

    ``w1`` is (3, h) as columns per unit, ``b1`` (h,); later layers are random.
    """

    def make(w1: np.ndarray, b1: np.ndarray, *, hidden2: int = 4, seed: int = 2) -> MLPWeights:
        rng = np.random.default_rng(seed)
        w1 = np.asarray(w1, dtype=np.float64)
        h = w1.shape[1]
        return MLPWeights(
            weights=(w1, rng.normal(size=(h, hidden2)), rng.normal(size=(hidden2, 2))),
            biases=(np.asarray(b1, dtype=np.float64), rng.normal(size=hidden2), rng.normal(size=2)),
        )

    return make
