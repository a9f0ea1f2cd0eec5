"""How search and grouping turn two faces into P(same person), a verdict and reasons.

A ``Scorer`` scores one query face against many stored faces in one vectorised call. The
archive takes any scorer (tests use tiny ones); ``default_scorer`` picks the one the rest of
ffmatch uses, so the web page, ``ffmatch search`` and ``ffmatch group`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from ffmatch.archive.store import FaceBank
from ffmatch.core.errors import ConfigError
from ffmatch.core.table import FloatArray
from ffmatch.matcher.model import MatchModel

Verdict = Literal["same", "inconclusive", "different"]
EVIDENCE_KINDS = ("geometry", "appearance", "both")


class Scorer(Protocol):
    """P(same person) of one query face against a bank of faces, and what it means."""

    @property
    def name(self) -> str: ...

    @property
    def same_threshold(self) -> float:
        """Probability from which a pair is in the "same person" band (grouping cuts here)."""
        ...

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        """(len(gallery),) probabilities of the ONE face in ``query`` against each face."""
        ...

    def explain(
        self, query: FaceBank, candidate: FaceBank, probability: float
    ) -> tuple[Verdict, tuple[str, ...]]:
        """The verdict on one shortlisted pair (one face each) and the top evidence in words."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class GeometryScorer:
    """The 14 markers alone, through a ``MatchModel`` (the shipped photo model by default).

    Its single threshold splits the verdict in two; ``margin`` around it is "inconclusive".
    """

    model: MatchModel
    margin: float = 0.1  # probabilities within this of the threshold are inconclusive
    name: str = "geometry"

    @property
    def same_threshold(self) -> float:
        return min(1.0, float(self.model.threshold) + self.margin)

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        if len(query) != 1:
            raise ValueError(f"against: expected one query face, found {len(query)}")
        if not len(gallery):
            return np.zeros(0)
        q = np.broadcast_to(query.markers[0], gallery.markers.shape)
        p = self.model.probability(q, gallery.markers)
        return np.nan_to_num(np.asarray(p, dtype=np.float64), nan=0.0)

    def verdict(self, probability: float) -> Verdict:
        t = float(self.model.threshold)
        if probability >= t + self.margin:
            return "same"
        return "different" if probability < t - self.margin else "inconclusive"

    def explain(
        self, query: FaceBank, candidate: FaceBank, probability: float
    ) -> tuple[Verdict, tuple[str, ...]]:
        return self.verdict(probability), self.reasons(query, candidate)

    def reasons(self, query: FaceBank, candidate: FaceBank) -> tuple[str, ...]:
        """The two best agreeing and two most differing distances, in words."""
        ev = self.model.evidence(query.markers[0], candidate.markers[0])
        if not ev:
            return ()
        agree = sorted(ev, key=lambda e: e.score)[:2]
        differ = ev[:2]
        words = [
            f"{e.name} agrees ({e.value_x:.3f} vs {e.value_y:.3f}, {e.score:.1f}x the typical gap)"
            for e in agree
        ]
        words += [
            f"{e.name} differs ({e.value_x:.3f} vs {e.value_y:.3f}, {e.score:.1f}x the typical gap)"
            for e in differ
        ]
        return tuple(words)


def fusion_available() -> bool:
    """Whether this ffmatch has the calibrated fused verdicts (``ffmatch.matcher.verdict``)."""
    import importlib.util

    return importlib.util.find_spec("ffmatch.matcher.verdict") is not None


def default_evidence() -> str:
    """ "both" where the fused verdicts exist, else "geometry" (the markers alone)."""
    return "both" if fusion_available() else "geometry"


def default_scorer(evidence: str | None = None) -> Scorer:
    """The scorer for ``--evidence``: geometry (markers), appearance or both (fused)."""
    kind = evidence or default_evidence()
    if kind not in EVIDENCE_KINDS:
        raise ConfigError(
            f"--evidence: expected one of {', '.join(EVIDENCE_KINDS)}, found {kind!r}"
        )
    if kind == "geometry":
        from ffmatch.matcher.photos.models import photo_model

        return GeometryScorer(model=photo_model())
    if not fusion_available():
        raise ConfigError(
            f"--evidence {kind}: this ffmatch has no appearance model "
            "(ffmatch.matcher.verdict); use --evidence geometry"
        )
    raise ConfigError(f"--evidence {kind}: not wired yet")
