"""Typed, validated tables of photos and of photo pairs: what every loader returns.

Loaders validate once, at the edge, and build these; everything downstream trusts them.
Coordinates are pixels, origin top-left, markers in ``markers.WIDE_ORDER``; a missing
marker is NaN in both coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.markers import N_MARKERS, WIDE_ORDER

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

ROLES = ("A", "B", "C")
MAX_COORD = 1e8  # pixels: no photo is larger, and squares of 1e308 overflow to infinity

DESCRIPTOR_SIZE = 128
"""Numbers in one face's appearance descriptor (dlib's ResNet; ``matcher.photos.appearance``)."""
QUALITY_COLUMNS: tuple[str, ...] = (
    "face_left", "face_top", "face_right", "face_bottom", "eye_distance", "yaw", "pitch",
    "mouth_gap", "mouth_lift", "mouth_open", "smiling",
)  # fmt: skip
"""Per-face values of photos read by ``landmarks extract`` (``matcher.photos.quality``): face
box and eye distance in pixels, yaw and pitch in degrees, mouth gap and lift in eye
distances, the two expression flags as 1/0."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PhotoTable:
    """One row per photo: id, person (or set) id, role, 14 (x, y) markers.

    Attributes
    ----------
    photo_id : (n,) str, unique.
    person : (n,) str, the person (MUCT) or set of three (the paper) a photo belongs to.
    role : (n,) str, ``"A"``, ``"B"``, ``"C"`` in the paper's sets, ``""`` where unknown.
    coords : (n, 14, 2) float64, markers in ``WIDE_ORDER``; NaN where missing.
    derived : (n, 14) bool, True where a marker was derived from others (MUCT proxies).
    source : where the rows came from, for error messages and provenance.
    descriptors : (n, 128) float32 appearance descriptors, NaN rows where none; or None
        (tables of hand-placed markers have none).
    quality : (n, len(QUALITY_COLUMNS)) float64 per-face values, NaN where none; or None.
    """

    photo_id: StrArray
    person: StrArray
    role: StrArray
    coords: FloatArray
    derived: BoolArray
    source: str = "<memory>"
    descriptors: npt.NDArray[np.float32] | None = None
    quality: FloatArray | None = None

    def __post_init__(self) -> None:
        n = len(self.photo_id)
        if self.coords.shape != (n, N_MARKERS, 2):
            raise DataError(
                f"{self.source}: expected coordinates of shape ({n}, {N_MARKERS}, 2), "
                f"found {self.coords.shape}"
            )
        for name in ("person", "role"):
            if len(getattr(self, name)) != n:
                raise DataError(f"{self.source}: column {name} has a different length")
        if self.derived.shape != (n, N_MARKERS):
            raise DataError(f"{self.source}: derived flags must have shape ({n}, {N_MARKERS})")
        ids, counts = np.unique(self.photo_id, return_counts=True)
        if (counts > 1).any():
            dup = str(ids[counts > 1][0])
            row = int(np.flatnonzero(self.photo_id == dup)[1])
            raise DataError(
                f"{self.source}: row {row + 1}, column photo_id: duplicate photo id {dup!r}; "
                "each photo must appear once"
            )
        finite_or_nan = np.isfinite(self.coords) | np.isnan(self.coords)
        if not finite_or_nan.all():
            raise DataError(f"{self.source}: coordinates must be finite numbers or missing")
        for name, width in (("descriptors", DESCRIPTOR_SIZE), ("quality", len(QUALITY_COLUMNS))):
            block = getattr(self, name)
            if block is not None and block.shape != (n, width):
                raise DataError(
                    f"{self.source}: expected {name} of shape ({n}, {width}), found {block.shape}"
                )
        self._check_plausible()

    def _check_plausible(self) -> None:
        """Coordinates within ``MAX_COORD`` pixels (row and column named)."""
        with np.errstate(invalid="ignore"):
            big = np.argwhere(np.abs(self.coords) > MAX_COORD)
        if len(big):
            i, m, axis = (int(v) for v in big[0])
            raise DataError(
                f"{self.source}: photo {str(self.photo_id[i])!r}, column "
                f"{WIDE_ORDER[m]}_{'xy'[axis]}: expected a pixel coordinate within "
                f"+-{MAX_COORD:.0f}, found {float(self.coords[i, m, axis])!r}"
            )

    def __len__(self) -> int:
        return len(self.photo_id)

    @property
    def missing(self) -> BoolArray:
        """(n, 14) True where a marker is missing."""
        return np.asarray(np.isnan(self.coords).any(axis=2))

    def subset(self, rows: npt.ArrayLike) -> PhotoTable:
        """The photos at ``rows`` (indices or a boolean mask), in that order."""
        idx = np.asarray(rows)
        return PhotoTable(
            photo_id=self.photo_id[idx],
            person=self.person[idx],
            role=self.role[idx],
            coords=self.coords[idx],
            derived=self.derived[idx],
            source=self.source,
            descriptors=None if self.descriptors is None else self.descriptors[idx],
            quality=None if self.quality is None else self.quality[idx],
        )

    def index_of(self, photo_ids: npt.ArrayLike) -> IntArray:
        """Row index of each photo id; DataError naming the first unknown id."""
        lookup = {str(p): i for i, p in enumerate(self.photo_id)}
        out = np.empty(len(np.atleast_1d(photo_ids)), dtype=np.int64)
        for k, p in enumerate(np.atleast_1d(photo_ids)):
            if str(p) not in lookup:
                raise DataError(f"{self.source}: unknown photo id {str(p)!r}")
            out[k] = lookup[str(p)]
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class PairTable:
    """Pairs of photos with a match label (1 same person, 0 not), over one ``PhotoTable``.

    ``group`` keeps pairs that must stay on one side of a split together: the set of three in
    the paper's data; for person pairs, the person of the first photo (``persons`` gives both).
    """

    photos: PhotoTable
    first: IntArray
    second: IntArray
    label: IntArray
    group: StrArray
    name: StrArray = field(default_factory=lambda: np.array([], dtype=str))

    def __post_init__(self) -> None:
        m = len(self.first)
        if len(self.second) != m or len(self.label) != m or len(self.group) != m:
            raise DataError(f"{self.photos.source}: pair columns differ in length")
        bad = ~np.isin(self.label, (0, 1))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{self.photos.source}: row {row + 1}, column Outcome: expected a label 0 or 1, "
                f"found {self.label[row]!r}"
            )
        if len(self.name) == 0 and m:
            ids = np.asarray(self.photos.photo_id, dtype=str)
            names = np.char.add(np.char.add(ids[self.first], " & "), ids[self.second])
            object.__setattr__(self, "name", names)

    def __len__(self) -> int:
        return len(self.first)

    @property
    def persons(self) -> tuple[StrArray, StrArray]:
        """The person (or set) of each pair's first and second photo."""
        return self.photos.person[self.first], self.photos.person[self.second]

    def subset(self, rows: npt.ArrayLike) -> PairTable:
        """The pairs at ``rows``, over the same photos."""
        idx = np.asarray(rows)
        return PairTable(
            photos=self.photos,
            first=self.first[idx],
            second=self.second[idx],
            label=self.label[idx],
            group=self.group[idx],
            name=self.name[idx],
        )


def check_faces(photos: PhotoTable) -> PhotoTable:
    """``photos``, or DataError naming a photo whose markers all sit at one point.

    Such a photo has no shape: aligning it divides by zero. Readers of users' files call
    this; in-memory tables (tests, placeholders) may hold such rows.
    """
    coords = photos.coords
    present = np.asarray(~np.isnan(coords).any(axis=2))  # (n, 14)
    lo = np.where(present[..., None], coords, np.inf).min(axis=1)  # (n, 2)
    hi = np.where(present[..., None], coords, -np.inf).max(axis=1)
    flat = (present.sum(axis=1) >= 2) & (hi - lo == 0).all(axis=1)
    if flat.any():
        i = int(np.flatnonzero(flat)[0])
        raise DataError(
            f"{photos.source}: photo {str(photos.photo_id[i])!r}: all its markers are at one "
            f"point {tuple(float(v) for v in lo[i])}; expected a face's 14 markers"
        )
    return photos
