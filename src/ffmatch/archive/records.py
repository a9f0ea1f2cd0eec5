"""One photo in, one ``PhotoRecord`` out: what the index stores about it (runs on workers).

``extract_record`` is the single function every executor runs (in this process, or on a Dask
worker), so a cluster's result equals the single-process one. It never raises for a bad
photo: an unreadable, empty or non-image file comes back as a failed record with the reason.
"""

from __future__ import annotations

import importlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.core.table import FloatArray
from ffmatch.matcher.photos.extract import _PICK
from ffmatch.matcher.photos.pose import head_axes

Status = Literal["ok", "no_face", "failed"]
MARKERS_VERSION = 1  # bump when the markers taken from the mesh change
DESCRIPTOR_SIZE = 128

_RTEX, _LTEX = WIDE_ORDER.index("rtex"), WIDE_ORDER.index("ltex")


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


def extractor_version() -> str:
    """What extracts faces, with versions: a change re-extracts every photo on the next index."""
    try:
        mp = metadata.version("mediapipe")
    except metadata.PackageNotFoundError:
        mp = "missing"
    return f"mediapipe {mp}; markers {MARKERS_VERSION}; descriptor {_descriptor_version()}"


def _descriptor_version() -> str:
    appearance = _appearance()
    return "none" if appearance is None else str(getattr(appearance, "VERSION", "dlib"))


def _appearance() -> ModuleType | None:
    """The appearance descriptor module, where this ffmatch has it (the verdicts' dlib model)."""
    try:
        return importlib.import_module("ffmatch.matcher.photos.appearance")
    except ImportError:
        return None


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
    faces = ex.faces(photo.rgb)
    descriptors = _describe(photo.rgb, [f.box for f in faces])
    if photo.factor != 1:  # decoded smaller: back to the full photo's pixels
        faces = tuple(f.scaled(photo.factor) for f in faces)
    records = tuple(
        FaceRecord(box=f.box, markers=f.markers, descriptor=d, quality=face_quality(f.mesh))
        for f, d in zip(faces, descriptors, strict=True)
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


def _describe(
    rgb: npt.NDArray[np.uint8], boxes: list[tuple[float, float, float, float]]
) -> list[npt.NDArray[np.float32] | None]:
    """Appearance descriptors of the faces in ``boxes`` (decoded pixels); None each without
    the appearance model (the ``photos`` extra without dlib)."""
    appearance = _appearance()
    if appearance is None:
        return [None] * len(boxes)
    if not boxes:
        return []
    d = np.asarray(appearance.describe_faces(rgb, boxes), dtype=np.float32)
    return [d[k] for k in range(len(boxes))]


def face_quality(mesh: npt.ArrayLike) -> dict[str, float | bool]:
    """Eye distance (outer corners, px) and head yaw/pitch (degrees) from the 3-D mesh."""
    m = np.asarray(mesh, dtype=np.float64)
    axes = head_axes(m)[0]  # rows: the head's left-right, down and depth axes
    markers = _PICK @ m[:, :2]  # (14, 2) the mesh's own markers (not mirror-averaged)
    return {
        "eye_distance_px": round(float(np.hypot(*(markers[_LTEX] - markers[_RTEX]))), 2),
        "yaw_deg": round(math.degrees(math.asin(float(np.clip(axes[0, 2], -1, 1)))), 1),
        "pitch_deg": round(math.degrees(math.asin(float(np.clip(axes[1, 2], -1, 1)))), 1),
    }


def quality_json(quality: Mapping[str, float | bool]) -> str:
    return json.dumps(dict(quality), sort_keys=True)
