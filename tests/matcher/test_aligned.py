"""Aligned representations: invariance to position, size and in-plane rotation; missing markers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.markers import N_MARKERS
from ffmatch.core.table import PairTable, PhotoTable
from ffmatch.matcher.aligned import (
    PAIR_REPRESENTATIONS,
    RATIO_NAMES,
    TEMPLATE,
    align,
    align_pairs,
    aligned_diff_features,
    aligned_diff_names,
    aligned_diff_rows,
    aligned_vector_rows,
    aligned_vectors,
    pair_feature_matrix,
)


def _faces(n: int, seed: int) -> np.ndarray:
    """(n, 14, 2) face-like shapes: the template in pixels plus noise."""
    rng = np.random.default_rng(seed)
    return 300 * TEMPLATE[None] + 200 + rng.normal(0, 4, size=(n, N_MARKERS, 2))


def _similarity(coords: np.ndarray, angle: float, scale: float, shift: tuple[float, float]):
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return coords @ rot.T * scale + np.array(shift)


similarities = st.tuples(
    st.floats(-np.pi, np.pi),
    st.floats(0.05, 20.0),
    st.tuples(st.floats(-5000, 5000), st.floats(-5000, 5000)),
)


@settings(max_examples=60, deadline=None)
@given(sim=similarities, seed=st.integers(0, 2**16))
def test_align_is_invariant_to_position_size_and_rotation(sim, seed) -> None:
    coords = _faces(3, seed)
    moved = _similarity(coords, *sim)
    np.testing.assert_allclose(align(moved), align(coords), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(sim=similarities, seed=st.integers(0, 2**16), drop=st.integers(0, N_MARKERS - 1))
def test_pair_features_are_invariant_and_symmetric(sim, seed, drop) -> None:
    x, y = _faces(2, seed), _faces(2, seed + 1)
    x[0, drop] = np.nan  # a missing marker in one photo
    base = aligned_diff_features(x, y)
    moved = aligned_diff_features(_similarity(x, *sim), _similarity(y, *sim[::-1][::-1]))
    np.testing.assert_allclose(moved, base, atol=1e-9)
    np.testing.assert_allclose(aligned_diff_features(y, x), base, atol=1e-12)
    assert np.isnan(base[0, 2 * drop])
    assert np.isfinite(base[1]).all()


def test_align_maps_the_template_onto_itself_and_keeps_missing_markers_missing() -> None:
    np.testing.assert_allclose(align(TEMPLATE[None] * 50 + 3)[0], TEMPLATE, atol=1e-12)
    coords = _faces(1, 0)
    coords[0, 5] = np.nan
    out = align(coords)
    assert np.isnan(out[0, 5]).all()
    assert np.isfinite(np.delete(out[0], 5, axis=0)).all()


def test_align_of_too_few_markers_is_missing() -> None:
    coords = _faces(1, 0)
    coords[0, 2:] = np.nan  # two markers left: below MIN_COMMON
    assert np.isnan(align(coords)).all()


def test_align_pairs_fits_both_photos_on_their_common_markers() -> None:
    x, y = _faces(1, 1), _faces(1, 2)
    y[0, 7] = np.nan
    ax, ay = align_pairs(x, y)
    assert np.isnan(ax[0, 7]).all()
    assert np.isnan(ay[0, 7]).all()
    x_without = x.copy()
    x_without[0, 7] = np.nan
    np.testing.assert_allclose(ax, align(x_without))


def test_ratios_are_distances_over_the_eye_width() -> None:
    coords = np.zeros((1, N_MARKERS, 2))
    coords[0, :, 0] = np.arange(N_MARKERS)  # markers on a line, 1 apart; rtex-ltex = 3
    r = distance_ratios(coords)[0]
    assert r[RATIO_NAMES.index("rtex-rten / eye width")] == pytest.approx(1 / 3)
    assert r[RATIO_NAMES.index("rtex-ltex / eye width")] == pytest.approx(1.0)


def test_names_match_columns_and_errors_name_the_problem() -> None:
    assert aligned_diff_features(_faces(2, 0), _faces(2, 1)).shape[1] == len(aligned_diff_names())
    with pytest.raises(DataError, match=r"expected markers of shape \(n, 14, 2\), found \(2, 3\)"):
        align(np.zeros((2, 3)))
    photos = PhotoTable(
        photo_id=np.array(["a", "b"]),
        person=np.array(["1", "2"]),
        role=np.array(["", ""]),
        coords=_faces(2, 0),
        derived=np.zeros((2, N_MARKERS), dtype=bool),
    )
    pairs = PairTable(photos=photos, first=np.array([0]), second=np.array([1]),
                      label=np.array([0]), group=np.array(["1"]))  # fmt: skip
    for name in PAIR_REPRESENTATIONS:
        assert pair_feature_matrix(pairs, name).shape[0] == 1
    with pytest.raises(ConfigError, match="unknown pair representation 'nope'"):
        pair_feature_matrix(pairs, "nope")


def test_row_forms_equal_the_pair_forms_bit_for_bit(muct_small: PhotoTable) -> None:
    # every pair of 60 photos, some of them side views missing a marker (aligned as pairs)
    coords = muct_small.coords[:60]
    i, j = np.triu_indices(len(coords), k=1)
    partial = np.isnan(coords).any(axis=(1, 2))
    assert 0 < partial.sum() < len(coords)
    np.testing.assert_array_equal(
        aligned_diff_rows(coords, i, j), aligned_diff_features(coords[i], coords[j])
    )
    for got, want in zip(
        aligned_vector_rows(coords, i, j), aligned_vectors(coords[i], coords[j]), strict=True
    ):
        np.testing.assert_array_equal(got, want)
