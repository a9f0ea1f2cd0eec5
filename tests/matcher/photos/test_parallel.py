"""Extraction in several processes gives what one process gives, in the same order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ffmatch.matcher.photos.extract import Extraction
from ffmatch.matcher.photos.parallel import default_jobs, extract_many


@pytest.mark.slow
def test_two_processes_match_one(photos_dir: Path, extracted: dict[str, Extraction],
                                 tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "notes.jpg").write_text("not a photo")
    names = ["obama-1.jpg", "multi-two-people.jpg", "biden-1.jpg", "obama-5-240p.jpg"]
    paths = [photos_dir / n for n in names] + [tmp_path / "notes.jpg"]
    got = list(extract_many(paths, jobs=2))
    assert [e.photo_id for e in got] == ["obama-1", "multi-two-people", "biden-1",
                                         "obama-5-240p", "notes"]  # fmt: skip
    for e in got[:4]:
        np.testing.assert_allclose(e.markers, extracted[e.photo_id].markers, equal_nan=True)
        assert e.error == extracted[e.photo_id].error
    assert got[4].error.startswith("not an image")


def test_default_jobs_grow_with_the_photos() -> None:
    assert default_jobs(10) == 1
    assert 1 <= default_jobs(10_000) <= 8
