"""The benchmark's models on the paper's 36 rows: grouped folds, persons, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffmatch.benchmark.config import BenchmarkConfig
from ffmatch.benchmark.paper import _persons, run_paper_benchmark
from ffmatch.core.datasets import load_paper
from ffmatch.core.errors import ConfigError


def test_c_photos_are_their_own_person() -> None:
    photos = _persons(load_paper().photos)
    a, b, c = (photos.person[photos.photo_id == f"1-{k}"][0] for k in (1, 2, 3))
    assert a == b
    assert c != a
    assert len(np.unique(photos.person)) == 24


@pytest.mark.slow
def test_paper_benchmark_scores_each_validation_set_once_per_repeat() -> None:
    cfg = BenchmarkConfig(folds=4, repeats=2, models=("majority", "plda", "logistic_aligned"),
                          variants=("paper",))  # fmt: skip
    result = run_paper_benchmark(load_paper(), cfg)
    folds = result.scores["paper/plda"]
    assert len(folds) == 8
    assert sum(len(f.labels) for f in folds if f.repeat == 0) == 36
    assert all(f.labels.sum() * 3 == len(f.labels) for f in folds)  # whole sets: 1 match in 3
    assert math.isnan(folds[0].metrics["rank1"])
    assert result.scores["paper/majority"][0].metrics["accuracy"] == pytest.approx(2 / 3)


def test_models_that_cannot_run_on_the_paper_rows_are_refused() -> None:
    cfg = BenchmarkConfig(folds=4, repeats=1, models=("plda_pose",), variants=("paper",))
    with pytest.raises(ConfigError, match="'plda_pose' does not run on the paper's rows"):
        run_paper_benchmark(load_paper(), cfg)
