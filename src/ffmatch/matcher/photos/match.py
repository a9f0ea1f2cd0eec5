"""Score pairs of photos with a matching model: one pair with its evidence, or a batch.

The model is anything with ``probability(coords_x, coords_y)``, ``threshold`` and
``evidence(cx, cy)`` (``ffmatch.matcher.model.MatchModel``). A batch extracts each photo
once however many pairs it is in (``extract_pair_photos``, optionally in several
processes), then scores every pair in one vectorised call (``score_pairs``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import check_row_lengths, format_number, read_csv, write_csv
from ffmatch.core.table import FloatArray
from ffmatch.matcher.photos.extract import (
    ExtractConfig,
    Extraction,
    FaceChoice,
    FaceMeshExtractor,
    extract_photos,
)
from ffmatch.matcher.photos.parallel import extract_many

PAIR_COLUMNS = ("file_x", "file_y")
SCORE_COLUMNS = ("probability", "match", "error")


class EvidenceLike(Protocol):
    """One feature's values in both photos and how unusual their gap is (see MatchModel)."""

    @property
    def name(self) -> str: ...
    @property
    def value_x(self) -> float: ...
    @property
    def value_y(self) -> float: ...
    @property
    def difference(self) -> float: ...
    @property
    def typical(self) -> float: ...
    @property
    def score(self) -> float: ...


class Matcher(Protocol):
    """What scoring needs of a model: ``ffmatch.matcher.model.MatchModel`` provides it."""

    @property
    def threshold(self) -> float: ...
    def probability(self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> FloatArray: ...
    def evidence(
        self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike
    ) -> Sequence[EvidenceLike]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class PhotoMatch:
    """Two photos compared: P(same person), the decision, and the features behind it."""

    x: Extraction
    y: Extraction
    probability: float
    threshold: float
    evidence: tuple[EvidenceLike, ...]  # most differing first

    @property
    def match(self) -> bool:
        return self.probability > self.threshold

    def agreeing(self, n: int = 5) -> list[EvidenceLike]:
        """The ``n`` features that agree best (smallest gap relative to what is typical)."""
        return sorted(self.evidence, key=lambda e: e.score)[:n]

    def differing(self, n: int = 5) -> list[EvidenceLike]:
        """The ``n`` features that differ most, relative to what the model learned."""
        return list(self.evidence[:n])

    def to_dict(self, n: int = 5) -> dict[str, Any]:
        """JSON-ready summary: files, probability, decision, top agreeing/differing features."""

        def rows(items: list[EvidenceLike]) -> list[dict[str, Any]]:
            return [
                {"feature": e.name, "value_x": e.value_x, "value_y": e.value_y,
                 "difference": e.difference, "typical": e.typical, "score": e.score}
                for e in items
            ]  # fmt: skip

        return {
            "file_x": self.x.source,
            "file_y": self.y.source,
            "probability": self.probability,
            "threshold": self.threshold,
            "match": self.match,
            "differing": rows(self.differing(n)),
            "agreeing": rows(self.agreeing(n)),
            "markers_x": self.x.markers.tolist(),
            "markers_y": self.y.markers.tolist(),
        }


def compare(x: Extraction, y: Extraction, model: Matcher) -> PhotoMatch:
    """Score two extracted photos; DataError naming the photo if either has no usable face."""
    cx, cy = x.require(), y.require()
    p = float(model.probability(cx[None], cy[None])[0])
    return PhotoMatch(
        x=x, y=y, probability=p, threshold=float(model.threshold),
        evidence=tuple(model.evidence(cx, cy)),
    )  # fmt: skip


def match_photos(
    path_x: str | os.PathLike[str],
    path_y: str | os.PathLike[str],
    model: Matcher,
    extractor: FaceMeshExtractor,
    *,
    choice: FaceChoice | None = None,
) -> PhotoMatch:
    """Extract both photos and compare them; DataError (one line) if either fails."""
    x, y = extract_photos([path_x, path_y], extractor, choice=choice)
    for e in (x, y):
        if not e.ok:
            raise DataError(f"{e.source}: {e.error}")
    return compare(x, y, model)


@dataclass(frozen=True, kw_only=True, slots=True)
class PairsFile:
    """A CSV of pairs: its header, rows (all columns kept) and where ``file_x``/``file_y`` are."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numbers: tuple[int, ...]  # each row's line number, for messages

    def files(self, column: str) -> list[str]:
        k = self.header.index(column)
        return [row[k].strip() for row in self.rows]

    def distinct_files(self) -> list[str]:
        """Every file named in ``file_x`` or ``file_y``, once, in first-seen order."""
        return list(dict.fromkeys([*self.files("file_x"), *self.files("file_y")]))


def read_pairs(path: str | os.PathLike[str]) -> PairsFile:
    """Read a pairs CSV with columns ``file_x``, ``file_y`` (others kept as they are)."""
    source = str(path)
    header, rows, numbers = read_csv(path)
    missing = [c for c in PAIR_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{source}: expected columns file_x, file_y (photo file names), found "
            f"{', '.join(header) or 'none'}"
        )
    clash = [c for c in SCORE_COLUMNS if c in header]
    if clash:
        raise DataError(
            f"{source}: column {clash[0]!r} would be overwritten by the scores; rename it"
        )
    check_row_lengths(rows, numbers, width=len(header), source=source)
    out = PairsFile(
        source=source,
        header=tuple(header),
        rows=tuple(tuple(r) for r in rows),
        numbers=tuple(numbers),
    )
    for col in PAIR_COLUMNS:
        for name, n in zip(out.files(col), numbers, strict=True):
            if not name:
                raise DataError(f"{source}: row {n}, column {col}: expected a file name, found "
                                "an empty cell")  # fmt: skip
    return out


@dataclass(frozen=True, kw_only=True, slots=True)
class PairScore:
    """One scored pair of the batch: NaN probability and ``error`` set when a photo failed."""

    probability: float
    match: bool | None
    error: str


def extract_pair_photos(
    pairs: PairsFile,
    photos: str | os.PathLike[str],
    *,
    config: ExtractConfig | None = None,
    choice: FaceChoice | None = None,
    jobs: int = 1,
    on_photo: Callable[[int, int], None] | None = None,
) -> dict[str, Extraction]:
    """Each distinct photo of ``pairs`` (file names under folder ``photos``), extracted once,
    in ``jobs`` processes; keyed by the name as the pairs file gives it."""
    folder = Path(photos)
    names = pairs.distinct_files()
    extracted: dict[str, Extraction] = {}
    found = extract_many([folder / n for n in names], config=config, choice=choice, jobs=jobs)
    for k, (name, ex) in enumerate(zip(names, found, strict=True)):
        extracted[name] = ex
        if on_photo is not None:
            on_photo(k + 1, len(names))
    return extracted


def score_pairs(
    pairs: PairsFile, extracted: Mapping[str, Extraction], model: Matcher
) -> list[PairScore]:
    """Score every pair from its photos' extractions, all pairs in one vectorised call."""
    xs, ys = pairs.files("file_x"), pairs.files("file_y")
    ok = np.array([extracted[a].ok and extracted[b].ok for a, b in zip(xs, ys, strict=True)])
    proba = np.full(len(xs), np.nan)
    if ok.any():
        idx = np.flatnonzero(ok)
        cx = np.stack([extracted[xs[i]].markers for i in idx])  # (m, 14, 2)
        cy = np.stack([extracted[ys[i]].markers for i in idx])
        proba[idx] = model.probability(cx, cy)
    threshold = float(model.threshold)
    out = []
    for i, (a, b) in enumerate(zip(xs, ys, strict=True)):
        if ok[i]:
            out.append(PairScore(probability=float(proba[i]), match=bool(proba[i] > threshold),
                                 error=""))  # fmt: skip
        else:
            which, name = ("file_x", a) if not extracted[a].ok else ("file_y", b)
            out.append(PairScore(probability=float("nan"), match=None,
                                 error=f"{which} {name}: {extracted[name].error}"))  # fmt: skip
    return out


def write_scores(
    pairs: PairsFile, scores: Sequence[PairScore], path: str | os.PathLike[str]
) -> None:
    """The pairs CSV with ``probability``, ``match`` (1/0, empty on error) and ``error`` added."""
    header = [*pairs.header, *SCORE_COLUMNS]
    rows = [
        [*row, format_number(s.probability), "" if s.match is None else str(int(s.match)), s.error]
        for row, s in zip(pairs.rows, scores, strict=True)
    ]
    write_csv(path, header, rows)
