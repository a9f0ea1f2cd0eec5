"""Min-Max scaling (the paper's Formula 1), fitted on training rows and applied to any rows.

One home for the scaler that the estimator, the controls and the benchmark's classifiers use
(``core.splits.Scaling`` computes the same numbers for the folds). Fitting is scikit-learn's
``MinMaxScaler`` (a constant column keeps scale 1, so nothing divides by zero); the fitted
numbers live in a frozen dataclass that can be stored, compared and applied without it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64Array = npt.NDArray[np.float64]
F32Array = npt.NDArray[np.float32]


@dataclass(frozen=True, kw_only=True, slots=True)
class MinMax:
    """A fitted Min-Max transform ``x' = x * scale + min`` (scikit-learn's ``min_``/``scale_``).

    ``fill`` (when set) replaces missing values (NaN) column by column before scaling.
    """

    min: F64Array  # (d,)
    scale: F64Array  # (d,)
    fill: F64Array | None = None  # (d,) training means, or None: NaN stays NaN

    def __call__(self, x: npt.ArrayLike) -> F64Array:
        """Scale rows ``x`` (n, d) as the training rows were."""
        arr = np.asarray(x, dtype=np.float64)
        if self.fill is not None:
            arr = np.where(np.isnan(arr), self.fill, arr)
        return np.asarray(arr * self.scale + self.min)

    def transform(self, x: npt.ArrayLike) -> F32Array:
        """Scale rows ``x`` (n, d) as ``__call__`` does, as float32 for the network trainer."""
        return np.asarray(self(x), np.float32)


def fit_min_max(x: npt.ArrayLike, *, fill_missing: bool = False) -> MinMax:
    """Fit Min-Max on training rows ``x`` (n, d); constant columns map to 0.

    With ``fill_missing`` a missing value is first replaced by its column's training mean
    (0 for a column with no value at all), as the benchmark's classifiers need.
    """
    from sklearn.preprocessing import MinMaxScaler  # here: importing this module stays light

    arr = np.asarray(x, dtype=np.float64)
    fill = None
    if fill_missing:
        with warnings.catch_warnings():  # a column without any value is filled with 0
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmean(arr, axis=0)
        fill = np.where(np.isnan(fill), 0.0, fill)
        arr = np.where(np.isnan(arr), fill, arr)
    fitted = MinMaxScaler().fit(arr)
    return MinMax(
        min=np.asarray(fitted.min_, np.float64),
        scale=np.asarray(fitted.scale_, np.float64),
        fill=fill,
    )
