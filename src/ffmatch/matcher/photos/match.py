"""Judge pairs of photos: one pair with its evidence, or a batch from a pairs CSV.

A batch extracts each photo once however many pairs it is in (``extract_pair_photos``,
optionally in several processes), then gives every pair its verdict (``judge_pairs``,
``ffmatch.matcher.verdict``). ``match_photos`` scores one pair with a markers-only
``MatchModel`` (``probability``, ``threshold``, ``evidence``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.table import FloatArray
from ffmatch.matcher.pairs_file import PairsFile, write_pairs
from ffmatch.matcher.photos.extract import (
    ExtractConfig,
    Extraction,
    FaceChoice,
    FaceMeshExtractor,
    extract_photos,
)
from ffmatch.matcher.photos.parallel import extract_many
from ffmatch.matcher.verdict import (
    Evidence,
    FaceEvidence,
    FusionModel,
    Measurement,
    PairVerdict,
    compare_faces,
)


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


BATCH_COLUMNS = ("probability", "verdict", "differ_most", "agree_best", "error")
"""Columns ``match --pairs`` adds: P(same) to 4 places, same/inconclusive/different, the
measurements that differ most and agree best (in words, codes in brackets), and why a pair
was not judged."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PairResult:
    """One judged pair of a batch: the verdict and the two photos with the faces compared,
    or ``error`` saying which photo failed and why."""

    verdict: PairVerdict | None
    x: Extraction | None
    y: Extraction | None
    error: str = ""


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
    names = pairs.distinct_photos()
    extracted: dict[str, Extraction] = {}
    found = extract_many([folder / n for n in names], config=config, choice=choice, jobs=jobs)
    for k, (name, ex) in enumerate(zip(names, found, strict=True)):
        extracted[name] = ex
        if on_photo is not None:
            on_photo(k + 1, len(names))
    return extracted


def with_face(ex: Extraction, number: int | None) -> Extraction:
    """``ex`` with face ``number`` (1 = leftmost) chosen; None keeps its own choice."""
    if number is None or not ex.faces:
        return ex
    if number > len(ex.faces):
        return replace(ex, chosen=None, error=f"face {number}: only {len(ex.faces)} found")
    return replace(ex, chosen=number - 1, error="")


def judge_pairs(
    pairs: PairsFile,
    extracted: Mapping[str, Extraction],
    model: FusionModel,
    *,
    evidence: Evidence,
) -> list[PairResult]:
    """The verdict on every pair, the face of each photo chosen by ``face_x``/``face_y``."""
    out = []
    sides = zip(pairs.photos("photo_x"), pairs.photos("photo_y"), pairs.faces("face_x"),
                pairs.faces("face_y"), strict=True)  # fmt: skip
    for a, b, fa, fb in sides:
        x, y = with_face(extracted[a], fa), with_face(extracted[b], fb)
        failed = [(col, name, e) for col, name, e in (("photo_x", a, x), ("photo_y", b, y))
                  if not e.ok]  # fmt: skip
        if failed:
            col, name, e = failed[0]
            out.append(PairResult(verdict=None, x=x, y=y, error=f"{col} {name}: {e.error}"))
            continue
        verdict = compare_faces(model, FaceEvidence.from_extraction(x),
                                FaceEvidence.from_extraction(y), evidence=evidence)  # fmt: skip
        out.append(PairResult(verdict=verdict, x=x, y=y))
    return out


def batch_cells(result: PairResult, top: int = 3) -> list[str]:
    """The ``BATCH_COLUMNS`` cells of one pair."""
    v = result.verdict
    if v is None:
        return ["", "", "", "", result.error]

    def listed(items: Sequence[Measurement]) -> str:
        return "; ".join(f"{m.words} [{m.code}]" for m in items)

    return [f"{v.probability:.4f}", v.verdict, listed(v.differing(top)), listed(v.agreeing(top)),
            ""]  # fmt: skip


def write_verdicts(
    pairs: PairsFile, results: Sequence[PairResult], path: str | os.PathLike[str], *, top: int = 3
) -> None:
    """The pairs CSV with ``BATCH_COLUMNS`` added, atomically."""
    write_pairs(pairs, BATCH_COLUMNS, [batch_cells(r, top) for r in results], path)
