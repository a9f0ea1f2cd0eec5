"""Verification numbers of scores: ROC points, equal error rate, accept rate at a false-accept rate.

Scores are "higher = same person". The false-accept rate (FAR) is the share of impostor
pairs accepted, the true-accept rate (TAR) the share of genuine pairs accepted. Also the
score-to-probability calibration (Platt scaling: a one-feature logistic regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.table import FloatArray


def _check(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    y = np.asarray(labels).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or y.shape != s.shape:
        raise DataError(f"scores: expected labels and scores of one length, found {y.shape}, "
                        f"{s.shape}")  # fmt: skip
    pos = y == 1
    if pos.all() or not pos.any():
        raise DataError("scores: expected both genuine (1) and impostor (0) pairs")
    return pos, s


def roc_points(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(far, tar, threshold) at every distinct score, accepting ``score >= threshold``.

    Starts at (0, 0, +inf) and ends at (1, 1, min score); ties move together.
    """
    pos, s = _check(labels, scores)
    order = np.argsort(-s, kind="stable")
    s_sorted, p_sorted = s[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s) - 1]  # end of each tie run
    tp = np.cumsum(p_sorted)[last]
    fp = (last + 1) - tp
    far = np.r_[0.0, fp / (~pos).sum()]
    tar = np.r_[0.0, tp / pos.sum()]
    thr = np.r_[np.inf, s_sorted[last]]
    return far, tar, thr


def equal_error_rate(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[float, float]:
    """(EER, threshold): where false accepts equal false rejects, linearly interpolated."""
    far, tar, thr = roc_points(labels, scores)
    frr = 1.0 - tar
    k = int(np.flatnonzero(far >= frr)[0])  # first point where FAR catches up with FRR
    if k == 0:
        return 0.0, float(thr[1])
    gap0, gap1 = frr[k - 1] - far[k - 1], far[k] - frr[k]  # both >= 0
    w = gap0 / (gap0 + gap1) if gap0 + gap1 > 0 else 0.0
    eer = float(far[k - 1] + w * (far[k] - far[k - 1]))
    t_hi = thr[k - 1] if math.isfinite(thr[k - 1]) else thr[k]
    return eer, float(t_hi + w * (thr[k] - t_hi))


def accept_rate_at_far(labels: npt.ArrayLike, scores: npt.ArrayLike, far: float = 0.01) -> float:
    """The share of genuine pairs accepted at the strictest threshold with FAR <= ``far``."""
    fa, tar, _ = roc_points(labels, scores)
    return float(tar[fa <= far].max())


@dataclass(frozen=True, kw_only=True, slots=True)
class Calibration:
    """P(same) = sigmoid(slope * score + intercept)."""

    slope: float
    intercept: float

    def probability(self, scores: npt.ArrayLike) -> FloatArray:
        """(m,) probabilities of scores (m,)."""
        z = self.slope * np.asarray(scores, dtype=np.float64) + self.intercept
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))  # sigmoid without overflow


def fit_calibration(labels: npt.ArrayLike, scores: npt.ArrayLike) -> Calibration:
    """Platt scaling fitted on (labels, scores), with almost no regularisation."""
    from sklearn.linear_model import LogisticRegression

    pos, s = _check(labels, scores)
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(s[:, None], pos.astype(np.int64))
    return Calibration(slope=float(fitted.coef_[0, 0]), intercept=float(fitted.intercept_[0]))
