"""Pose normalisation: markers read off a turned head equal those of the unturned one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.matcher.photos.extract import Extraction
from ffmatch.matcher.photos.pose import frontal_markers, frontalise, head_axes


@pytest.fixture(scope="module")
def mesh(extracted: dict[str, Extraction]) -> np.ndarray:
    face = extracted["obama-1"].face
    assert face is not None
    return face.mesh


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = (f(a) for a in (yaw, pitch, roll) for f in (np.cos, np.sin))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


def test_axes_are_a_rotation(mesh: np.ndarray) -> None:
    r = head_axes(mesh)[0]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(
    yaw=st.floats(-0.6, 0.6),
    pitch=st.floats(-0.4, 0.4),
    roll=st.floats(-0.5, 0.5),
    shift=st.tuples(st.floats(-200, 200), st.floats(-200, 200)),
)
def test_frontal_markers_do_not_depend_on_head_pose(
    mesh: np.ndarray, yaw: float, pitch: float, roll: float, shift: tuple[float, float]
) -> None:
    turned = (mesh - mesh.mean(0)) @ _rotation(yaw, pitch, roll).T + mesh.mean(0)
    turned[:, :2] += shift
    a, b = frontal_markers(mesh)[0], frontal_markers(turned)[0]
    a, b = a - a.mean(0), b - b.mean(0)  # the face may sit elsewhere; its shape may not change
    np.testing.assert_allclose(a, b, atol=1e-6 * np.abs(a).max())


def test_frontalised_face_is_upright_and_symmetric(mesh: np.ndarray) -> None:
    m = frontal_markers(mesh)[0]
    front = frontalise(mesh)[0]
    assert front[152, 1] > front[168, 1]  # menton below nasion
    # ... straight below it, up to how far the two sit off the fitted mid-sagittal plane
    assert abs(front[152, 0] - front[168, 0]) < 0.02 * (front[152, 1] - front[168, 1])
    assert m[0, 0] < m[3, 0]  # rtex left of ltex
