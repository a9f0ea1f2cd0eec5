"""Controls run on the same folds as the networks: what a score means on this data.

The paper's data is tiny and its raw coordinates carry where the face sits in the frame and
how large it is, which say nothing about identity but can still separate the classes. Three
controls put the networks' numbers in context:

- ``procrustes``: the plain Procrustes shape distance of the two photos' 14 markers (no
  training): what shape alone gives;
- ``logistic_raw``: logistic regression on the raw coordinates (the networks' input);
- ``logistic_position_size``: the same classifier given only each photo's marker centroid and
  size: no shape at all. If it scores like the networks, their score is not about faces.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.geometry import position_features, procrustes_distance
from ffmatch.core.metrics import Metrics, Summary, binary_metrics, summarize_values
from ffmatch.core.scaling import fit_min_max
from ffmatch.core.splits import Fold, folds_per_repeat
from ffmatch.core.table import FloatArray, PairTable
from ffmatch.paper.representations import pair_features

logger = logging.getLogger(__name__)


def _json_float(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


@dataclass(frozen=True, kw_only=True, slots=True)
class ControlResult:
    """A control's scores on the folds: AUC per fold, summarised, and pooled per repeat."""

    name: str
    fold_auc: tuple[float, ...]  # per fold, NaN where a fold holds one class
    auc: Summary  # of fold_auc over folds (interval over repeats when there are several)
    pooled_auc: float  # AUC of every out-of-fold score of a repeat together, mean over repeats
    folds: tuple[Metrics, ...] = ()  # thresholded metrics, for controls that predict classes


def _auc(y: npt.NDArray[np.int64], score: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score  # here: sklearn takes ~2 s to import

    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else math.nan


def control_from_scores(
    name: str,
    y: npt.ArrayLike,
    folds: Sequence[Fold],
    scores: Sequence[FloatArray],
    metrics: Sequence[Metrics] = (),
) -> ControlResult:
    """Build a ``ControlResult`` from each fold's validation scores (higher = match)."""
    labels = np.asarray(y).astype(np.int64)
    fold_auc = tuple(_auc(labels[f.val], np.asarray(s)) for f, s in zip(folds, scores, strict=True))
    pooled: list[float] = []
    by_fold = {(f.repeat, f.index): np.asarray(s) for f, s in zip(folds, scores, strict=True)}
    for repeat_folds in folds_per_repeat(folds).values():
        rows = np.concatenate([f.val for f in repeat_folds])
        vals = np.concatenate([by_fold[(f.repeat, f.index)] for f in repeat_folds])
        pooled.append(_auc(labels[rows], vals))
    return ControlResult(
        name=name,
        fold_auc=fold_auc,
        auc=summarize_values(fold_auc, repeat=[f.repeat for f in folds], bounds=(0.0, 1.0)),
        pooled_auc=float(np.nanmean(pooled)) if not np.isnan(pooled).all() else math.nan,
        folds=tuple(metrics),
    )


def procrustes_disparity(pairs: PairTable) -> FloatArray:
    """(m,) Procrustes disparity of each pair's two marker sets (markers present in both).

    Translation, scale, rotation and reflection removed (``scipy.spatial.procrustes``'s
    disparity), so 0 means the same shape; it needs at least 3 markers present in both photos.
    """
    cx, cy = pairs.photos.coords[pairs.first], pairs.photos.coords[pairs.second]
    both = (~(np.isnan(cx).any(axis=2) | np.isnan(cy).any(axis=2))).sum(axis=1)  # (m,)
    if (both < 3).any():
        k = int(np.flatnonzero(both < 3)[0])
        raise DataError(
            f"{pairs.photos.source}: pair {str(pairs.name[k])!r}: expected at least 3 "
            f"markers present in both photos for a Procrustes distance, found {both[k]}"
        )
    return procrustes_distance(cx, cy, reflection=True)


def procrustes_control(pairs: PairTable, folds: Sequence[Fold]) -> ControlResult:
    """Shape distance alone (score = -disparity) scored on each fold's validation pairs."""
    score = -procrustes_disparity(pairs)
    return control_from_scores("procrustes", pairs.label, folds, [score[f.val] for f in folds])


def position_size_features(pairs: PairTable) -> FloatArray:
    """(m, 6): per photo, marker centroid (x, y) and size (RMS distance to the centroid).

    Columns: first photo's cx, cy, size, then the second's (``core.geometry``'s
    ``position_features``): where the face sits in the frame and how large it is.
    """
    coords = pairs.photos.coords  # (n, 14, 2)
    return position_features(coords[pairs.first], coords[pairs.second])


Proba = Callable[[npt.ArrayLike], FloatArray]


def fit_logistic(
    x: npt.ArrayLike, y: npt.ArrayLike, *, fill_missing: bool = False, max_iter: int = 1000
) -> Proba:
    """Min-Max, then logistic regression (C=1), fitted on training rows ``x`` (n, k) only.

    The control classifier of the paper's run and of the benchmark: the returned function
    gives P(match) for any rows. ``fill_missing`` fills NaN with training means first.
    """
    from sklearn.linear_model import LogisticRegression  # here: sklearn takes ~2 s to import

    scaling = fit_min_max(x, fill_missing=fill_missing)
    clf = LogisticRegression(max_iter=max_iter).fit(scaling(x), np.asarray(y))

    def proba(rows: npt.ArrayLike) -> FloatArray:
        return np.asarray(clf.predict_proba(scaling(rows))[:, 1], dtype=np.float64)

    return proba


def _logistic_fold_proba(
    X: FloatArray, y: npt.NDArray[np.int64], folds: Sequence[Fold]
) -> list[FloatArray]:
    """Out-of-fold P(match) of Min-Max + logistic regression, fitted on each training part."""
    out: list[FloatArray] = []
    for f in folds:
        if len(np.unique(y[f.train])) < 2:
            raise DataError(
                f"folds: fold {f.index} of repeat {f.repeat}: the training part holds one "
                "label only; logistic regression needs both"
            )
        out.append(fit_logistic(X[f.train], y[f.train])(X[f.val]))
    return out


def logistic_cv(X: npt.ArrayLike, y: npt.ArrayLike, folds: Sequence[Fold]) -> list[Metrics]:
    """Per-fold metrics of ``fit_logistic``: Min-Max, then logistic regression (C=1).

    The scaler is fitted on each training part whatever made the folds: the leak the paper
    protocol reproduces for the networks is not copied into this control.
    """
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y).astype(np.int64)
    probas = _logistic_fold_proba(x, labels, folds)
    return [binary_metrics(labels[f.val], p) for f, p in zip(folds, probas, strict=True)]


def logistic_control(
    name: str,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    folds: Sequence[Fold],
) -> ControlResult:
    """``logistic_cv`` as a ``ControlResult`` (fold and pooled AUC beside the fold metrics)."""
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y).astype(np.int64)
    probas = _logistic_fold_proba(x, labels, folds)
    metrics = [binary_metrics(labels[f.val], p) for f, p in zip(folds, probas, strict=True)]
    return control_from_scores(name, labels, folds, probas, metrics)


def run_controls(
    pairs: PairTable,
    folds: Sequence[Fold],
    *,
    x_raw: npt.ArrayLike | None = None,
) -> dict[str, ControlResult]:
    """All three controls on ``folds``: Procrustes, logistic on raw coordinates, on position.

    ``x_raw`` defaults to the pairs' 56 raw coordinates (the ``ffms`` representation).
    """
    x = pair_features(pairs, "ffms") if x_raw is None else np.asarray(x_raw, dtype=np.float64)
    return {
        "procrustes": procrustes_control(pairs, folds),
        "logistic_raw": logistic_control("logistic_raw", x, pairs.label, folds),
        "logistic_position_size": logistic_control(
            "logistic_position_size",
            position_size_features(pairs),
            pairs.label,
            folds,
        ),
    }
