"""Fine-tuning pruned networks through the batched trainer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.pruning import PruningConfig, prune
from ffmatch.paper.pruning.finetune import FinetuneConfig, finetune, finetune_job

Build = Callable[..., MLPWeights]  # the conftest fixture's type


def test_folds_pruned_to_different_sizes_finetune_together_from_their_pruned_weights(
    build: Build, x_train: np.ndarray
) -> None:
    e = np.eye(3)
    nets = [
        build(np.column_stack([e[0], e[0], e[1], e[2]]), np.zeros(4)),  # one clone pair: 3 left
        build(np.column_stack([e[0], e[1], e[2], e[1]]), np.zeros(4), seed=3),  # 3 left
        build(np.column_stack([e[0], e[1], e[2], -e[2]]), np.full(4, 0.1)),  # none: 4 left
    ]
    pruned = [prune(n, x_train, config=PruningConfig()).weights for n in nets]
    assert [p.hidden for p in pruned] == [(3, 4), (3, 4), (4, 4)]
    y = (x_train[:, 0] > 0).astype(np.int64)
    config = FinetuneConfig(epochs=3, lr=1e-3, batch_size=8)
    jobs = [
        finetune_job(p, x_train, y, x_val=x_train, y_val=y, config=config, seed=s)
        for s, p in enumerate(pruned)
    ]
    assert jobs[0].init is pruned[0]
    results = finetune(jobs)
    for p, r in zip(pruned, results, strict=True):
        assert r.weights.sizes == p.sizes
        assert r.history.train_loss.shape == (3,)
        assert r.val_proba is not None
        assert r.val_proba.shape == (40,)
        moved = max(np.abs(w - q).max() for w, q in zip(r.weights.weights, p.weights, strict=True))
        assert 0 < moved < 0.1  # a few small steps from the pruned start, not a fresh init
    (alone,) = finetune(jobs[2:])  # a job's result does not depend on its batch-mates
    np.testing.assert_allclose(alone.weights.weights[0], results[2].weights.weights[0], atol=1e-6)


def test_finetune_config_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"finetune\.epochs: expected an integer >= 1, found 0"):
        FinetuneConfig(epochs=0)
