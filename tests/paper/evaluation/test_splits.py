"""Folds, holdouts and scaling: no group on both sides, no peeking, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.splits import (
    Fold,
    GroupedSplitter,
    PaperSplitter,
    fold_data,
    holdout_split,
    leave_one_group_out_folds,
    make_folds,
    make_splitter,
)


@st.composite
def labelled_groups(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Random group sizes and labels with both classes present."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=15))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=len(groups), max_size=len(groups))))
    y[0], y[-1] = 0, 1  # both classes, in different groups
    return y, groups


@settings(max_examples=60, deadline=None)
@given(data=labelled_groups(), n_splits=st.integers(2, 10), repeats=st.integers(1, 3))
def test_grouped_folds_cover_every_row_once_and_never_split_a_group(
    data: tuple[np.ndarray, np.ndarray], n_splits: int, repeats: int
) -> None:
    y, groups = data
    folds = make_folds(y, groups, protocol="grouped", n_splits=n_splits, repeats=repeats, seed=3)
    for r in range(repeats):
        mine = [f for f in folds if f.repeat == r]
        assert len(mine) == min(n_splits, len(np.unique(groups)))
        covered = np.concatenate([f.val for f in mine])
        assert np.array_equal(np.sort(covered), np.arange(len(y)))
        for f in mine:
            assert len(f.val) > 0
            assert np.array_equal(np.union1d(f.train, f.val), np.arange(len(y)))
            assert not set(groups[f.train]) & set(groups[f.val])


@settings(max_examples=60, deadline=None)
@given(data=labelled_groups(), test_size=st.floats(0.1, 0.5), seed=st.integers(0, 2**31))
def test_grouped_holdout_never_splits_a_group(
    data: tuple[np.ndarray, np.ndarray], test_size: float, seed: int
) -> None:
    y, groups = data
    train, test = holdout_split(y, groups, protocol="grouped", test_size=test_size, seed=seed)
    assert len(train) > 0
    assert len(test) > 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(y)))
    assert not set(groups[train]) & set(groups[test])


def test_paper_folds_are_kfold_over_rows_and_leak_photos(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    folds = make_folds(y, groups, protocol="paper", n_splits=10, seed=0)
    assert len(folds) == 10
    assert sorted(len(f.val) for f in folds) == [3] * 4 + [4] * 6
    covered = np.sort(np.concatenate([f.val for f in folds]))
    assert np.array_equal(covered, np.arange(36))
    # rows are split regardless of sets: some set sits on both sides of some fold
    assert any(set(groups[f.train]) & set(groups[f.val]) for f in folds)


def test_grouped_folds_on_paper_shape_are_stratified(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    folds = make_folds(y, groups, protocol="grouped", n_splits=10, seed=0)
    assert len(folds) == 10
    for f in folds:  # every set is 1 match + 2 non-matches, so every fold is too
        assert y[f.val].sum() * 3 == len(f.val)


def test_grouped_falls_back_to_group_kfold_when_matches_are_too_few() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0])
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    folds = make_folds(y, groups, protocol="grouped", n_splits=4, seed=0)
    assert len(folds) == 4
    assert all(len(f.val) == 2 for f in folds)


def test_same_seed_same_folds_other_seed_different(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    for protocol in ("paper", "grouped"):
        a = make_folds(y, groups, protocol=protocol, repeats=2, seed=7)
        b = make_folds(y, groups, protocol=protocol, repeats=2, seed=7)
        c = make_folds(y, groups, protocol=protocol, repeats=2, seed=8)
        assert [f.val.tolist() for f in a] == [f.val.tolist() for f in b]
        assert [f.val.tolist() for f in a] != [f.val.tolist() for f in c]
        # repeats draw new shuffles
        assert [f.val.tolist() for f in a[:10]] != [f.val.tolist() for f in a[10:]]


def test_holdout_paper_takes_nine_rows_six_zeros_three_ones(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    train, test = holdout_split(y, groups, protocol="paper", seed=1)
    assert len(test) == 9
    assert len(train) == 27
    assert np.bincount(y[test]).tolist() == [6, 3]
    assert not set(train) & set(test)


def test_holdout_grouped_takes_whole_sets(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    train, test = holdout_split(y, groups, protocol="grouped", seed=1)
    assert len(test) == 9
    assert len(np.unique(groups[test])) == 3
    assert not set(groups[train]) & set(groups[test])
    again = holdout_split(y, groups, protocol="grouped", seed=1)
    assert np.array_equal(again[1], test)


def test_leave_one_group_out(paper_like) -> None:  # type: ignore[no-untyped-def]
    _, y, groups = paper_like
    folds = leave_one_group_out_folds(y, groups)
    assert len(folds) == 12
    assert all(len(np.unique(groups[f.val])) == 1 and len(f.val) == 3 for f in folds)


def test_grouped_scaler_never_sees_validation_rows() -> None:
    X = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 6.0], [100.0, -50.0]])
    y = np.array([0, 1, 0, 1])
    fold = Fold(repeat=0, index=0, train=np.array([0, 1, 2]), val=np.array([3]))
    d = fold_data(X, y, fold, splitter=GroupedSplitter())
    assert d.x_train.min() == 0.0
    assert d.x_train.max() == 1.0
    assert d.x_train.dtype == np.float32
    assert d.y_train.dtype == np.int64
    # the outlier in the validation row is scaled by the training rows' range only
    np.testing.assert_allclose(d.x_val[0], [50.0, -55.0])
    np.testing.assert_allclose(d.scaling.transform(X[:3]), d.x_train)


def test_paper_scaler_fits_all_rows() -> None:
    X = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 6.0], [100.0, -50.0]])
    y = np.array([0, 1, 0, 1])
    d = fold_data(X, y, (np.array([0, 1, 2]), np.array([3])), splitter=PaperSplitter())
    np.testing.assert_allclose(d.x_val[0], [1.0, 0.0])
    np.testing.assert_allclose(d.x_train[:, 0], [0.0, 0.01, 0.02], atol=1e-7)


def test_errors_name_the_problem() -> None:
    groups = np.array([0, 0, 1, 1])
    with pytest.raises(DataError, match="only label 0 found; cross-validation needs both"):
        make_folds(np.zeros(4, dtype=int), groups, seed=0)
    with pytest.raises(DataError, match="4 rows are fewer than the 10 folds"):
        make_folds(np.array([0, 1, 0, 1]), groups, protocol="paper", seed=0)
    with pytest.raises(DataError, match="only 1 group found"):
        make_folds(np.array([0, 1, 0, 1]), np.zeros(4), seed=0)
    with pytest.raises(DataError, match="row 2: expected a label 0 or 1, found 2"):
        make_folds(np.array([0, 2, 0, 1]), groups, seed=0)
    with pytest.raises(DataError, match="one group per row"):
        make_folds(np.array([0, 1, 0, 1]), np.zeros(3), seed=0)
    with pytest.raises(ConfigError, match="unknown protocol 'leaky'"):
        make_folds(np.array([0, 1, 0, 1]), groups, protocol="leaky", seed=0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 2 folds"):
        make_folds(np.array([0, 1, 0, 1]), groups, n_splits=1, seed=0)
    with pytest.raises(ConfigError, match="test_size: expected a fraction between 0 and 1"):
        holdout_split(np.array([0, 1, 0, 1]), groups, test_size=1.5, seed=0)
    with pytest.raises(DataError, match="4 rows are too few for a 25% holdout"):
        holdout_split(np.array([0, 1, 0, 1]), groups, protocol="paper", seed=0)
    with pytest.raises(DataError, match="at least 2 rows of each label, found 1 of label 1"):
        holdout_split(np.array([0] * 9 + [1]), np.arange(10), protocol="paper", seed=0)
    with pytest.raises(DataError, match="leave-one-group-out needs at least 2 groups"):
        leave_one_group_out_folds(np.array([0, 1]), np.zeros(2))
    with pytest.raises(DataError, match="row 2, column 1: expected a finite number"):
        fold_data(np.array([[0.0], [np.nan]]), np.array([0, 1]), ([0], [1]))


def test_splitters_follow_scikit_learns_interface(paper_like) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = paper_like
    grouped = make_splitter("grouped", n_splits=20, repeats=2, seed=0)
    assert isinstance(grouped, GroupedSplitter)
    assert grouped.get_n_splits(X, y, groups) == 2 * 12  # at most one fold per set of three
    splits = list(grouped.split(X, y, groups))
    assert len(splits) == 24
    for train, val in splits:
        assert not set(groups[train]) & set(groups[val])
    paper = make_splitter("paper", n_splits=10, seed=0)
    assert paper.get_n_splits(X, y, groups) == 10
    assert [v.tolist() for _, v in paper.split(X, y)] == [
        f.val.tolist() for f in make_folds(y, groups, protocol="paper", n_splits=10, seed=0)
    ]
    train, _ = paper.holdout(y, groups)
    assert paper.cv_rows(36, train).tolist() == list(range(36))  # the paper's leak
    assert grouped.cv_rows(36, train).tolist() == sorted(train.tolist())
    with pytest.raises(ConfigError, match="unknown protocol 'leaky': expected one of paper"):
        make_splitter("leaky")
