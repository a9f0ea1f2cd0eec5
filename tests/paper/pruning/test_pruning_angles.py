"""Angles between hidden units' activation vectors (paper formulas (3)-(5))."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ffmatch.core.errors import ConfigError
from ffmatch.paper.pruning import unit_angles
from ffmatch.paper.pruning.distinctiveness import centre, centred_angles, short_units


def test_angles_by_hand() -> None:
    # Columns (1, 0), (0, 1), (1, 1), (-1, -1) as raw vectors: 90, 45, 135 and 180 degrees.
    a = np.array([[1.0, 0.0, 1.0, -1.0], [0.0, 1.0, 1.0, -1.0]])
    got = unit_angles(a, centring="none")
    assert got[0, 1] == pytest.approx(90.0)
    assert got[0, 2] == pytest.approx(45.0)
    assert got[1, 3] == pytest.approx(135.0)
    assert got[2, 3] == pytest.approx(180.0)
    np.testing.assert_array_equal(np.diag(got), 0.0)


def test_mean_centred_angle_is_arccos_of_pearson_correlation() -> None:
    a = np.maximum(np.random.default_rng(3).normal(size=(30, 5)), 0.0)  # ReLU-like
    expected = np.degrees(np.arccos(np.clip(np.corrcoef(a, rowvar=False), -1, 1)))
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(unit_angles(a, centring="mean"), expected, atol=1e-6)


def test_raw_relu_angles_never_exceed_90_degrees_but_centred_ones_do() -> None:
    z = np.random.default_rng(4).normal(size=(50, 1))
    a = np.maximum(np.hstack([z + 3.0, -z + 3.0]), 0.0)  # both always active, opposite moves
    assert unit_angles(a, centring="none")[0, 1] <= 90.0
    assert unit_angles(a, centring="mean")[0, 1] == pytest.approx(180.0)


def test_half_centring_subtracts_one_half() -> None:
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(centre(a, centring="half"), a - 0.5)
    assert unit_angles(a, centring="half")[0, 1] == pytest.approx(180.0)


def test_constant_unit_has_no_angle_under_mean_centring() -> None:
    a = np.array([[1.0, 2.0, 0.0], [2.0, 2.0, 1.0], [3.0, 2.0, 0.5]])
    got = unit_angles(a, centring="mean")
    np.testing.assert_array_equal(short_units(a, centring="mean"), [False, True, False])
    assert np.isnan(got[1]).all()
    assert np.isnan(got[:, 1]).all()
    assert not np.isnan(got[[0, 2]][:, [0, 2]]).any()


def test_angles_of_centred_vectors_are_unit_angles_bit_for_bit() -> None:
    a = np.maximum(np.random.default_rng(4).normal(size=(30, 6)), 0.0)
    a[:, 2] = 0.0  # a dead unit: NaN row and column either way
    for centring in ("none", "mean", "half"):
        np.testing.assert_array_equal(
            centred_angles(centre(a, centring=centring)), unit_angles(a, centring=centring)
        )


def test_unknown_centring_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"centring: expected one of none, mean, half, found 'z'"):
        unit_angles(np.ones((3, 2)), centring="z")  # type: ignore[arg-type]


activations = arrays(
    np.float64,
    st.tuples(st.integers(3, 12), st.integers(1, 5)),
    elements=st.floats(0.0, 10.0, allow_subnormal=False),
)


@settings(max_examples=60, deadline=None)
@given(a=activations, scale=st.floats(0.25, 8.0), unit=st.integers(0, 4))
def test_angles_symmetric_bounded_and_scale_invariant(
    a: np.ndarray, scale: float, unit: int
) -> None:
    unit %= a.shape[1]
    for centring in ("none", "mean"):  # "half" is not scale invariant: 0.5 is a fixed origin
        c = centre(a, centring=centring)
        # Near-constant columns lose their direction to rounding when scaled: keep clear ones.
        assume((np.sqrt((c**2).mean(axis=0)) > 1e-3).all())
        got = unit_angles(a, centring=centring)
        assert not np.isnan(got).any()
        np.testing.assert_array_equal(got, got.T)
        assert ((got >= 0.0) & (got <= 180.0)).all()
        scaled = a.copy()
        scaled[:, unit] *= scale
        np.testing.assert_allclose(unit_angles(scaled, centring=centring), got, atol=1e-4)
