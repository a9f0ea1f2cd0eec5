"""How search and grouping turn two faces into P(same person), a verdict and reasons.

A ``Scorer`` scores one query face against many stored faces in one vectorised call. The
archive takes any scorer (tests use tiny ones); ``default_scorer`` is the calibrated verdict
model of ``ffmatch.matcher.verdict`` that ``ffmatch match`` and the web page use, so all of
them agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ffmatch.archive.neighbours import descriptor_distance2
from ffmatch.archive.store import FaceBank
from ffmatch.core.table import FloatArray
from ffmatch.matcher.verdict import Verdict

if TYPE_CHECKING:
    from ffmatch.matcher.verdict import Evidence, FaceEvidence, FaceEvidenceArray, FusionModel

__all__ = ["Explanation", "FusedScorer", "Scorer", "Verdict", "default_scorer"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    """The verdict on one shortlisted pair, the top evidence in words, and what it weighed."""

    verdict: Verdict
    reasons: tuple[str, ...]
    evidence: str  # what the verdict used: geometry, appearance or both (or a test scorer's)


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

    def explain(self, query: FaceBank, candidate: FaceBank, probability: float) -> Explanation:
        """The verdict on one shortlisted pair (one face each), the top evidence in words, and
        the evidence it used (a face without a descriptor, or with markers that cannot be a
        face's, leaves one kind out)."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class FusedScorer:
    """The calibrated verdicts of ``ffmatch.matcher.verdict`` (the same model ``ffmatch match``
    and the web page's Compare use): ``score_against`` ranks, ``compare_faces`` explains.

    The shortlist shows ``score_against``'s probability; its verdict comes from
    ``compare_faces``, which also weighs the pair's doubts (a small face, implausible
    markers, poses or expressions too different) and may widen it to "inconclusive".
    """

    model: FusionModel
    evidence: Evidence

    @property
    def name(self) -> str:
        return self.evidence

    @property
    def same_threshold(self) -> float:
        return float(self.model.fusions[self.evidence].same)

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        from ffmatch.matcher.verdict import score_against

        if len(query) != 1:
            raise ValueError(f"against: expected one query face, found {len(query)}")
        if self.evidence == "appearance" and not np.isnan(query.descriptor[0, 0]):
            # P from the descriptor distance alone: the same logistic score_against applies,
            # without the geometry it would compute and discard (80 s for 1M faces here).
            from ffmatch.matcher.verdict import fused_probability

            q = query.descriptor[0]
            a = np.sqrt(descriptor_distance2(q, gallery.descriptor, gallery.descriptor_norm2))
            p = fused_probability(self.model, np.zeros(len(a)), a, "appearance")
            return np.nan_to_num(p, nan=0.0)
        p = score_against(
            self.model, face_evidence(query, 0), evidence_array(gallery), evidence=self.evidence
        )
        return np.nan_to_num(p, nan=0.0)

    def explain(self, query: FaceBank, candidate: FaceBank, probability: float) -> Explanation:
        from ffmatch.matcher.verdict import compare_faces

        x, y = face_evidence(query, 0), face_evidence(candidate, 0)
        # A face stored without a descriptor (no dlib when indexed) is explained by its markers.
        both = x.descriptor is not None and y.descriptor is not None
        pv = compare_faces(self.model, x, y, evidence=self.evidence if both else "geometry")
        words = [*pv.reasons, *pv.notes]
        if not math.isnan(pv.descriptor_distance):
            words.append(
                f"appearance: descriptor distance {pv.descriptor_distance:.2f} "
                f"(P = {pv.appearance_probability:.2f} from appearance alone)"
            )
        words += [
            f"{m.words} [{m.code}] agrees ({m.value_x:.3f} vs {m.value_y:.3f}, {m.score:.1f}x the "
            "typical gap)"
            for m in pv.agreeing(2)
        ]
        words += [
            f"{m.words} [{m.code}] differs ({m.value_x:.3f} vs {m.value_y:.3f}, {m.score:.1f}x the "
            "typical gap)"
            for m in pv.differing(2)
        ]
        return Explanation(verdict=pv.verdict, reasons=tuple(words), evidence=pv.evidence)


def face_evidence(bank: FaceBank, i: int) -> FaceEvidence:
    """Face ``i`` of ``bank`` as the verdicts read it."""
    from ffmatch.matcher.verdict import FaceEvidence

    d = bank.descriptor[i]
    return FaceEvidence(
        markers=bank.markers[i],
        descriptor=None if np.isnan(d[0]) else d,
        eye_distance=float(bank.eye_distance[i]),
        yaw=float(bank.yaw[i]),
        pitch=float(bank.pitch[i]),
        mouth_open=bool(bank.mouth_open[i]),
        smiling=bool(bank.smiling[i]),
    )


def evidence_array(bank: FaceBank) -> FaceEvidenceArray:
    """The bank's faces as the verdicts' stacked evidence (no copies of the big arrays)."""
    from ffmatch.matcher.verdict import FaceEvidenceArray

    return FaceEvidenceArray(
        markers=bank.markers,
        descriptors=bank.descriptor,
        eye_distance=bank.eye_distance,
        yaw=bank.yaw,
        pitch=bank.pitch,
        mouth_open=bank.mouth_open,
        smiling=bank.smiling,
    )


def default_evidence() -> str:
    """ "both" where dlib is installed, else "geometry" (as ``ffmatch match`` chooses)."""
    from ffmatch.matcher.verdict import default_evidence as verdicts_default

    return verdicts_default()


def default_scorer(evidence: str | None = None) -> Scorer:
    """The scorer for ``--evidence`` (geometry, appearance or both): the calibrated verdicts
    of ``ffmatch.matcher.verdict``, as ``ffmatch match`` and the web page use them."""
    from ffmatch.matcher.verdict import check_evidence, load_fusion_model

    kind = check_evidence(evidence or default_evidence())
    return FusedScorer(model=load_fusion_model(), evidence=kind)
