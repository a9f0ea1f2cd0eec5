"""The GA stage's fitness: each individual's fold networks, scored after pruning or as trained."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from ffmatch.core.metrics import Metrics, binary_metrics
from ffmatch.core.sources import load_pairs
from ffmatch.core.splits import fold_data
from ffmatch.paper.evaluation.cv import evaluate_configs
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pipeline.config import EvalConfig, RunConfig
from ffmatch.paper.pipeline.stages import ga_stage, prepare
from ffmatch.paper.pruning import PruningConfig, prune
from ffmatch.paper.search.ga import GAConfig

# Pruning this coarse (Gedeon's merge of every pair under 90 degrees, removal of every pair
# over it) changes what the networks predict, so scores after pruning and as trained differ.
TINY = RunConfig(
    seed=3,
    eval=EvalConfig(n_splits=3),
    mlp=MLPConfig(hidden=(8, 4), epochs=6),
    pruning=PruningConfig(similar_deg=90.0, complementary_deg=90.0, merge="gedeon"),
    ga=GAConfig(population=4, generations=1),
)


def _same(a: Sequence[Metrics], b: Sequence[Metrics]) -> bool:
    """Equal metrics, NaN (a fold without matches has no ROC-AUC) equal to NaN."""
    try:
        np.testing.assert_equal([dataclasses.astuple(m) for m in a],
                                [dataclasses.astuple(m) for m in b])  # fmt: skip
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("pruned", [True, False])
def test_the_best_individuals_fold_scores_are_its_own_networks_scores(pruned: bool) -> None:
    prep = prepare(TINY, load_pairs("paper"))
    stage, _ = ga_stage(prep, TINY, prune_networks=pruned)
    best = MLPConfig(
        hidden=stage.best.hidden_sizes,
        epochs=stage.best.epochs,
        lr=stage.best.learning_rate,
        batch_size=TINY.mlp.batch_size,
    )
    x, y, g = prep.x[prep.dev], prep.y[prep.dev], prep.groups[prep.dev]
    # The same networks, trained again the way `ffmatch cv` trains them.
    (cv,) = evaluate_configs(
        x, y, g, [best], splitter=prep.splitter, folds=prep.folds, seed=TINY.seed, history=False
    )
    as_trained = [fold.val for fold in cv.folds]
    after_pruning = []  # each pruned on its fold's training rows, scored on its validation rows
    for fold in cv.folds:
        part = fold_data(x, y, fold.fold, splitter=prep.splitter)
        net = prune(fold.weights, part.x_train, config=TINY.pruning).weights
        after_pruning.append(binary_metrics(part.y_val, net.predict_proba(part.x_val)[:, 1]))
    assert not _same(after_pruning, as_trained)  # else this test could not tell them apart
    assert stage.pruned is pruned
    assert _same(stage.folds, after_pruning if pruned else as_trained)
