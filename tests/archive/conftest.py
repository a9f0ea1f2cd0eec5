"""Tiny archives without MediaPipe: "photos" are text files a fake extractor reads.

A fake photo's text is ``person=<name> faces=<n>`` (or anything else: then it is no image).
Its faces get markers and descriptors derived from the person, so faces of one person are
close and of two people far, and the same file always gives the same record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ffmatch.archive.records import FaceRecord, PhotoRecord, PhotoTask, extractor_version, failed
from ffmatch.archive.scoring import Explanation
from ffmatch.archive.store import FaceBank
from ffmatch.core.table import FloatArray

BASE = np.array(
    [
        [30, 40],
        [40, 40],
        [60, 40],
        [70, 40],
        [50, 38],
        [50, 60],
        [44, 58],
        [56, 58],
        [50, 66],
        [50, 70],
        [50, 74],
        [50, 78],
        [50, 84],
        [50, 92],
    ],
    dtype=np.float64,
)


def _vector(text: str, n: int) -> FloatArray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(n)


def fake_extract(task: PhotoTask) -> PhotoRecord:
    """Faces of a fake photo; a file that is not ``person=...`` is "not an image"."""
    if task.problem:
        return failed(task, task.problem)
    text = Path(task.path).read_text(errors="replace").strip()
    fields = dict(f.split("=", 1) for f in text.split() if "=" in f)
    if "person" not in fields:
        return failed(task, "not an image Pillow can read (expected JPEG, PNG, PGM, ...)")
    faces = []
    for k, person in enumerate(fields["person"].split(",")):
        jitter = _vector(text + str(k), 28).reshape(14, 2) * 0.2
        markers = BASE * (1 + 0.1 * _vector(person, 1)[0] ** 2) + jitter + [100 * k, 0]
        desc = (_vector(person, 128) + 0.05 * _vector(text + str(k), 128)).astype(np.float32)
        faces.append(
            FaceRecord(
                box=(20 + 100 * k, 30, 80 + 100 * k, 95),
                markers=markers,
                descriptor=desc,
                quality={"eye_distance": 40.0},
            )
        )
    return PhotoRecord(
        photo_id=task.photo_id,
        sha256=task.sha256,
        size=task.size,
        mtime_ns=task.mtime_ns,
        width=200,
        height=120,
        status="ok",
        error="",
        extractor=extractor_version(),
        faces=tuple(faces),
    )


class DescriptorScorer:
    """P(same) = exp(-d^2 / 64) of the descriptors' Euclidean distance: a transparent scorer."""

    name = "test"
    same_threshold = 0.5

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        d2 = ((gallery.descriptor - query.descriptor[0]) ** 2).sum(axis=1)
        return np.asarray(np.exp(-d2 / 64.0), dtype=np.float64)

    def explain(self, query: FaceBank, candidate: FaceBank, probability: float) -> Explanation:
        if probability >= 0.5:
            return Explanation(verdict="same", reasons=("descriptors close",), evidence=self.name)
        return Explanation(verdict="different", reasons=("descriptors far",), evidence=self.name)


@pytest.fixture
def scorer() -> DescriptorScorer:
    return DescriptorScorer()


@pytest.fixture
def make_photos(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A folder of fake photos from ``{relative path: text}``."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "photos"
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        return root

    return make


@pytest.fixture
def small_archive(
    tmp_path: Path, make_photos: Callable[[dict[str, str]], Path]
) -> tuple[Path, Path]:
    """(PHOTO_DIR, archive) with 3 people x 3 photos, one photo of two, one non-image."""
    from ffmatch.archive import index_folder

    files = {f"{p}/{k}.jpg": f"person={p} shot={k}" for p in ("ann", "bob", "cy") for k in range(3)}
    files["group/ann-and-bob.jpg"] = "person=ann,bob shot=9"
    files["notes.txt"] = "shopping list"
    root = make_photos(files)
    db = tmp_path / "archive.db"
    index_folder(root, db, extract=fake_extract)
    return root, db
