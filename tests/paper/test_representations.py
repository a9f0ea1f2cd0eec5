"""Pair representations: shapes, column order, invariances and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import inter_marker_distances
from ffmatch.core.markers import MARKER_PAIRS, N_MARKERS
from ffmatch.core.table import PairTable, PhotoTable
from ffmatch.paper.representations import (
    feature_names,
    pair_features,
    photo_proportions,
)


def _photos(coords: np.ndarray) -> PhotoTable:
    n = len(coords)
    return PhotoTable(
        photo_id=np.array([f"p{i}" for i in range(n)]),
        person=np.array([str(i // 2) for i in range(n)]),
        role=np.array([""] * n),
        coords=coords,
        derived=np.zeros((n, N_MARKERS), dtype=bool),
    )


def _pairs(photos: PhotoTable) -> PairTable:
    return PairTable(
        photos=photos,
        first=np.array([0, 1]),
        second=np.array([1, 2]),
        label=np.array([1, 0]),
        group=np.array(["0", "0"]),
    )


@pytest.fixture
def coords() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 500, size=(3, N_MARKERS, 2))


@pytest.mark.parametrize(("rep", "width"), [("ffms", 56), ("distances", 182), ("proportions", 182)])
def test_pair_features_shapes_and_names(coords: np.ndarray, rep: str, width: int) -> None:
    x = pair_features(_pairs(_photos(coords)), rep)
    assert x.shape == (2, width)
    assert len(feature_names(rep)) == width


def test_ffms_are_first_photo_then_second(coords: np.ndarray) -> None:
    x = pair_features(_pairs(_photos(coords)), "ffms")
    np.testing.assert_array_equal(x[0, :28], coords[0].ravel())
    np.testing.assert_array_equal(x[0, 28:], coords[1].ravel())
    assert feature_names("ffms")[:3] == ["1rtex-x", "1rtex-y", "1rten-x"]


def test_distances_match_scipy_pdist(coords: np.ndarray) -> None:
    from scipy.spatial.distance import pdist

    # pdist enumerates pairs (i < j) in the same order as MARKER_PAIRS.
    assert MARKER_PAIRS[:2] == ((0, 1), (0, 2))
    np.testing.assert_allclose(inter_marker_distances(coords)[1], pdist(coords[1]), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    dx=st.floats(-1e3, 1e3),
    dy=st.floats(-1e3, 1e3),
    scale=st.floats(0.1, 10),
    angle=st.floats(-np.pi, np.pi),
)
def test_proportions_invariant_to_similarity_transforms(
    dx: float, dy: float, scale: float, angle: float
) -> None:
    c = np.random.default_rng(1).uniform(0, 500, size=(1, N_MARKERS, 2))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = scale * c @ rot.T + np.array([dx, dy])
    np.testing.assert_allclose(photo_proportions(moved), photo_proportions(c), rtol=1e-7)
    # distances are invariant to translation and rotation, not to scale
    np.testing.assert_allclose(
        inter_marker_distances(moved) / scale, inter_marker_distances(c), rtol=1e-7, atol=1e-6
    )


def test_unknown_representation_is_a_config_error(coords: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="unknown representation 'pixels'; expected one of"):
        pair_features(_pairs(_photos(coords)), "pixels")


def test_missing_marker_is_reported_with_the_pair(coords: np.ndarray) -> None:
    coords[1, 3] = np.nan
    with pytest.raises(DataError, match="pair 'p0 & p1' has a missing marker"):
        pair_features(_pairs(_photos(coords)), "distances")


def test_zero_eye_width_is_reported(coords: np.ndarray) -> None:
    coords[0, 3] = coords[0, 0]  # ltex (WIDE_ORDER index 3) onto rtex (index 0)
    with pytest.raises(DataError, match="rtex and ltex coincide"):
        photo_proportions(coords)


@pytest.mark.parametrize("rep", ["aligned-diff", "aligned-pair"])
def test_aligned_representations_by_name_ignore_where_the_face_sits(
    coords: np.ndarray, rep: str
) -> None:
    x = pair_features(_pairs(_photos(coords)), rep)
    moved = coords.copy()
    moved[1] = 2.5 * moved[1] + np.array([40.0, -13.0])  # photo 1 scaled and moved
    np.testing.assert_allclose(pair_features(_pairs(_photos(moved)), rep), x, atol=1e-9)
