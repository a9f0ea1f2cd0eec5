"""Fixtures for the photo path: one MediaPipe extractor and the shared photos, extracted once.

MediaPipe is an optional extra, but its tests are never skipped silently: without it they
fail with the install command, unless FFMATCH_NO_PHOTOS=1 asks to skip them (and -ra says so).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ffmatch.matcher.photos.extract import Extraction, FaceMeshExtractor, extract_photos


def _require_mediapipe() -> None:
    if importlib.util.find_spec("mediapipe") is not None:
        return
    if os.environ.get("FFMATCH_NO_PHOTOS") == "1":
        pytest.skip("FFMATCH_NO_PHOTOS=1: photo tests skipped (mediapipe not installed)")
    pytest.fail("mediapipe is not installed: pip install -e '.[photos]' (or FFMATCH_NO_PHOTOS=1)")


@pytest.fixture(scope="session")
def photos_dir(shared_photos: Path) -> Path:
    return shared_photos


@pytest.fixture(scope="session")
def extractor() -> Iterator[FaceMeshExtractor]:
    _require_mediapipe()
    with FaceMeshExtractor() as ex:
        yield ex


@pytest.fixture(scope="session")
def extracted(photos_dir: Path, extractor: FaceMeshExtractor) -> dict[str, Extraction]:
    """Every shared photo, extracted with the default choice (one face required)."""
    paths = sorted(p for p in photos_dir.iterdir() if p.suffix in (".jpg", ".png"))
    return {e.photo_id: e for e in extract_photos(paths, extractor)}
