"""Cross-validation: batched configs equal separate runs, reproducible, leak-free scaling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.serial import to_mapping
from ffmatch.core.splits import Fold, PaperSplitter, fold_data, holdout_split, make_folds
from ffmatch.paper.evaluation.cv import (
    cross_validate,
    evaluate_configs,
    fit_and_score,
    network_seed,
    train_configs,
)
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pipeline.results import CVRecord

SMALL = MLPConfig(hidden=(4, 2), epochs=4, lr=1e-2, batch_size=4)
OTHER = MLPConfig(hidden=(6, 3), epochs=6, lr=5e-3, batch_size=4)


def _vals(res):  # type: ignore[no-untyped-def]
    return [f.val_proba.tolist() for f in res.folds]


def test_two_configs_together_equal_each_alone(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(6)
    folds = make_folds(y, groups, n_splits=3, seed=0)
    both = evaluate_configs(X, y, groups, [SMALL, OTHER], folds=folds, seed=5)
    alone_small = evaluate_configs(X, y, groups, [SMALL], folds=folds, seed=5)[0]
    alone_other = evaluate_configs(X, y, groups, [OTHER], folds=folds, seed=5)[0]
    np.testing.assert_allclose(_vals(both[0]), _vals(alone_small), rtol=0, atol=1e-6)
    np.testing.assert_allclose(_vals(both[1]), _vals(alone_other), rtol=0, atol=1e-6)
    assert both[0].config == SMALL
    assert both[1].config == OTHER


def test_train_configs_trains_the_networks_evaluate_configs_scores(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(6)
    folds = make_folds(y, groups, n_splits=3, seed=0)
    scored = evaluate_configs(X, y, groups, [SMALL, OTHER], folds=folds, seed=5)
    data = [fold_data(X, y, f) for f in folds]
    trained = train_configs(data, folds, [SMALL, OTHER], seed=5)
    assert [len(t) for t in trained] == [3, 3]
    for cv, results in zip(scored, trained, strict=True):
        for fold, result in zip(cv.folds, results, strict=True):
            for got, want in zip(result.weights.weights, fold.weights.weights, strict=True):
                np.testing.assert_array_equal(got, want)


def test_same_seed_same_numbers_other_seed_different(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(6)
    a = cross_validate(X, y, groups, mlp=SMALL, n_splits=3, seed=1)
    b = cross_validate(X, y, groups, mlp=SMALL, n_splits=3, seed=1)
    c = cross_validate(X, y, groups, mlp=SMALL, n_splits=3, seed=2)
    assert to_mapping([f.val for f in a.folds]) == to_mapping([f.val for f in b.folds])
    assert _vals(a) != _vals(c)


def test_network_seed_depends_on_repeat_and_fold_only() -> None:
    assert network_seed(0, 0, 1) == network_seed(0, 0, 1)
    assert len({network_seed(0, r, k) for r in range(3) for k in range(10)}) == 30
    assert network_seed(0, 0, 0) != network_seed(1, 0, 0)


def test_result_holds_folds_summaries_and_baseline(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(6)
    res = cross_validate(X, y, groups, mlp=SMALL, n_splits=3, repeats=2, seed=0)
    assert len(res.folds) == 6
    assert res.repeats == 2
    assert res.summary["accuracy"].ci_over == "repeats"
    # every set is 1 match + 2 non-matches: the majority baseline scores 2/3 on every fold
    assert res.majority["accuracy"].mean == pytest.approx(2 / 3)
    for fr in res.folds:
        assert fr.val.n == len(fr.fold.val)
        assert fr.train_majority == pytest.approx(2 / 3)
        assert fr.history.train_loss.shape == (SMALL.epochs,)
        assert fr.weights.sizes == (4, 4, 2, 2)
        # grouped: the scaling maps the fold's training rows onto [0, 1] exactly
        xt = fr.scaling.transform(X[fr.fold.train])
        np.testing.assert_allclose(xt.min(axis=0), 0.0, atol=1e-6)
        np.testing.assert_allclose(xt.max(axis=0), 1.0, atol=1e-6)
    assert res.final_epoch["val_accuracy"].mean == pytest.approx(res.summary["accuracy"].mean)
    d = json.loads(json.dumps(to_mapping(CVRecord.of(res))))
    assert d["protocol"] == "grouped"
    assert len(d["folds"]) == 6
    assert len(d["folds"][0]["history"]["val_loss"]) == SMALL.epochs


def test_paper_protocol_scales_on_all_rows(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(6)
    res = cross_validate(X, y, groups, protocol="paper", mlp=SMALL, n_splits=3, seed=0)
    for fr in res.folds:
        xa = fr.scaling.transform(X)
        np.testing.assert_allclose(xa.min(axis=0), 0.0, atol=1e-6)
        np.testing.assert_allclose(xa.max(axis=0), 1.0, atol=1e-6)


def test_grouped_protocol_refuses_folds_that_split_a_group(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(3)
    bad = [Fold(repeat=0, index=0, train=np.arange(1, 9), val=np.array([0]))]
    with pytest.raises(DataError, match="has group 'set00' on both sides"):
        evaluate_configs(X, y, groups, [SMALL], folds=bad, seed=0)
    # the paper protocol accepts them: that is its leak
    (res,) = evaluate_configs(X, y, groups, [SMALL], splitter=PaperSplitter(), folds=bad, seed=0)
    assert res.folds[0].val.n == 1


def test_fit_and_score_on_a_holdout(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(8)
    train, test = holdout_split(y, groups, seed=0)
    result, m = fit_and_score(X, y, train, test, mlp=SMALL, seed=3)
    assert m.n == len(test)
    assert result.val_proba is not None
    assert result.val_proba.shape == (len(test),)
    again = fit_and_score(X, y, train, test, mlp=SMALL, seed=3)[0]
    assert again.val_proba is not None
    np.testing.assert_array_equal(again.val_proba, result.val_proba)


@pytest.mark.slow
def test_networks_learn_a_strong_signal(make_sets) -> None:  # type: ignore[no-untyped-def]
    X, y, groups = make_sets(12, d=4)
    X[:, 0] += 4.0 * y  # an easy signal on top of the fixture's
    res = cross_validate(
        X, y, groups, mlp=MLPConfig(hidden=(8, 4), epochs=60, lr=1e-2, batch_size=6), seed=0
    )
    assert res.summary["roc_auc"].mean > 0.9
    assert res.summary["accuracy"].mean > res.majority["accuracy"].mean + 0.1
