"""One photo in, one ``PhotoRecord`` out: what the index stores about it (runs on workers).

``extract_record`` is the single function every executor runs (in this process, or on a Dask
worker), so a cluster's result equals the single-process one. It never raises for a bad
photo: an unreadable, empty or non-image file comes back as a failed record with the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.table import DESCRIPTOR_SIZE, FloatArray

__all__ = ["DESCRIPTOR_SIZE", "FaceRecord", "PhotoRecord", "PhotoTask", "extract_record"]

Status = Literal["ok", "no_face", "failed"]
MARKERS_VERSION = 1  # bump when the markers taken from the mesh change


@dataclass(frozen=True, kw_only=True, slots=True)
class PhotoTask:
    """What a worker needs to extract one photo: picklable, no open handles."""

    photo_id: str
    path: str  # absolute; workers of a cluster must see PHOTO_DIR at the same path
    sha256: str | None
    size: int
    mtime_ns: int
    problem: str = ""  # known before reading (zero-byte, link loop): no extraction


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceRecord:
    """One face as stored: box, 14 markers, appearance descriptor, quality values."""

    box: tuple[float, float, float, float]  # left, top, right, bottom (upright pixels)
    markers: FloatArray  # (14, 2) WIDE_ORDER, pixels
    descriptor: npt.NDArray[np.float32] | None  # (128,) or None without the appearance model
    quality: Mapping[str, float | bool] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class PhotoRecord:
    """One photo as stored: the faces found (left to right), or why there are none."""

    photo_id: str
    sha256: str | None
    size: int
    mtime_ns: int
    width: int | None
    height: int | None
    status: Status
    error: str
    extractor: str
    faces: tuple[FaceRecord, ...] = ()


Extract = Callable[[PhotoTask], PhotoRecord]
"""The seam executors call: ``extract_record`` in production, a fake in tests."""

_local = threading.local()  # one MediaPipe extractor per thread: its graphs are not shareable


@functools.cache
def extractor_version() -> str:
    """What extracts faces, with versions: a change re-extracts every photo on the next index."""
    from ffmatch.matcher.photos.appearance import ENCODER_FILE, appearance_available

    versions = []
    for package in ("mediapipe", "dlib-bin", "dlib"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    descriptor = ENCODER_FILE if appearance_available() else "none"
    return f"{'; '.join(versions)}; markers {MARKERS_VERSION}; descriptor {descriptor}"


def failed(task: PhotoTask, reason: str, *, status: Status = "failed") -> PhotoRecord:
    return PhotoRecord(
        photo_id=task.photo_id,
        sha256=task.sha256,
        size=task.size,
        mtime_ns=task.mtime_ns,
        width=None,
        height=None,
        status=status,
        error=reason,
        extractor=extractor_version(),
    )


def extract_record(task: PhotoTask) -> PhotoRecord:
    """Every face of the photo with markers, descriptor and quality; a failed record if none."""
    if task.problem:
        return failed(task, task.problem)
    from ffmatch.matcher.photos.extract import FaceMeshExtractor
    from ffmatch.matcher.photos.image import read_photo_reduced

    ex: FaceMeshExtractor | None = getattr(_local, "extractor", None)
    if ex is None:
        ex = _local.extractor = FaceMeshExtractor()
    try:
        photo = read_photo_reduced(task.path, min_side=ex.config.decode_side)
    except DataError as err:
        return failed(task, str(err).removeprefix(f"{task.path}: "))
    faces = ex.faces(photo.rgb)  # with descriptors where dlib is installed
    if photo.factor != 1:  # decoded smaller: back to the full photo's pixels
        faces = tuple(f.scaled(photo.factor) for f in faces)
    records = tuple(
        FaceRecord(
            box=f.box,
            markers=f.markers,
            descriptor=f.descriptor,
            quality=dataclasses.asdict(f.quality),
        )
        for f in faces
    )
    return PhotoRecord(
        photo_id=task.photo_id,
        sha256=task.sha256,
        size=task.size,
        mtime_ns=task.mtime_ns,
        width=photo.width,
        height=photo.height,
        status="ok" if records else "no_face",
        error="" if records else "no face found",
        extractor=extractor_version(),
        faces=records,
    )
