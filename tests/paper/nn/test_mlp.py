"""The trained network's NumPy forward pass."""

from __future__ import annotations

import numpy as np

from ffmatch.paper.nn.mlp import MLPWeights


def test_hidden_activations_can_stop_after_the_first_layers() -> None:
    rng = np.random.default_rng(0)
    net = MLPWeights(
        weights=(rng.normal(size=(3, 5)), rng.normal(size=(5, 4)), rng.normal(size=(4, 2))),
        biases=(rng.normal(size=5), rng.normal(size=4), rng.normal(size=2)),
    )
    x = rng.normal(size=(7, 3))
    every = net.hidden_activations(x)
    assert [a.shape for a in every] == [(7, 5), (7, 4)]
    first = net.hidden_activations(x, layers=1)
    assert len(first) == 1
    np.testing.assert_array_equal(first[0], every[0])
    np.testing.assert_array_equal(first[0], np.maximum(x @ net.weights[0] + net.biases[0], 0.0))
