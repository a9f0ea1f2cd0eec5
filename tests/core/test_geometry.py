"""Marker geometry: distances, eye-width ratios, position and size, Procrustes distance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import procrustes
from scipy.spatial.distance import pdist

from ffmatch.core.geometry import (
    distance_ratios,
    eye_width,
    inter_marker_distances,
    position_features,
    position_size,
    procrustes_distance,
)
from ffmatch.core.markers import N_MARKERS, WIDE_ORDER


def _faces(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, N_MARKERS, 2)) * 40 + 200


def test_distances_are_scipys_pdist_in_marker_pair_order() -> None:
    c = _faces(3)
    for row in range(3):
        np.testing.assert_allclose(inter_marker_distances(c)[row], pdist(c[row]), rtol=1e-12)


def test_ratios_are_distances_over_the_outer_eye_width() -> None:
    c = _faces(2)
    width = np.hypot(*(c[:, WIDE_ORDER.index("rtex")] - c[:, WIDE_ORDER.index("ltex")]).T)
    np.testing.assert_allclose(eye_width(c), width, rtol=1e-15)
    np.testing.assert_allclose(distance_ratios(c), inter_marker_distances(c) / width[:, None])
    assert np.allclose(distance_ratios(c * 3.0 + 7.0), distance_ratios(c))


def test_ratios_are_nan_where_the_eye_width_is_zero_or_a_marker_missing() -> None:
    c = _faces(2)
    c[0, WIDE_ORDER.index("ltex")] = c[0, WIDE_ORDER.index("rtex")]
    c[1, WIDE_ORDER.index("me")] = np.nan
    r = distance_ratios(c)
    assert np.isnan(r[0]).all()
    assert np.isnan(r[1]).any()
    assert not np.isnan(r[1]).all()


def test_position_size_by_hand() -> None:
    square = np.zeros((N_MARKERS, 2))
    square[:, 0] = np.where(np.arange(N_MARKERS) % 2 == 0, 10.0, 14.0)  # x alternates 10, 14
    square[:, 1] = 50.0
    np.testing.assert_allclose(position_size(square[None]), [[12.0, 50.0, 2.0]])
    f = position_features(square[None], square[None] * 2.0)
    np.testing.assert_allclose(f, [[12.0, 50.0, 2.0, 24.0, 100.0, 4.0]])


@settings(max_examples=30, deadline=None)
@given(angle=st.floats(-3.0, 3.0), scale=st.floats(0.2, 5.0), shift=st.floats(-500, 500))
def test_procrustes_ignores_position_size_and_rotation(
    angle: float, scale: float, shift: float
) -> None:
    a = _faces(1, seed=1)[0]
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = a @ rot.T * scale + shift
    assert procrustes_distance(a[None], moved[None])[0] == pytest.approx(0.0, abs=1e-12)


def test_a_mirror_image_is_the_same_shape_only_with_reflection() -> None:
    a = _faces(1, seed=2)
    mirror = a * np.array([-1.0, 1.0])
    assert procrustes_distance(a, mirror)[0] > 0.01
    assert procrustes_distance(a, mirror, reflection=True)[0] == pytest.approx(0.0, abs=1e-12)


def test_with_reflection_it_is_scipys_disparity_over_common_markers() -> None:
    x, y = _faces(6, seed=3), _faces(6, seed=4)
    x[2, 3] = np.nan
    y[4, [0, 7]] = np.nan
    got = procrustes_distance(x, y, reflection=True)
    for k in range(6):
        both = ~(np.isnan(x[k]).any(axis=1) | np.isnan(y[k]).any(axis=1))
        _, _, want = procrustes(x[k][both], y[k][both])
        assert got[k] == pytest.approx(want, rel=1e-9, abs=1e-12)
