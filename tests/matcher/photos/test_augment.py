"""Turned copies: rotations of the 3-D markers, seeded, added to the table as training rows."""

from __future__ import annotations

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.matcher.photos.augment import (
    DEGRADATIONS,
    degrade,
    turn,
    turned_copies,
    with_turned_copies,
)
from ffmatch.matcher.photos.extract import Extraction, to_table


def test_no_turn_is_the_identity_and_a_yaw_keeps_heights(
    extracted: dict[str, Extraction],
) -> None:
    face = extracted["obama-1"].face
    assert face is not None
    m3 = face.markers3d[None]
    np.testing.assert_allclose(turn(m3, [0.0], [0.0])[0], m3[0, :, :2], atol=1e-9)
    turned = turn(m3, [20.0], [0.0])[0]
    np.testing.assert_allclose(turned[:, 1], m3[0, :, 1], atol=1e-9)  # yaw: y unchanged
    width = np.ptp(m3[0, :, 0])
    assert not np.allclose(turned[:, 0], m3[0, :, 0], atol=0.01 * width)


def test_a_quarter_turn_shows_the_depth(extracted: dict[str, Extraction]) -> None:
    face = extracted["obama-1"].face
    assert face is not None
    m3 = face.markers3d
    # A quarter turn shows the face side-on: its x-spread becomes the depth spread.
    quarter = turn(m3[None], [90.0], [0.0])[0]
    np.testing.assert_allclose(np.ptp(quarter[:, 0]), np.ptp(m3[:, 2]), rtol=1e-9)


def test_copies_are_seeded_and_zero_range_gives_the_markers(
    extracted: dict[str, Extraction],
) -> None:
    faces = [f for f in (extracted[k].face for k in ("obama-1", "biden-1")) if f is not None]
    a = turned_copies(faces, copies=3, seed=0)
    assert a.shape == (2, 3, 14, 2)
    np.testing.assert_array_equal(a, turned_copies(faces, copies=3, seed=0))
    assert not np.allclose(a, turned_copies(faces, copies=3, seed=1))
    flat = turned_copies(faces, copies=2, max_yaw=0, max_pitch=0, seed=0)
    np.testing.assert_allclose(flat[:, 0], np.stack([f.markers for f in faces]), atol=1e-9)
    with pytest.raises(ConfigError, match="copies: expected at least 1, found 0"):
        turned_copies(faces, copies=0, seed=0)
    with pytest.raises(ConfigError, match="max_yaw in \\[0, 60\\]"):
        turned_copies(faces, copies=1, max_yaw=90, seed=0)


def test_table_gets_copies_of_extracted_photos_only(extracted: dict[str, Extraction]) -> None:
    rows = [extracted["obama-1"], extracted["multi-two-people"], extracted["biden-1"]]
    table = with_turned_copies(to_table(rows, person="prefix"), rows, copies=2, seed=0)
    assert len(table) == 3 + 4
    assert list(table.photo_id[3:]) == [
        "obama-1~turn1", "obama-1~turn2", "biden-1~turn1", "biden-1~turn2",
    ]  # fmt: skip
    assert list(table.person[3:]) == ["obama", "obama", "biden", "biden"]
    assert not table.missing[3:].any()


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_degradations_keep_a_photo_and_are_seeded(kind: str) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(112, 92, 3), dtype=np.uint8)
    out = degrade(rgb, kind, seed=3, face_width=70.0)
    assert out.dtype == np.uint8
    assert out.ndim == 3
    if kind == "small":
        assert out.shape[1] == round(92 * 60 / 70)  # the face shrunk to 60 px
    else:
        assert out.shape == rgb.shape
        assert not np.array_equal(out, rgb)
    np.testing.assert_array_equal(out, degrade(rgb, kind, seed=3, face_width=70.0))


def test_unknown_degradation() -> None:
    with pytest.raises(ConfigError, match="degradation: expected one of sepia, blur, small"):
        degrade(np.zeros((8, 8, 3), dtype=np.uint8), "fog", seed=0)
