"""Min-Max scaling: scikit-learn's numbers, constant columns, missing values filled."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from ffmatch.core.scaling import fit_min_max


def test_equals_scikit_learns_min_max_scaler() -> None:
    rng = np.random.default_rng(0)
    train, other = rng.normal(size=(20, 5)) * 30, rng.normal(size=(7, 5)) * 30
    ours = fit_min_max(train)
    theirs = MinMaxScaler().fit(train)
    np.testing.assert_array_equal(ours(train), theirs.transform(train))
    np.testing.assert_array_equal(ours(other), theirs.transform(other))
    assert ours(train).min() == 0.0
    assert np.allclose(ours(train).max(axis=0), 1.0)


def test_a_constant_column_maps_to_zero() -> None:
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(fit_min_max(x)(x), [[0.0, 0.0], [1.0, 0.0]])


def test_missing_values_stay_missing_or_take_the_training_mean() -> None:
    x = np.array([[0.0, np.nan, np.nan], [2.0, 4.0, np.nan], [4.0, 8.0, np.nan]])
    assert np.isnan(fit_min_max(x[:, :2])(x[:, :2])[0, 1])
    filled = fit_min_max(x, fill_missing=True)
    np.testing.assert_allclose(filled.fill, [2.0, 6.0, 0.0])  # a column with no value: 0
    np.testing.assert_allclose(filled(x), [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [1.0, 1.0, 0.0]])
    np.testing.assert_allclose(filled(np.array([[np.nan, np.nan, 3.0]])), [[0.5, 0.5, 3.0]])


def test_transform_gives_the_same_rows_as_float32_for_the_trainer() -> None:
    x = np.random.default_rng(1).normal(size=(6, 3))
    scaling = fit_min_max(x)
    assert scaling.transform(x).dtype == np.float32
    np.testing.assert_array_equal(scaling.transform(x), scaling(x).astype(np.float32))
