"""Metrics against hand-computed values (the paper's Tables 5 and 6), summaries, baseline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from ffmatch.core.errors import DataError
from ffmatch.core.metrics import (
    binary_metrics,
    majority_baseline,
    metrics_from_confusion,
    pooled_confusion,
    summarize,
    summarize_values,
)
from ffmatch.core.serial import to_mapping


def test_paper_table5_all_negative() -> None:
    m = metrics_from_confusion(tn=6, fp=0, fn=3, tp=0)
    assert m.accuracy == pytest.approx(2 / 3)
    assert (m.precision, m.recall, m.f1) == (0.0, 0.0, 0.0)
    assert m.balanced_accuracy == pytest.approx(0.5)
    assert m.confusion == ((6, 0), (3, 0))
    assert m.n == 9


def test_paper_table6_after_ga() -> None:
    m = metrics_from_confusion(tn=5, fp=1, fn=1, tp=2)
    assert m.accuracy == pytest.approx(7 / 9)
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.balanced_accuracy == pytest.approx((5 / 6 + 2 / 3) / 2)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0]) | st.floats(0, 1)),
        min_size=1,
        max_size=30,
    ),
    threshold=st.sampled_from([0.3, 0.5, 0.7]),
)
def test_binary_metrics_equal_sklearn(rows: list[tuple[int, float]], threshold: float) -> None:
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    pred = (p > threshold).astype(int)
    m = binary_metrics(y, p, threshold)
    kw = {"labels": [0, 1], "zero_division": 0}
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    assert m.precision == pytest.approx(skm.precision_score(y, pred, **kw))
    assert m.recall == pytest.approx(skm.recall_score(y, pred, **kw))
    assert m.f1 == pytest.approx(skm.f1_score(y, pred, **kw))
    assert np.array_equal(m.confusion, skm.confusion_matrix(y, pred, labels=[0, 1]))
    if len(np.unique(y)) == 2:
        assert m.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(y, pred))
        assert m.roc_auc == pytest.approx(skm.roc_auc_score(y, p))
    else:
        assert math.isnan(m.balanced_accuracy)
        assert math.isnan(m.roc_auc)


@pytest.mark.parametrize("n", [6, 40, 300])  # 300 rows: past the pairwise count, ranked
def test_auc_is_the_rank_statistic_bit_for_bit_with_ties(n: int) -> None:
    rng = np.random.default_rng(n)
    for scores in (rng.random(n), np.round(rng.random(n), 1), np.full(n, 0.5)):
        y = (rng.random(n) < 0.4).astype(int)
        y[:2] = (0, 1)
        ranks = stats.rankdata(scores)  # the Mann-Whitney statistic from average ranks
        n_pos = int(y.sum())
        u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2
        assert binary_metrics(y, scores).roc_auc == u / (n_pos * (n - n_pos))
    assert math.isnan(binary_metrics([0, 1, 1], [0.2, float("nan"), 0.9]).roc_auc)


def test_binary_metrics_threshold_and_auc() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.5, 0.9])  # 0.5 is not above the threshold: no match
    m = binary_metrics(y, p)
    assert m.confusion == ((1, 1), (1, 1))
    assert m.roc_auc == pytest.approx(0.75)
    assert binary_metrics(y, p, threshold=0.4).confusion == ((1, 1), (0, 2))


def test_auc_is_nan_with_one_class_and_json_has_null() -> None:
    m = binary_metrics(np.array([0, 0]), np.array([0.2, 0.7]))
    assert math.isnan(m.roc_auc)
    assert math.isnan(m.balanced_accuracy)
    d = json.loads(json.dumps(to_mapping(m)))
    assert d["roc_auc"] is None
    assert d["balanced_accuracy"] is None
    assert d["confusion"] == [[1, 1], [0, 0]]


def test_majority_baseline_predicts_the_training_majority() -> None:
    m = majority_baseline(np.array([0, 0, 1]), np.array([1, 0, 0, 0]))
    assert m.accuracy == pytest.approx(0.75)
    assert m.confusion == ((3, 0), (1, 0))
    m1 = majority_baseline(np.array([1, 1, 0]), np.array([1, 0]))
    assert m1.confusion == ((0, 1), (0, 1))


def test_summary_over_folds_is_a_t_interval() -> None:
    v = np.array([0.5, 0.7, 0.6, 0.8])
    s = summarize_values(v)
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2
    assert s.mean == pytest.approx(0.65)
    assert s.sd == pytest.approx(v.std(ddof=1))
    assert (s.ci_low, s.ci_high) == pytest.approx((0.65 - half, 0.65 + half))
    assert s.ci_over == "folds"


def test_summary_over_repeats_uses_repeat_means_and_ignores_nan() -> None:
    v = [0.5, 0.7, math.nan, 0.6, 0.8, 1.0]
    s = summarize_values(v, repeat=[0, 0, 0, 1, 1, 2])
    means = np.array([0.6, 0.7, 1.0])
    half = stats.t.ppf(0.975, 2) * means.std(ddof=1) / math.sqrt(3)
    assert s.n == 5
    assert s.mean == pytest.approx(np.mean([0.5, 0.7, 0.6, 0.8, 1.0]))
    assert s.ci_over == "repeats"
    assert (s.ci_low, s.ci_high) == pytest.approx((means.mean() - half, means.mean() + half))


def test_interval_is_clipped_to_bounds() -> None:
    s = summarize_values([0.5, 1.0, 1.0], bounds=(0.0, 1.0))
    assert s.ci_high == 1.0
    assert s.ci_low < 0.5
    assert summarize_values([0.5, 1.0, 1.0]).ci_high > 1.0


def test_summarize_every_metric_and_pool_confusions() -> None:
    folds = [metrics_from_confusion(2, 0, 1, 0), metrics_from_confusion(1, 1, 0, 1)]
    s = summarize(folds)
    assert set(s) == {"accuracy", "precision", "recall", "f1", "balanced_accuracy", "roc_auc"}
    assert s["accuracy"].mean == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert s["roc_auc"].n == 0
    assert math.isnan(s["roc_auc"].mean)
    assert pooled_confusion(folds) == ((3, 1), (1, 1))
    assert json.loads(json.dumps(to_mapping(s["roc_auc"])))["mean"] is None


def test_metric_errors() -> None:
    with pytest.raises(DataError, match="same length"):
        binary_metrics(np.array([0, 1]), np.array([0.5]))
    with pytest.raises(DataError, match="no rows"):
        binary_metrics(np.array([], dtype=int), np.array([]))
