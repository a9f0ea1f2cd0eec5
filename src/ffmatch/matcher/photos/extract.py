"""MediaPipe's face mesh to the paper's 14 FFMs, for every face in a photo.

Two stages, because MediaPipe's face mesh finds faces with a short-range detector that
misses small faces in large photos (two people across a 2000 px photo: none found):

1. MediaPipe's full-range face detector finds face boxes on a copy of the photo scaled to at
   most ``detect_side`` pixels (cheap: it runs at 192 x 192 anyway).
2. Around each box, a square crop of the original photo (padded with grey where it leaves the
   frame, scaled to at most ``mesh_side``) goes to the face mesh (478 points), whose points
   are mapped back to the original pixels.

3. The mirrored crop goes through the mesh too; its markers, mapped back (x flipped, right and
   left swapped), are averaged with the direct ones (``Face.markers``).

If the detector finds nothing (tight crops such as ORL's 92 x 112 faces), the face mesh's own
detector runs on the whole photo instead. Markers are taken at the mesh indices verified in
``shared/data/photos/README.md``; the stomion is the mean of the two inner-lip midpoints.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.markers import MIRROR, N_MARKERS, WIDE_ORDER
from ffmatch.core.table import DESCRIPTOR_SIZE, QUALITY_COLUMNS, BoolArray, FloatArray, PhotoTable
from ffmatch.matcher.photos.appearance import (
    APPEARANCE_HINT,
    Float32Array,
    appearance_available,
    describe_faces,
)
from ffmatch.matcher.photos.image import (
    INSTALL_HINT,
    MissingExtraError,
    RGBArray,
    read_photo_reduced,
)
from ffmatch.matcher.photos.mesh import MESH_INDICES, PICK
from ffmatch.matcher.photos.quality import FaceQuality, face_quality

_GREY = 128  # padding for crops that leave the frame

# Marker k of a mirrored face is marker _MIRRORED[k] of the face itself (rtex <-> ltex, ...).
_PARTNER = {**MIRROR, **{b: a for a, b in MIRROR.items()}}
_MIRRORED = [WIDE_ORDER.index(_PARTNER.get(a, a)) for a in WIDE_ORDER]

PersonRule = Literal["photo", "prefix", "folder"]
PERSON_RULES: tuple[str, ...] = ("photo", "prefix", "folder")


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtractConfig:
    """How photos are scaled for MediaPipe; the defaults suit photos from 92 px to 50 Mpx."""

    decode_side: int = 2048  # JPEGs over twice this are decoded at 1/2..1/8 scale, not below
    detect_side: int = 1024  # longest side of the copy the face detector sees (px)
    mesh_side: int = 512  # largest crop side the face mesh sees (px); larger crops are scaled
    crop_scale: float = 2.0  # crop side / detected box side: the mesh wants margin around a face
    min_confidence: float = 0.5  # face detector score below which a box is ignored
    max_faces: int = 8  # faces looked for per photo
    mirror: bool = True  # also mesh the mirrored crop and average: cancels part of the error
    appearance: bool | None = None  # dlib descriptor per face; None: when dlib is installed

    def __post_init__(self) -> None:
        if min(self.decode_side, self.detect_side, self.mesh_side) < 64:
            raise ConfigError(
                f"decode_side, detect_side and mesh_side must be at least 64 px, found "
                f"{self.decode_side}, {self.detect_side} and {self.mesh_side}"
            )
        if not 1.0 <= self.crop_scale <= 4.0:
            raise ConfigError(f"crop_scale must be in [1, 4], found {self.crop_scale}")
        if not 0.0 < self.min_confidence < 1.0:
            raise ConfigError(f"min_confidence must be in (0, 1), found {self.min_confidence}")
        if self.max_faces < 1:
            raise ConfigError(f"max_faces must be at least 1, found {self.max_faces}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Face:
    """One face's mesh in the photo's pixels: x right, y down, z towards the camera's back.

    ``mirrored`` holds the 14 markers the mesh found on the mirror image of the same face,
    mapped back (x flipped, right and left markers swapped); ``markers`` averages the two.
    MediaPipe's mesh is not exactly mirror-symmetric, so the average cancels part of its
    error (on ORL it raises the person-disjoint ROC-AUC by about 0.01 and rank-1 by 0.04).
    """

    mesh: FloatArray  # (478, 3); z in pixels at the scale of x (MediaPipe's convention)
    mirrored: FloatArray | None = None  # (14, 2) or None when not measured
    descriptor: Float32Array | None = None  # (128,) dlib appearance descriptor, if computed

    @property
    def quality(self) -> FaceQuality:
        """Eye distance (px), yaw and pitch, mouth open / smiling, from the mesh."""
        return face_quality(self.mesh)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the mesh points."""
        lo, hi = self.mesh[:, :2].min(axis=0), self.mesh[:, :2].max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    @property
    def markers(self) -> FloatArray:
        """(14, 2) FFMs in ``WIDE_ORDER``, pixels (mean with the mirrored face's, if any)."""
        direct = np.asarray(PICK @ self.mesh[:, :2])
        return direct if self.mirrored is None else (direct + self.mirrored) / 2

    @property
    def markers3d(self) -> FloatArray:
        """(14, 3) FFMs of the mesh itself, with its depth, for pose normalisation."""
        return np.asarray(PICK @ self.mesh)

    def scaled(self, factor: float) -> Face:
        """The same face on a photo ``factor`` times larger."""
        m = None if self.mirrored is None else self.mirrored * factor
        return Face(mesh=self.mesh * factor, mirrored=m, descriptor=self.descriptor)


@dataclass(frozen=True, kw_only=True, slots=True)
class Extraction:
    """The outcome for one photo: faces found (left to right), the chosen one, or why none."""

    source: str  # the file, for messages
    photo_id: str
    width: int = 0
    height: int = 0
    faces: tuple[Face, ...] = ()
    chosen: int | None = None  # index into ``faces``
    error: str = ""  # empty when a face was chosen

    @property
    def ok(self) -> bool:
        return self.chosen is not None

    @property
    def face(self) -> Face | None:
        return None if self.chosen is None else self.faces[self.chosen]

    @property
    def descriptor(self) -> Float32Array | None:
        """(128,) appearance descriptor of the chosen face; None if failed or not computed."""
        face = self.face
        return None if face is None else face.descriptor

    @property
    def markers(self) -> FloatArray:
        """(14, 2) markers of the chosen face; NaN when the extraction failed."""
        face = self.face
        return np.full((N_MARKERS, 2), np.nan) if face is None else face.markers

    @property
    def outside(self) -> BoolArray:
        """(14,) True for markers outside the frame: the mesh extrapolated them (chins, often)."""
        m = self.markers
        inside = (
            (m[:, 0] >= 0) & (m[:, 0] <= self.width) & (m[:, 1] >= 0) & (m[:, 1] <= self.height)
        )
        return np.asarray(~inside & ~np.isnan(m[:, 0]))

    def require(self) -> FloatArray:
        """The (14, 2) markers, or a DataError saying why this photo has none."""
        if self.chosen is None:
            raise DataError(f"{self.source}: {self.error}")
        return self.markers


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceChoice:
    """Which face to take when a photo shows several: never guessed unless asked.

    A photo with one face always gives that face; ``number`` and ``largest`` choose among
    several (so one ``--face 2`` can serve a batch where only some photos show a crowd).
    """

    number: int | None = None  # 1-based, faces ordered left to right
    largest: bool = False

    def __post_init__(self) -> None:
        if self.number is not None and self.largest:
            raise ConfigError("choose a face by number (--face N) or --largest, not both")
        if self.number is not None and self.number < 1:
            raise ConfigError(f"--face: expected a number from 1 (leftmost), found {self.number}")

    def pick(self, faces: Sequence[Face]) -> tuple[int | None, str]:
        """(index, "") of the chosen face, or (None, why not)."""
        n = len(faces)
        if n == 0:
            return None, "no face found"
        if n == 1:  # the choice is among several faces; a photo of one person needs none
            return 0, ""
        if self.number is not None:
            if self.number > n:
                return None, f"--face {self.number}: only {n} faces found"
            return self.number - 1, ""
        if self.largest:
            return int(np.argmax([f.area for f in faces])), ""
        return None, (
            f"{n} faces found; choose one with --face N (1 = leftmost, {n} = rightmost) "
            "or --largest"
        )


class FaceMeshExtractor:
    """MediaPipe's face detector and face mesh, opened once and reused for many photos.

    Use as a context manager (``with FaceMeshExtractor() as ex: ex.faces(rgb)``) so the
    MediaPipe graphs are closed. Not thread-safe: one per thread. With dlib installed (or
    ``ExtractConfig(appearance=True)``), every face also gets its appearance descriptor.
    """

    def __init__(self, config: ExtractConfig | None = None) -> None:
        self.config = config or ExtractConfig()
        wanted = self.config.appearance
        if wanted and not appearance_available():
            raise MissingExtraError(APPEARANCE_HINT)
        self.describes = appearance_available() if wanted is None else wanted
        try:
            from mediapipe.python.solutions import face_detection, face_mesh
        except ImportError:
            raise MissingExtraError(INSTALL_HINT) from None
        c = self.config
        with _native_stderr_hidden():
            # model_selection=1: the full-range detector (faces up to ~5 m, small in frame).
            self._detector = face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=c.min_confidence
            )
            self._one = face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True
            )
            self._many = face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=c.max_faces, refine_landmarks=True
            )
            blank = np.full((64, 64, 3), _GREY, dtype=np.uint8)
            for graph in (self._detector, self._one, self._many):
                _process(graph, blank)  # first runs log TFLite start-up notes; hidden here

    def close(self) -> None:
        for graph in (self._detector, self._one, self._many):
            graph.close()

    def __enter__(self) -> FaceMeshExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def faces(self, rgb: RGBArray) -> tuple[Face, ...]:
        """Every face found in an upright (h, w, 3) uint8 photo, left to right."""
        small, scale = _scaled(rgb, self.config.detect_side)
        boxes = [tuple(v / scale for v in b) for b in self._detect(small)]
        found = [f for f in (self._mesh_in_box(rgb, b) for b in boxes) if f is not None]
        if not found:  # tight crops: the detector wants context the photo does not have
            found = [
                self._mesh_in_box(rgb, b) or f.scaled(1 / scale)
                for f in self._whole_mesh(small)
                for b in [tuple(v / scale for v in f.box)]
            ]
        # Largest first, so a spurious small mesh inside a face is the one dropped.
        distinct = _distinct(sorted(found, key=lambda f: -f.area))
        ordered = sorted(distinct, key=lambda f: f.box[0] + f.box[2])
        if not self.describes or not ordered:
            return tuple(ordered)
        # dlib aligns its chip inside the mesh's box: MediaPipe found the face, dlib reads it.
        described = describe_faces(rgb, [f.box for f in ordered])  # (n, 128)
        return tuple(Face(mesh=f.mesh, mirrored=f.mirrored, descriptor=d)
                     for f, d in zip(ordered, described, strict=True))  # fmt: skip

    def _detect(self, small: RGBArray) -> list[tuple[float, float, float, float]]:
        """Face boxes (left, top, right, bottom) in ``small``'s pixels, best first."""
        h, w = small.shape[:2]
        result = _process(self._detector, small)
        boxes = []
        for det in (result.detections or [])[: self.config.max_faces]:
            b = det.location_data.relative_bounding_box
            boxes.append((b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h))
        return boxes

    def _whole_mesh(self, small: RGBArray) -> list[Face]:
        """Meshes found by the face mesh's own (short-range) detector on the whole photo."""
        result = _process(self._many, small)
        return [_face(lms, 0.0, 0.0, small.shape[1], small.shape[0]) for lms in
                (result.multi_face_landmarks or [])]  # fmt: skip

    def _mesh_in_box(self, rgb: RGBArray, box: tuple[float, ...]) -> Face | None:
        """The mesh of the face in ``box`` (original pixels), from a padded square crop."""
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0) * self.config.crop_scale
        if side < 8:
            return None
        left = round((x0 + x1) / 2 - side / 2)
        top = round((y0 + y1) / 2 - side / 2)
        n = round(side)
        crop = _padded_crop(rgb, left, top, n)
        shown, _ = _scaled(crop, self.config.mesh_side)  # landmarks come back normalised
        result = _process(self._one, shown)
        if not result.multi_face_landmarks:
            return None
        # Normalised crop coordinates -> original pixels; z shares x's scale (the crop side).
        face = _face(result.multi_face_landmarks[0], float(left), float(top), n, n)
        if not self.config.mirror:
            return face
        flipped = _process(self._one, np.ascontiguousarray(shown[:, ::-1]))
        if not flipped.multi_face_landmarks:
            return face
        # The mirrored crop's x runs right to left: place it at left + n, width -n.
        back = _face(flipped.multi_face_landmarks[0], float(left + n), float(top), -n, n)
        return Face(mesh=face.mesh, mirrored=back.markers[_MIRRORED])


def _process(graph: Any, rgb: RGBArray) -> Any:
    """``graph.process(rgb)`` without protobuf's deprecation warning from MediaPipe's code."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="SymbolDatabase.GetPrototype", category=UserWarning
        )
        return graph.process(rgb)


@contextmanager
def _native_stderr_hidden() -> Iterator[None]:
    """Silence file descriptor 2 (C++ logging of TFLite/absl) while MediaPipe starts up.

    MediaPipe's native code writes INFO/WARNING lines straight to fd 2 on its first runs,
    which no Python setting reaches; errors still surface as Python exceptions.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture, IDEs: no real fd
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _face(landmarks: Any, left: float, top: float, width: float, height: float) -> Face:
    """A ``Face`` from MediaPipe's normalised landmarks of an image placed at (left, top)."""
    pts = np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float64)  # (478, 3)
    mesh = np.column_stack((left + pts[:, 0] * width, top + pts[:, 1] * height, pts[:, 2] * width))
    return Face(mesh=mesh)


def _scaled(rgb: RGBArray, side: int) -> tuple[RGBArray, float]:
    """``rgb`` shrunk so its longest side is at most ``side`` (never enlarged), and the factor."""
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale == 1.0:
        return rgb, 1.0
    from PIL import Image

    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(
        Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    )
    # The exact factor per axis differs by rounding (< 1 px); use the width's.
    return np.ascontiguousarray(small), size[0] / w


def _padded_crop(rgb: RGBArray, left: int, top: int, n: int) -> RGBArray:
    """The ``n`` x ``n`` square at (left, top), grey where it leaves the photo."""
    h, w = rgb.shape[:2]
    out = np.full((n, n, 3), _GREY, dtype=np.uint8)
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + n, w), min(top + n, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = rgb[sy0:sy1, sx0:sx1]
    return out


def _distinct(faces: Iterable[Face]) -> list[Face]:
    """Faces minus duplicates: a face mostly inside an earlier one is the same face (or a
    spurious small mesh on it, as the whole-photo mesh finds on some ORL photos)."""
    kept: list[Face] = []
    for f in faces:
        if all(_overlap(f.box, g.box) <= 0.5 for g in kept):
            kept.append(f)
    return kept


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection of two boxes over the smaller one's area (1 when one holds the other)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 1.0


def extract_photo(
    path: str | os.PathLike[str],
    extractor: FaceMeshExtractor,
    *,
    choice: FaceChoice | None = None,
    photo_id: str | None = None,
) -> Extraction:
    """Markers of one photo; a photo without a usable face comes back with ``error`` set.

    Raises DataError only for files that cannot be read as images.
    """
    photo = read_photo_reduced(path, min_side=extractor.config.decode_side)
    faces = extractor.faces(photo.rgb)
    if photo.factor != 1:  # decoded smaller: back to the full photo's pixels
        faces = tuple(f.scaled(photo.factor) for f in faces)
    chosen, error = (choice or FaceChoice()).pick(faces)
    return Extraction(
        source=str(path),
        photo_id=photo_id or Path(path).stem,
        width=photo.width,
        height=photo.height,
        faces=faces,
        chosen=chosen,
        error=error,
    )


def extract_or_flag(
    path: str | os.PathLike[str],
    extractor: FaceMeshExtractor,
    *,
    choice: FaceChoice | None = None,
    photo_id: str,
) -> Extraction:
    """``extract_photo``, with an unreadable file returned as a failed row, not raised."""
    try:
        return extract_photo(path, extractor, choice=choice, photo_id=photo_id)
    except DataError as err:  # one bad file must not stop a batch of hundreds
        return Extraction(source=str(path), photo_id=photo_id,
                          error=str(err).removeprefix(f"{path}: "))  # fmt: skip


def extract_photos(
    paths: Sequence[str | os.PathLike[str]],
    extractor: FaceMeshExtractor,
    *,
    choice: FaceChoice | None = None,
) -> Iterator[Extraction]:
    """``extract_photo`` over many files, in order; unreadable files become failed rows too."""
    for path, pid in zip(paths, photo_ids(paths), strict=True):
        yield extract_or_flag(path, extractor, choice=choice, photo_id=pid)


def photo_ids(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """A unique id per file: the first of stem, name, ``folder/stem``, ``folder/name`` or the
    path that is unique for all (ORL's ``s1/1``; Yale's ``subject01.happy``)."""
    ps = [Path(p) for p in paths]
    candidates = (
        [p.stem for p in ps],
        [p.name for p in ps],
        [f"{p.parent.name}/{p.stem}" for p in ps],
        [f"{p.parent.name}/{p.name}" for p in ps],
    )
    for ids in candidates:
        if len(set(ids)) == len(ids):
            return ids
    return [str(p) for p in ps]


_NUMBERED = re.compile(r"^(.+?)-\d+(?:-.*)?$")


def person_of(path: str | os.PathLike[str], rule: str, photo_id: str) -> str:
    """The person a photo shows, by ``rule``: the photo itself, its name prefix, its folder.

    ``prefix`` drops a trailing ``-<number>...`` (``obama-5-240p`` -> ``obama``).
    """
    if rule == "photo":
        return photo_id
    if rule == "folder":
        return Path(path).parent.name or photo_id
    if rule == "prefix":
        m = _NUMBERED.match(Path(path).stem)
        return m.group(1) if m else Path(path).stem
    raise ConfigError(f"--person: expected one of {', '.join(PERSON_RULES)}, found {rule!r}")


def to_table(extractions: Sequence[Extraction], *, person: str = "photo") -> PhotoTable:
    """The tidy ``PhotoTable``: failed photos keep a row with missing markers.

    Markers the mesh placed outside the frame are flagged ``derived`` (extrapolated, not seen).
    Each chosen face's quality values and (when computed) descriptor go beside its markers,
    so a photo is read once.
    """
    n = len(extractions)
    coords = np.full((n, N_MARKERS, 2), np.nan)
    derived = np.zeros((n, N_MARKERS), dtype=bool)
    quality = np.full((n, len(QUALITY_COLUMNS)), np.nan)
    descriptors = np.full((n, DESCRIPTOR_SIZE), np.nan, dtype=np.float32)
    for k, ex in enumerate(extractions):
        coords[k] = ex.markers
        derived[k] = ex.outside
        if ex.face is not None:
            quality[k] = quality_row(ex.face)
            if ex.face.descriptor is not None:
                descriptors[k] = ex.face.descriptor
    described = any(e.descriptor is not None for e in extractions)
    return PhotoTable(
        photo_id=np.array([e.photo_id for e in extractions], dtype=str),
        person=np.array([person_of(e.source, person, e.photo_id) for e in extractions], dtype=str),
        role=np.array([""] * n, dtype=str),
        coords=coords,
        derived=derived,
        source="ffmatch landmarks extract",
        descriptors=descriptors if described else None,
        quality=quality,
    )


def quality_row(face: Face) -> FloatArray:
    """The face's values in ``QUALITY_COLUMNS`` order (box, eye distance, pose, mouth)."""
    q = face.quality
    return np.array([*face.box, q.eye_distance, q.yaw, q.pitch, q.mouth_gap, q.mouth_lift,
                     float(q.mouth_open), float(q.smiling)])  # fmt: skip


__all__ = [
    "MESH_INDICES",
    "ExtractConfig",
    "Extraction",
    "Face",
    "FaceChoice",
    "FaceMeshExtractor",
    "extract_or_flag",
    "extract_photo",
    "extract_photos",
    "person_of",
    "photo_ids",
    "quality_row",
    "to_table",
]
