"""Overlays: markers drawn where they were found, faces numbered, small photos enlarged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ffmatch.matcher.photos.extract import Extraction, FaceMeshExtractor, extract_photo
from ffmatch.matcher.photos.image import read_photo
from ffmatch.matcher.photos.overlay import MARKER_COLOUR, overlay, save_overlay


def _near_colour(im: Image.Image, xy: np.ndarray, colour: tuple[int, int, int], r: int) -> bool:
    a = np.asarray(im.convert("RGB")).astype(int)
    x, y = (round(float(v)) for v in xy)
    patch = a[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1]
    return bool((np.abs(patch - np.array(colour)).sum(axis=2) < 60).any())


def test_overlay_draws_each_marker(photos_dir: Path, extracted: dict[str, Extraction]) -> None:
    ex = extracted["obama-1"]
    rgb = read_photo(photos_dir / "obama-1.jpg")
    im = overlay(rgb, ex)
    assert im.size == (rgb.shape[1], rgb.shape[0])
    r = 8  # rings are a third of a tenth of the ~150 px eye width, plus the line
    assert all(_near_colour(im, xy, MARKER_COLOUR, r) for xy in ex.markers)
    before = np.asarray(Image.fromarray(rgb)).astype(int)
    assert np.abs(np.asarray(im).astype(int) - before).sum() > 0


def test_small_photos_are_enlarged(orl_faces: Path, extractor: FaceMeshExtractor,
                                   tmp_path: Path) -> None:  # fmt: skip
    path = orl_faces / "s1" / "1.pgm"
    ex = extract_photo(path, extractor)
    out = save_overlay(read_photo(path), ex, tmp_path / "orl.png")
    im = Image.open(out)
    assert im.size == (92 * 5, 112 * 5)  # the smallest whole factor reaching 480 px
    assert _near_colour(im, ex.markers[0] * 5, MARKER_COLOUR, 6)


def test_failed_photo_overlay_numbers_the_faces(
    photos_dir: Path, extracted: dict[str, Extraction], tmp_path: Path
) -> None:
    ex = extracted["multi-two-people"]
    out = save_overlay(read_photo(photos_dir / "multi-two-people.jpg"), ex, tmp_path / "m.jpg")
    assert Image.open(out).format == "JPEG"
