"""Binary classification metrics per fold, their summaries over folds and repeats, baselines.

Label 1 is a match. The definitions are scikit-learn's (tests check them against it);
the counting is done in NumPy, because the genetic algorithm scores a thousand networks per
generation. Precision, recall and F1 are those of the match class and are 0, not
undefined, when no match is predicted (``zero_division=0``), as the paper computes them for
its Table 5. Balanced accuracy and ROC-AUC are NaN when a fold holds one class only (the
paper protocol's row folds often do); summaries skip them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError

SCALAR_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "balanced_accuracy",
    "roc_auc",
)
"""The per-fold numbers ``summarize`` reports, in report order."""


def _json_float(v: float) -> float | None:
    """NaN becomes None (JSON null); everything else a plain float."""
    return None if math.isnan(v) else float(v)


@dataclass(frozen=True, kw_only=True, slots=True)
class Metrics:
    """Scores of one set of predictions; ``confusion`` is ``((tn, fp), (fn, tp))``."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    balanced_accuracy: float  # NaN when y_true holds one class only
    roc_auc: float  # NaN when y_true holds one class only
    confusion: tuple[tuple[int, int], tuple[int, int]]
    n: int


def binary_metrics(y_true: npt.ArrayLike, proba: npt.ArrayLike, threshold: float = 0.5) -> Metrics:
    """Metrics of match probabilities ``proba`` (n,) against labels ``y_true`` (n,).

    A row is predicted a match when ``proba > threshold``: a tie at 0.5 goes to "no match",
    as the argmax over the network's two outputs does.
    """
    y = np.asarray(y_true).astype(np.int64)
    p = np.asarray(proba, dtype=np.float64)
    if y.ndim != 1 or p.shape != y.shape:
        raise DataError(
            f"metrics: expected labels and probabilities of the same length, found shapes "
            f"{y.shape} and {p.shape}"
        )
    if len(y) == 0:
        raise DataError("metrics: no rows to score")
    pred = p > threshold
    pos = y == 1
    # counts in NumPy: sklearn's scorers validate their input on every call (about 1-2 ms
    # each), which cost more than training when the GA scores 1000 networks a generation;
    # tests check every number against sklearn.metrics
    tp = int(np.count_nonzero(pred & pos))
    fp = int(np.count_nonzero(pred & ~pos))
    fn = int(np.count_nonzero(~pred & pos))
    tn = len(y) - tp - fp - fn
    both = 0 < tp + fn < len(y)
    return Metrics(
        accuracy=(tp + tn) / len(y),
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        # the mean of both classes' recalls: undefined (NaN) when y_true lacks a class
        balanced_accuracy=(tp / (tp + fn) + tn / (tn + fp)) / 2 if both else math.nan,
        roc_auc=_roc_auc(pos, p) if both else math.nan,
        confusion=((tn, fp), (fn, tp)),
        n=len(y),
    )


def _roc_auc(pos: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC-AUC as the Mann-Whitney statistic: P(score of a match > a non-match), ties half.

    Counted in NumPy rather than with ``scipy.stats.rankdata`` (a few times its cost on the
    GA's folds of a few rows, some 900 networks a search). The statistic is a multiple of 1/2
    either way, so exact, and the AUC the same number.
    """
    if np.isnan(score).any():
        return math.nan  # as rankdata propagates NaN
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos * n_neg <= _PAIRWISE_MAX:
        a, b = score[pos][:, None], score[~pos][None, :]
        u = np.count_nonzero(a > b) + 0.5 * np.count_nonzero(a == b)
    else:  # average ranks for ties, O(n log n)
        _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
        ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
        u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


_PAIRWISE_MAX = 4096  # match x non-match pairs compared directly; more are ranked


def metrics_from_confusion(tn: int, fp: int, fn: int, tp: int) -> Metrics:
    """Metrics of a printed confusion matrix (e.g. the paper's Tables 5 and 6); AUC is NaN."""
    y = np.repeat([0, 0, 1, 1], [tn, fp, fn, tp])
    pred = np.repeat([0.0, 1.0, 0.0, 1.0], [tn, fp, fn, tp])
    m = binary_metrics(y, pred)
    return Metrics(**{**asdict(m), "roc_auc": math.nan})


def majority_baseline(y_train: npt.ArrayLike, y_val: npt.ArrayLike) -> Metrics:
    """Metrics of always predicting the training rows' majority label (ties: no match)."""
    counts = np.bincount(np.asarray(y_train).astype(np.int64), minlength=2)
    majority = 1 if counts[1] > counts[0] else 0
    y = np.asarray(y_val).astype(np.int64)
    # a constant score: AUC is 0.5 wherever both classes are present
    return binary_metrics(y, np.full(len(y), float(majority)))


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    """Mean and sd of one metric over folds, and a 95% interval (see ``summarize``)."""

    mean: float
    sd: float  # sample sd (ddof=1) over folds; NaN with one fold
    ci_low: float
    ci_high: float
    n: int  # folds with a defined value (ROC-AUC is undefined on one-class folds)
    ci_over: Literal["repeats", "folds"] = "folds"


@functools.lru_cache(maxsize=256)
def _t_quantile(df: int) -> float:
    """97.5% quantile of Student's t with ``df`` degrees of freedom (cached: scipy is slow)."""
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def _t_interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Two-sided 95% Student-t interval for the mean of ``values``; NaN with fewer than 2."""
    if len(values) < 2:
        return math.nan, math.nan
    m = float(values.mean())
    half = _t_quantile(len(values) - 1) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return m - half, m + half


def summarize_values(
    values: npt.ArrayLike,
    *,
    repeat: npt.ArrayLike | None = None,
    bounds: tuple[float, float] | None = None,
) -> Summary:
    """Summary of per-fold values (NaN ignored); ``repeat`` (n,) gives each fold's repeat.

    With more than one repeat, the interval is the t-interval over the repeat means: it
    measures how much the estimate moves with the random split. With one repeat it is the
    t-interval over folds, which is too narrow (folds share training rows): a rough guide.
    ``bounds`` clips the interval to a metric's range (e.g. (0, 1) for accuracy).
    """
    v = np.asarray(values, dtype=np.float64)
    reps = np.zeros(len(v), dtype=np.int64) if repeat is None else np.asarray(repeat)
    ok = ~np.isnan(v)
    v, reps = v[ok], reps[ok]
    if len(v) == 0:
        return Summary(mean=math.nan, sd=math.nan, ci_low=math.nan, ci_high=math.nan, n=0)
    sd = float(v.std(ddof=1)) if len(v) > 1 else math.nan
    ids = np.unique(reps)
    over: Literal["repeats", "folds"] = "repeats" if len(ids) > 1 else "folds"
    lo, hi = _t_interval(np.array([v[reps == r].mean() for r in ids]) if len(ids) > 1 else v)
    if bounds is not None and not math.isnan(lo):
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return Summary(mean=float(v.mean()), sd=sd, ci_low=lo, ci_high=hi, n=len(v), ci_over=over)


def summarize(
    metrics: Sequence[Metrics], *, repeat: Sequence[int] | None = None
) -> dict[str, Summary]:
    """``Summary`` of each of ``SCALAR_METRICS`` over folds (see ``summarize_values``).

    Intervals are clipped to [0, 1], the range of every one of them.
    """
    return {
        name: summarize_values([getattr(m, name) for m in metrics], repeat=repeat, bounds=(0, 1))
        for name in SCALAR_METRICS
    }


def pooled_confusion(metrics: Sequence[Metrics]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The folds' confusion matrices added up: ``((tn, fp), (fn, tp))``."""
    total = np.zeros((2, 2), dtype=np.int64)
    for m in metrics:
        total += np.asarray(m.confusion, dtype=np.int64)
    return ((int(total[0, 0]), int(total[0, 1])), (int(total[1, 0]), int(total[1, 1])))
