"""Judge a batch of photo pairs from a pairs CSV.

A batch extracts each photo once however many pairs it is in (``extract_pair_photos``,
optionally in several processes), then gives every pair its verdict (``judge_pairs``,
``ffmatch.matcher.verdict``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ffmatch.matcher.pairs_file import PairsFile, write_pairs
from ffmatch.matcher.photos.extract import ExtractConfig, Extraction, FaceChoice
from ffmatch.matcher.photos.parallel import extract_many
from ffmatch.matcher.verdict import (
    Evidence,
    FaceEvidence,
    FusionModel,
    Measurement,
    PairVerdict,
    compare_faces,
)

BATCH_COLUMNS = ("probability", "verdict", "evidence", "differ_most", "agree_best", "error")
"""Columns ``match --pairs`` adds: P(same) to 4 places, same/inconclusive/different, the
evidence the verdict used (geometry, appearance or both), the measurements that differ most
and agree best (in words, codes in brackets), and why a pair was not judged."""


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
        return ["", "", "", "", "", result.error]

    def listed(items: Sequence[Measurement]) -> str:
        return "; ".join(f"{m.words} [{m.code}]" for m in items)

    return [f"{v.probability:.4f}", v.verdict, v.evidence, listed(v.differing(top)),
            listed(v.agreeing(top)), ""]  # fmt: skip


def write_verdicts(
    pairs: PairsFile, results: Sequence[PairResult], path: str | os.PathLike[str], *, top: int = 3
) -> None:
    """The pairs CSV with ``BATCH_COLUMNS`` added, atomically."""
    write_pairs(pairs, BATCH_COLUMNS, [batch_cells(r, top) for r in results], path)
