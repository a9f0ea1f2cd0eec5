"""Controls: Procrustes shape distance, position-and-size features, logistic regression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.core.errors import DataError
from ffmatch.core.markers import N_MARKERS
from ffmatch.core.serial import to_mapping
from ffmatch.core.splits import Fold, leave_one_group_out_folds, make_folds
from ffmatch.core.table import PairTable, PhotoTable
from ffmatch.paper.evaluation.controls import (
    control_from_scores,
    logistic_control,
    logistic_cv,
    position_size_features,
    procrustes_control,
    procrustes_disparity,
    run_controls,
)


def _pairs(coords: np.ndarray, first: list[int], second: list[int], label: list[int]) -> PairTable:
    n = len(coords)
    photos = PhotoTable(
        photo_id=np.array([f"p{i}" for i in range(n)]),
        person=np.array([f"s{i // 3}" for i in range(n)]),
        role=np.array([""] * n),
        coords=coords,
        derived=np.zeros((n, N_MARKERS), dtype=bool),
    )
    return PairTable(
        photos=photos,
        first=np.array(first),
        second=np.array(second),
        label=np.array(label),
        group=photos.person[np.array(first)],
    )


def _sets(n_sets: int, seed: int = 0) -> PairTable:
    """Sets of three photos A, B, C; A and B share a face shape, C is another face."""
    rng = np.random.default_rng(seed)
    coords = []
    for _ in range(n_sets):
        face, other = rng.normal(size=(N_MARKERS, 2)) * 30, rng.normal(size=(N_MARKERS, 2)) * 30
        for shape in (face, face, other):
            coords.append(shape + rng.normal(size=(N_MARKERS, 2)) + rng.uniform(100, 400, size=2))
    first = [3 * s + k for s in range(n_sets) for k in (0, 1, 2)]
    second = [3 * s + k for s in range(n_sets) for k in (1, 2, 0)]
    return _pairs(np.array(coords), first, second, [1, 0, 0] * n_sets)


@settings(max_examples=30, deadline=None)
@given(
    angle=st.floats(-3.0, 3.0),
    scale=st.floats(0.2, 5.0),
    shift=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_procrustes_ignores_position_size_and_rotation(
    angle: float, scale: float, shift: tuple[float, float]
) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(N_MARKERS, 2)), rng.normal(size=(N_MARKERS, 2))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = a @ rot.T * scale + np.array(shift)
    pairs = _pairs(np.stack([a, b, moved]), [0, 0, 2], [2, 1, 1], [1, 0, 0])
    d = procrustes_disparity(pairs)
    assert d[0] == pytest.approx(0.0, abs=1e-9)
    assert d[2] == pytest.approx(d[1], rel=1e-6)


def test_procrustes_uses_markers_present_in_both_and_needs_three() -> None:
    rng = np.random.default_rng(2)
    c = rng.normal(size=(2, N_MARKERS, 2))
    c[1] = c[0] * 2.0
    c[0, 5] = np.nan
    assert procrustes_disparity(_pairs(c, [0], [1], [1]))[0] == pytest.approx(0.0, abs=1e-9)
    c[0, 2:] = np.nan
    with pytest.raises(DataError, match="pair 'p0 & p1': expected at least 3 markers"):
        procrustes_disparity(_pairs(c, [0], [1], [1]))


def test_procrustes_control_separates_same_shapes() -> None:
    pairs = _sets(6)
    folds = leave_one_group_out_folds(pairs.label, pairs.group)
    res = procrustes_control(pairs, folds)
    assert len(res.fold_auc) == 6
    assert res.pooled_auc == pytest.approx(1.0)
    assert res.auc.mean == pytest.approx(1.0)


def test_position_size_features_by_hand() -> None:
    square = np.zeros((N_MARKERS, 2))
    square[:, 0] = np.where(np.arange(N_MARKERS) % 2 == 0, 10.0, 14.0)  # x alternates 10, 14
    square[:, 1] = 50.0
    other = square * 2.0
    f = position_size_features(_pairs(np.stack([square, other]), [0], [1], [0]))
    np.testing.assert_allclose(f, [[12.0, 50.0, 2.0, 24.0, 100.0, 4.0]])


def test_control_from_scores_pools_each_repeat() -> None:
    y = np.array([0, 1, 0, 1])
    folds = [
        Fold(repeat=0, index=0, train=np.array([2, 3]), val=np.array([0, 1])),
        Fold(repeat=0, index=1, train=np.array([0, 1]), val=np.array([2, 3])),
    ]
    # each fold is ranked perfectly, but the pooled scores are not
    res = control_from_scores("toy", y, folds, [np.array([0.1, 0.2]), np.array([0.5, 0.6])])
    assert res.fold_auc == (1.0, 1.0)
    assert res.pooled_auc == pytest.approx(0.75)
    assert to_mapping(res)["name"] == "toy"


def test_logistic_cv_learns_a_separable_signal() -> None:
    rng = np.random.default_rng(3)
    y = np.tile([1, 0, 0], 8)
    groups = np.repeat(np.arange(8), 3)
    X = np.column_stack([y * 4.0 + rng.normal(size=24) * 0.1, rng.normal(size=24)])
    folds = make_folds(y, groups, protocol="grouped", n_splits=4, seed=0)
    metrics = logistic_cv(X, y, folds)
    assert len(metrics) == 4
    assert all(m.roc_auc == 1.0 for m in metrics)
    res = logistic_control("toy", X, y, folds)
    assert res.pooled_auc == pytest.approx(1.0)
    assert [m.accuracy for m in res.folds] == [m.accuracy for m in metrics]


def test_logistic_needs_both_labels_in_training() -> None:
    y = np.array([1, 0, 0, 0])
    folds = [Fold(repeat=0, index=0, train=np.array([1, 2]), val=np.array([0, 3]))]
    with pytest.raises(DataError, match="training part holds one label only"):
        logistic_cv(np.zeros((4, 2)), y, folds)


def test_run_controls_returns_all_three_reproducibly() -> None:
    pairs = _sets(5, seed=4)
    folds = make_folds(pairs.label, pairs.group, protocol="grouped", n_splits=5, seed=0)
    a = run_controls(pairs, folds)
    b = run_controls(pairs, folds)
    assert set(a) == {"procrustes", "logistic_raw", "logistic_position_size"}
    assert to_mapping(a["logistic_raw"]) == to_mapping(b["logistic_raw"])
    assert len(a["logistic_position_size"].folds) == 5


@pytest.mark.slow
def test_controls_on_the_paper_workbook_match_the_documented_numbers() -> None:
    from ffmatch.core.datasets import load_paper

    pairs = load_paper()
    res = run_controls(pairs, leave_one_group_out_folds(pairs.label, pairs.group))
    # docs/evaluation.md quotes these (leave-one-set-out, pooled AUC)
    assert res["procrustes"].pooled_auc == pytest.approx(0.542, abs=0.001)
    assert res["logistic_raw"].pooled_auc == pytest.approx(0.778, abs=0.001)
    assert res["logistic_position_size"].pooled_auc == pytest.approx(0.799, abs=0.001)
