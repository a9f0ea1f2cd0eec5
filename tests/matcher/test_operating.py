"""ROC points, equal error rate, accept rate at a false-accept rate, calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_curve

from ffmatch.core.errors import DataError
from ffmatch.matcher.operating import (
    accept_rate_at_far,
    equal_error_rate,
    fit_calibration,
    roc_points,
)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(4, 60))
def test_roc_points_match_scikit_learn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, n)]
    s = rng.integers(0, 8, len(y)).astype(float)  # ties included
    far, tar, thr = roc_points(y, s)
    ref_far, ref_tar, _ = roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(far, ref_far)
    np.testing.assert_allclose(tar, ref_tar)
    assert thr[0] == np.inf


def test_equal_error_rate_of_known_scores() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9])  # one impostor above one genuine
    eer, threshold = equal_error_rate(y, s)
    assert eer == pytest.approx(0.25)
    assert 0.4 <= threshold <= 0.7
    assert equal_error_rate(y, np.r_[s[:4] - 1, s[4:]])[0] == 0.0  # separable


def test_accept_rate_at_a_false_accept_rate() -> None:
    y = np.r_[np.zeros(100), np.ones(10)]
    s = np.r_[np.arange(100), [99.5, 98.5, 50, 40, 30, 20, 10, 5, 3, 1]]
    assert accept_rate_at_far(y, s, 0.0) == pytest.approx(0.1)  # above every impostor
    assert accept_rate_at_far(y, s, 0.01) == pytest.approx(0.2)  # one impostor (99) accepted
    assert accept_rate_at_far(y, s, 0.4) == pytest.approx(0.2)  # genuine 50 needs FAR 0.5
    assert accept_rate_at_far(y, s, 0.5) == pytest.approx(0.3)


def test_calibration_is_increasing_and_errors_need_both_classes() -> None:
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(-2, 1, 200), rng.normal(2, 1, 100)]
    y = np.r_[np.zeros(200), np.ones(100)]
    cal = fit_calibration(y, s)
    p = cal.probability(np.array([-5.0, 0.0, 5.0, 1e6, -1e6]))
    assert (np.diff(p[:3]) > 0).all()
    assert p[3] == 1.0
    assert p[4] == 0.0
    with pytest.raises(DataError, match="expected both genuine"):
        equal_error_rate(np.ones(3), np.arange(3.0))
