"""Cross-validation folds, holdout splits and per-fold Min-Max scaling, by protocol.

A protocol is a splitter object (scikit-learn's style: ``split(X, y, groups)``), chosen once
with ``make_splitter`` and passed down; config files name it. Two protocols:

- ``"paper"``: the paper's own procedure, kept for reproduction. Folds are a shuffled
  ``KFold`` over rows and Min-Max is fitted on all rows. Both leak: the workbook lists each
  set of three as A&B, B&C, C&A, so every photo sits in two rows and a split of rows puts
  the same photo on both sides; and the scaler sees the validation rows.
- ``"grouped"`` (the default): folds keep each group (a set of three, or a person) on one
  side, stratified by label where the data allow, and the scaler is fitted on each fold's
  training rows only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast, get_args

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError, DataError

# scikit-learn is imported where a splitter or scaler is made: it takes about half a second,
# and every command imports this module (for the protocol names) before it knows its work.

logger = logging.getLogger(__name__)

Protocol = Literal["paper", "grouped"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)

IntArray = npt.NDArray[np.int64]
F32Array = npt.NDArray[np.float32]
F64Array = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True, slots=True)
class Fold:
    """One cross-validation fold: row indices of its training and validation parts."""

    repeat: int  # which repetition of the whole CV (0-based)
    index: int  # fold number within the repetition (0-based)
    train: IntArray  # (n_train,) sorted row indices
    val: IntArray  # (n_val,) sorted row indices


def check_protocol(protocol: str) -> Protocol:
    """Return ``protocol`` if it is a known protocol name, else raise ConfigError."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    return cast(Protocol, protocol)


def _check_labels(y: npt.ArrayLike, groups: npt.ArrayLike | None) -> tuple[IntArray, Any]:
    """Validate labels (0/1, both present) and groups (one per row); return them as arrays."""
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DataError(f"labels: expected a 1-d array, found shape {labels.shape}")
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"labels: row {row + 1}: expected a label 0 or 1, found {labels[row].item()!r}"
        )
    present = np.unique(labels)
    if len(present) < 2:
        only = int(present[0]) if len(present) else "none"
        raise DataError(
            f"labels: only label {only} found; cross-validation needs both matches (1) and "
            "non-matches (0)"
        )
    if groups is None:
        return labels.astype(np.int64), None
    group_arr = np.asarray(groups)
    if group_arr.shape != labels.shape:
        raise DataError(
            f"groups: expected one group per row ({len(labels)}), found shape {group_arr.shape}"
        )
    return labels.astype(np.int64), group_arr


def _repeat_states(seed: int, repeats: int) -> list[int]:
    """One independent 32-bit random state per repeat, from ``SeedSequence(seed).spawn``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(repeats)]


def _grouped_splitter(
    y: IntArray, groups: Any, n_splits: int, state: int
) -> list[npt.NDArray[np.intp]]:
    """Validation indices of group folds: stratified unless that is impossible.

    Stratification is impossible when the rarer label has fewer rows than there are folds
    (some fold must then miss it; scikit-learn warns) or when the stratifier leaves a fold
    empty; then shuffled ``GroupKFold`` (sizes balanced, labels ignored) is used instead.
    """
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    minority = int(np.bincount(y, minlength=2).min())
    if minority >= n_splits:
        strat = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=state)
        vals = [v for _, v in strat.split(np.zeros(len(y)), y, groups)]
        if all(len(v) for v in vals):
            return vals
        logger.info("stratified group folds left a fold empty; using GroupKFold")
    else:
        logger.info(
            "only %d rows of the rarer label for %d folds: group folds are not stratified",
            minority,
            n_splits,
        )
    plain = GroupKFold(n_splits=n_splits, shuffle=True, random_state=state)
    return [v for _, v in plain.split(np.zeros(len(y)), y, groups)]


def _as_folds(vals: Sequence[npt.NDArray[np.intp]], n: int, repeat: int) -> list[Fold]:
    folds = []
    for k, v in enumerate(vals):
        mask = np.zeros(n, dtype=bool)
        mask[v] = True
        folds.append(
            Fold(
                repeat=repeat,
                index=k,
                train=np.flatnonzero(~mask).astype(np.int64),
                val=np.flatnonzero(mask).astype(np.int64),
            )
        )
    return folds


@dataclass(frozen=True, kw_only=True, slots=True)
class _Splitter:
    """What both protocols share: ``repeats`` x ``n_splits``-fold cross-validation, each
    repeat's shuffle drawn from ``SeedSequence(seed).spawn(repeats)``, and a holdout."""

    n_splits: int = 10  # folds per repeat (grouped: at most one per group)
    repeats: int = 1
    seed: int = 0

    name: ClassVar[str]
    keeps_groups: ClassVar[bool]  # no group on both sides of a fold or the holdout
    scaler_sees_all_rows: ClassVar[bool]  # Min-Max fitted on every row (the paper's leak)

    def __post_init__(self) -> None:
        if self.n_splits < 2:
            raise ConfigError(f"n_splits: expected at least 2 folds, found {self.n_splits}")
        if self.repeats < 1:
            raise ConfigError(f"repeats: expected at least 1, found {self.repeats}")

    def folds_per_repeat(self, groups: npt.ArrayLike) -> int:
        """Folds each repeat actually makes of rows with these ``groups``."""
        return self.n_splits

    def get_n_splits(
        self, X: object = None, y: object = None, groups: npt.ArrayLike | None = None
    ) -> int:
        """Folds over all repeats (scikit-learn's splitter interface)."""
        n = self.n_splits if groups is None else self.folds_per_repeat(groups)
        return n * self.repeats

    def split(
        self, X: npt.ArrayLike, y: npt.ArrayLike, groups: npt.ArrayLike | None = None
    ) -> Iterator[tuple[IntArray, IntArray]]:
        """``(train, val)`` row indices of every fold (scikit-learn's splitter interface)."""
        n = len(np.asarray(y))
        for fold in self.folds(y, np.arange(n) if groups is None else groups):
            yield fold.train, fold.val

    def folds(self, y: npt.ArrayLike, groups: npt.ArrayLike) -> list[Fold]:
        """Every fold of every repeat, in order."""
        labels, group_arr = _check_labels(y, groups)
        n_splits = self._check_size(labels, group_arr)
        folds: list[Fold] = []
        for r, state in enumerate(_repeat_states(self.seed, self.repeats)):
            folds += _as_folds(
                self._val_indices(labels, group_arr, n_splits, state), len(labels), r
            )
        return folds

    def holdout(
        self, y: npt.ArrayLike, groups: npt.ArrayLike, *, test_size: float = 0.25
    ) -> tuple[IntArray, IntArray]:
        """Sorted (train, test) row indices for a final check on data kept out of training."""
        if not 0.0 < test_size < 1.0:
            raise ConfigError(f"test_size: expected a fraction between 0 and 1, found {test_size}")
        labels, group_arr = _check_labels(y, groups)
        try:
            train, test = self._holdout(labels, group_arr, test_size)
        except ValueError as err:  # scikit-learn: an empty train or test part
            if isinstance(err, DataError | ConfigError):
                raise
            raise ConfigError(
                f"eval.holdout = {test_size}: leaves no rows to train on or none to check "
                f"with ({len(labels)} rows); expected a share such as 0.25"
            ) from None
        return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)

    def cv_rows(self, n: int, train: IntArray) -> IntArray:
        """The rows cross-validation runs on, given the holdout's training rows."""
        return np.sort(train)

    def scaler_rows(self, n: int, train: IntArray) -> IntArray:
        """The rows the Min-Max scaler of a split with training rows ``train`` is fitted on."""
        return np.arange(n) if self.scaler_sees_all_rows else np.asarray(train)

    def _check_size(self, labels: IntArray, groups: Any) -> int:
        raise NotImplementedError

    def _val_indices(
        self, labels: IntArray, groups: Any, n_splits: int, state: int
    ) -> list[npt.NDArray[np.intp]]:
        raise NotImplementedError

    def _holdout(
        self, labels: IntArray, groups: Any, test_size: float
    ) -> tuple[npt.ArrayLike, npt.ArrayLike]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, slots=True)
class PaperSplitter(_Splitter):
    """The paper's own procedure, kept for reproduction: shuffled ``KFold`` over all rows,
    a holdout stratified over rows, the scaler fitted on every row (see the module doc)."""

    name: ClassVar[str] = "paper"
    keeps_groups: ClassVar[bool] = False
    scaler_sees_all_rows: ClassVar[bool] = True

    def cv_rows(self, n: int, train: IntArray) -> IntArray:
        """All rows: the paper cross-validated over every row, holdout included."""
        return np.arange(n)

    def _check_size(self, labels: IntArray, groups: Any) -> int:
        if len(labels) < self.n_splits:
            raise DataError(
                f"labels: {len(labels)} rows are fewer than the {self.n_splits} folds asked for"
            )
        return self.n_splits

    def _val_indices(
        self, labels: IntArray, groups: Any, n_splits: int, state: int
    ) -> list[npt.NDArray[np.intp]]:
        from sklearn.model_selection import KFold

        kf = KFold(n_splits=n_splits, shuffle=True, random_state=state)
        return [v for _, v in kf.split(np.zeros(len(labels)))]

    def _holdout(
        self, labels: IntArray, groups: Any, test_size: float
    ) -> tuple[npt.ArrayLike, npt.ArrayLike]:
        n = len(labels)
        n_test = int(np.ceil(test_size * n))
        if n_test < 2 or n - n_test < 2:
            raise DataError(f"labels: {n} rows are too few for a {test_size:.0%} holdout")
        counts = np.bincount(labels, minlength=2)
        if counts.min() < 2:
            rare = int(counts.argmin())
            raise DataError(
                f"labels: a stratified holdout needs at least 2 rows of each label, found "
                f"{counts.min()} of label {rare}"
            )
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(
            np.arange(n), test_size=test_size, stratify=labels, random_state=self.seed
        )
        return train, test


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupedSplitter(_Splitter):
    """Whole groups on one side: ``StratifiedGroupKFold`` with ``min(n_splits, n_groups)``
    folds (plain shuffled ``GroupKFold`` where stratifying is impossible), a holdout of whole
    groups, the scaler fitted on each training part only."""

    name: ClassVar[str] = "grouped"
    keeps_groups: ClassVar[bool] = True
    scaler_sees_all_rows: ClassVar[bool] = False

    def folds_per_repeat(self, groups: npt.ArrayLike) -> int:
        """``n_splits``, or the number of groups when there are fewer."""
        return min(self.n_splits, len(np.unique(np.asarray(groups))))

    def _check_size(self, labels: IntArray, groups: Any) -> int:
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise DataError(
                f"groups: only {n_groups} group found; grouped cross-validation needs at "
                "least 2 groups"
            )
        if n_groups < self.n_splits:
            logger.info(
                "%d groups: using %d folds instead of %d", n_groups, n_groups, self.n_splits
            )
        return min(self.n_splits, n_groups)

    def _val_indices(
        self, labels: IntArray, groups: Any, n_splits: int, state: int
    ) -> list[npt.NDArray[np.intp]]:
        return _grouped_splitter(labels, groups, n_splits, state)

    def _holdout(
        self, labels: IntArray, groups: Any, test_size: float
    ) -> tuple[npt.ArrayLike, npt.ArrayLike]:
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise DataError(
                f"groups: only {n_groups} group found; a grouped holdout needs at least 2"
            )
        from sklearn.model_selection import GroupShuffleSplit

        gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=self.seed)
        train, test = next(gss.split(np.arange(len(labels)), labels, groups))
        return train, test


Splitter = PaperSplitter | GroupedSplitter
"""A protocol, chosen once (``make_splitter``) and passed down as an object."""


def make_splitter(
    protocol: str, *, n_splits: int = 10, repeats: int = 1, seed: int = 0
) -> Splitter:
    """The splitter of protocol ``protocol`` ("paper" or "grouped"); ConfigError otherwise."""
    if check_protocol(protocol) == "paper":
        return PaperSplitter(n_splits=n_splits, repeats=repeats, seed=seed)
    return GroupedSplitter(n_splits=n_splits, repeats=repeats, seed=seed)


def make_folds(
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    protocol: Protocol = "grouped",
    n_splits: int = 10,
    repeats: int = 1,
    seed: int,
) -> list[Fold]:
    """Folds for ``repeats`` repetitions of ``n_splits``-fold cross-validation under
    ``protocol`` (``make_splitter(...).folds``): ``paper`` splits rows and leaks (see the
    module doc); ``grouped`` keeps every group on one side."""
    splitter = make_splitter(protocol, n_splits=n_splits, repeats=repeats, seed=seed)
    return splitter.folds(y, groups)


def leave_one_group_out_folds(y: npt.ArrayLike, groups: npt.ArrayLike) -> list[Fold]:
    """One fold per group, holding out that group (in sorted group order); no randomness."""
    _, group_arr = _check_labels(y, groups)
    folds: list[Fold] = []
    for k, g in enumerate(np.unique(group_arr)):
        mask = group_arr == g
        folds.append(
            Fold(
                repeat=0,
                index=k,
                train=np.flatnonzero(~mask).astype(np.int64),
                val=np.flatnonzero(mask).astype(np.int64),
            )
        )
    if len(folds) < 2:
        raise DataError("groups: leave-one-group-out needs at least 2 groups, found 1")
    return folds


def holdout_split(
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    protocol: Protocol = "grouped",
    test_size: float = 0.25,
    seed: int,
) -> tuple[IntArray, IntArray]:
    """Sorted (train, test) row indices for a final check on data kept out of training.

    ``paper``: stratified ``train_test_split`` over rows (on the workbook: 9 of 36 rows, 6
    non-matches and 3 matches, like the paper's Tables 5 and 6). ``grouped``: whole groups
    (``GroupShuffleSplit``; on the workbook 3 of 12 sets, 9 rows).
    """
    return make_splitter(protocol, seed=seed).holdout(y, groups, test_size=test_size)


@dataclass(frozen=True, kw_only=True, slots=True)
class Scaling:
    """A fitted Min-Max transform ``x' = x * scale + min`` (scikit-learn's ``min_``/``scale_``)."""

    min: F64Array  # (d,)
    scale: F64Array  # (d,)

    def transform(self, x: npt.ArrayLike) -> F32Array:
        """Scale rows ``x`` (n, d) as the training rows were; float32 for the trainer."""
        return np.asarray(np.asarray(x, dtype=np.float64) * self.scale + self.min, np.float32)


def fit_min_max(x: npt.ArrayLike) -> Scaling:
    """Fit Min-Max (the paper's Formula 1) on rows ``x`` (n, d); constant columns map to 0."""
    from sklearn.preprocessing import MinMaxScaler

    # a constant column keeps scale 1 in MinMaxScaler (no division by zero)
    fitted = MinMaxScaler().fit(np.asarray(x, dtype=np.float64))
    return Scaling(
        min=np.asarray(fitted.min_, np.float64), scale=np.asarray(fitted.scale_, np.float64)
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldData:
    """The scaled training and validation rows of one split, as the trainer takes them."""

    x_train: F32Array  # (n_train, d)
    y_train: IntArray  # (n_train,)
    x_val: F32Array  # (n_val, d)
    y_val: IntArray  # (n_val,)
    scaling: Scaling  # fitted on all rows (paper) or on the training rows (grouped)

    @property
    def scaler_min(self) -> F64Array:
        """(d,) Min-Max offset."""
        return self.scaling.min

    @property
    def scaler_scale(self) -> F64Array:
        """(d,) Min-Max factor."""
        return self.scaling.scale


def fold_data(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    fold_or_indices: Fold | tuple[npt.ArrayLike, npt.ArrayLike],
    *,
    splitter: Splitter | None = None,
) -> FoldData:
    """Scale and cut ``X`` (n, d), ``y`` (n,) into the two sides of a fold or (train, val).

    The scaler is fitted on the rows ``splitter.scaler_rows`` names: all rows under the
    paper's protocol (as the paper did; it sees validation rows), the training rows only
    under the grouped one (the default).
    """
    splitter = GroupedSplitter() if splitter is None else splitter
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y).astype(np.int64)
    if x.ndim != 2 or len(x) != len(labels):
        raise DataError(
            f"features: expected a 2-d matrix with one row per label ({len(labels)}), "
            f"found shape {x.shape}"
        )
    if not np.isfinite(x).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise DataError(f"features: row {row + 1}, column {col + 1}: expected a finite number")
    if isinstance(fold_or_indices, Fold):
        train, val = fold_or_indices.train, fold_or_indices.val
    else:
        train, val = (np.asarray(i, dtype=np.int64) for i in fold_or_indices)
    if len(train) == 0:
        raise DataError("split: the training part is empty")
    scaling = fit_min_max(x[splitter.scaler_rows(len(x), train)])
    return FoldData(
        x_train=scaling.transform(x[train]),
        y_train=labels[train],
        x_val=scaling.transform(x[val]),
        y_val=labels[val],
        scaling=scaling,
    )


def folds_per_repeat(folds: Sequence[Fold]) -> dict[int, list[Fold]]:
    """Folds grouped by their repeat, in order."""
    out: dict[int, list[Fold]] = {}
    for f in folds:
        out.setdefault(f.repeat, []).append(f)
    return out
