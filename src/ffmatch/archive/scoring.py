"""How search and grouping turn two faces into P(same person), a verdict and reasons.

A ``Scorer`` scores one query face against many stored faces in one vectorised call. The
archive takes any scorer (tests use tiny ones); ``default_scorer`` picks the one the rest of
ffmatch uses, so the web page, ``ffmatch search`` and ``ffmatch group`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from ffmatch.archive.store import FaceBank
from ffmatch.core.errors import ConfigError
from ffmatch.core.table import FloatArray
from ffmatch.matcher.model import MatchModel

if TYPE_CHECKING:
    from ffmatch.matcher.verdict import Evidence, FaceEvidenceArray, FusionModel

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
    from ffmatch.matcher.verdict import load_fusion_model

    return VerdictScorer(model=load_fusion_model(), name=kind)


@dataclass(frozen=True, kw_only=True, slots=True)
class VerdictScorer:
    """The calibrated fusion of ``ffmatch.matcher.verdict`` (``name``: appearance or both):
    probabilities from ``score_against``, verdicts by that evidence's bands, reasons from
    ``compare_faces`` (doubts first, then the telling distances in words)."""

    model: FusionModel
    name: str = "both"

    @property
    def same_threshold(self) -> float:
        return float(self.model.fusions[self.name].same)

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        from ffmatch.matcher.verdict import score_against

        if len(query) != 1:
            raise ValueError(f"against: expected one query face, found {len(query)}")
        if not len(gallery):
            return np.zeros(0)
        p = score_against(self.model, _evidence(query).row(0), _evidence(gallery),
                          evidence=self._evidence_kind)  # fmt: skip
        return np.nan_to_num(p, nan=0.0)

    def verdict(self, probability: float) -> Verdict:
        from ffmatch.matcher.verdict import decide

        return decide(self.model, probability, (), evidence=self._evidence_kind)

    def explain(
        self, query: FaceBank, candidate: FaceBank, probability: float
    ) -> tuple[Verdict, tuple[str, ...]]:
        """The pair's verdict with its doubts (``compare_faces``), the doubts and notes, then
        the two best agreeing and two most differing distances in words."""
        from ffmatch.matcher.verdict import compare_faces

        r = compare_faces(self.model, _evidence(query).row(0), _evidence(candidate).row(0),
                          evidence=self._evidence_kind)  # fmt: skip
        told = [f"{m.words} [{m.code}] agrees ({m.score:.1f}x the typical gap)"
                for m in r.agreeing(2)]  # fmt: skip
        told += [f"{m.words} [{m.code}] differs ({m.score:.1f}x the typical gap)"
                 for m in r.differing(2)]  # fmt: skip
        return r.verdict, (*r.reasons, *r.notes, *told)

    @property
    def _evidence_kind(self) -> Evidence:
        from ffmatch.matcher.verdict import check_evidence

        return check_evidence(self.name)


def _evidence(bank: FaceBank) -> FaceEvidenceArray:
    """The archive's faces as the verdict's evidence."""
    from ffmatch.matcher.verdict import FaceEvidenceArray

    return FaceEvidenceArray(
        markers=bank.markers,
        descriptors=bank.descriptor.astype(np.float32),
        eye_distance=bank.eye_distance,
        yaw=np.nan_to_num(bank.yaw),
        pitch=np.nan_to_num(bank.pitch),
        mouth_open=bank.mouth_open,
        smiling=bank.smiling,
    )
