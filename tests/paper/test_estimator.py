"""FFMatchClassifier: scikit-learn's estimator checks, Pipeline and CV use, and its contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ffmatch.core.errors import ConfigError
from ffmatch.core.splits import fit_min_max
from ffmatch.paper.estimator import FFMatchClassifier
from ffmatch.paper.nn.train import TrainJob, train_many

# Few epochs and a large step, so each of the ~55 checks fits in milliseconds yet the
# network still learns check_classifiers_train's blobs (accuracy >= 0.83).
CHECKED = FFMatchClassifier(epochs=5, lr=1e-2, random_state=0)
FAST: dict[str, Any] = {"epochs": 20, "lr": 1e-2}


@pytest.fixture(scope="module")
def problem() -> tuple[np.ndarray, np.ndarray]:
    """120 rows, 8 features, two well-separated classes (logistic regression: ~0.97)."""
    X, y = make_classification(
        n_samples=120,
        n_features=8,
        n_informative=3,
        n_redundant=0,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=0,
    )
    return X, y


# Every check applies (binary only is declared by the multi_class=False tag, which swaps
# the multiclass checks for check_classifier_not_supporting_multiclass); none is expected
# to fail. check_array_api_input skips itself unless SCIPY_ARRAY_API is set.
@parametrize_with_checks([CHECKED], expected_failed_checks=lambda est: {})
def test_sklearn_estimator_checks(estimator: FFMatchClassifier, check: Any) -> None:
    check(estimator)


def test_learns_in_pipeline_and_cross_val_score(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = problem
    pipe = make_pipeline(StandardScaler(), FFMatchClassifier(random_state=0, **FAST))
    scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.shape == (5,)
    assert scores.mean() > 0.85  # chance is 0.5 (60 rows of each class)


def test_scaling_is_fitted_on_each_training_fold_only(
    problem: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = problem
    out = cross_validate(
        FFMatchClassifier(epochs=1, random_state=0),
        X,
        y,
        cv=3,
        return_estimator=True,
        return_indices=True,
    )
    for est, train in zip(out["estimator"], out["indices"]["train"], strict=True):
        expected = fit_min_max(X[train])
        np.testing.assert_array_equal(est.scaling_.min, expected.min)
        np.testing.assert_array_equal(est.scaling_.scale, expected.scale)
        assert not np.array_equal(est.scaling_.min, fit_min_max(X).min)


def test_same_random_state_same_predictions(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = problem
    a = FFMatchClassifier(random_state=3, **FAST).fit(X, y).predict_proba(X)
    b = FFMatchClassifier(random_state=3, **FAST).fit(X, y).predict_proba(X)
    c = FFMatchClassifier(random_state=4, **FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_random_state_instance_draws_a_new_seed_each_fit(
    problem: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = problem
    clf = FFMatchClassifier(epochs=1, random_state=np.random.RandomState(0))
    first, second = clf.fit(X, y).seed_, clf.fit(X, y).seed_
    assert first != second


def test_fit_trains_one_network_with_train_many(problem: tuple[np.ndarray, np.ndarray]) -> None:
    """The estimator is a thin layer: same scaled rows and seed give the same weights."""
    X, y = problem
    clf = FFMatchClassifier(hidden=(6, 4), epochs=3, lr=1e-3, batch_size=8, random_state=1)
    clf.fit(X, y)
    scaling = fit_min_max(X)
    job = TrainJob(
        x_train=scaling.transform(X),
        y_train=y.astype(np.int64),
        hidden=(6, 4),
        epochs=3,
        lr=1e-3,
        batch_size=8,
        seed=clf.seed_,
    )
    (ref,) = train_many([job])
    for got, want in zip(clf.weights_.weights, ref.weights.weights, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(clf.history_.train_loss, ref.history.train_loss)
    np.testing.assert_allclose(clf.predict_proba(X), ref.weights.predict_proba(job.x_train))


def test_min_max_makes_predictions_invariant_to_feature_units(
    problem: tuple[np.ndarray, np.ndarray],
) -> None:
    """Per-feature positive scale and shift change nothing once Min-Max has seen them."""
    X, y = problem
    a = np.linspace(0.5, 40.0, X.shape[1])
    b = np.linspace(-3.0, 100.0, X.shape[1])
    p = FFMatchClassifier(random_state=0, **FAST).fit(X, y).predict_proba(X)
    q = FFMatchClassifier(random_state=0, **FAST).fit(X * a + b, y).predict_proba(X * a + b)
    np.testing.assert_allclose(p, q, atol=1e-4)


def test_scale_false_feeds_raw_features(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = problem
    clf = FFMatchClassifier(scale=False, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.scaling_.transform(X), X.astype(np.float32))


def test_any_two_labels_in_classes_order(problem: tuple[np.ndarray, np.ndarray]) -> None:
    """Labels are encoded by sorted order: column 1 of predict_proba scores classes_[1]."""
    X, y = problem
    named = np.where(y == 1, "yes", "no")
    p01 = FFMatchClassifier(random_state=0, **FAST).fit(X, y).predict_proba(X)
    clf = FFMatchClassifier(random_state=0, **FAST).fit(X, named)
    assert clf.classes_.tolist() == ["no", "yes"]
    np.testing.assert_array_equal(clf.predict_proba(X), p01)
    assert set(clf.predict(X)) <= {"no", "yes"}
    # 7 > 3, so 7 takes code 1 and its probability is column 1
    seven = FFMatchClassifier(random_state=0, **FAST).fit(X, np.where(y == 1, 7, 3))
    np.testing.assert_array_equal(seven.predict_proba(X), p01)
    np.testing.assert_array_equal(seven.predict(X) == 7, p01[:, 1] > p01[:, 0])


def test_fitted_attributes(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = problem
    clf = FFMatchClassifier(hidden=7, epochs=4, random_state=0).fit(X, y)
    assert clf.n_features_in_ == 8
    assert clf.weights_.sizes == (8, 7, 2)
    assert clf.history_.train_loss.shape == (4,)
    assert np.isnan(clf.history_.val_loss).all()
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        FFMatchClassifier().predict(np.zeros((2, 3)))


def test_multiclass_and_single_class_targets_are_refused() -> None:
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        FFMatchClassifier(epochs=1).fit(X, [0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="only one class"):
        FFMatchClassifier(epochs=1).fit(X, [1] * 6)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden": ()}, "hidden: expected one or more sizes >= 1, found ()"),
        ({"hidden": "big"}, "hidden: expected an int or a tuple of ints, found 'big'"),
        ({"hidden": (4, 2.5)}, "hidden: expected an int or a tuple of ints, found (4, 2.5)"),
        ({"hidden": 1.5}, "hidden: expected an int or a tuple of ints, found 1.5"),
        ({"epochs": 0}, "epochs: expected an integer >= 1, found 0"),
        ({"lr": -1.0}, "lr: expected a number in (0, 10.0], found -1.0"),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1, found 0"),
        ({"device": "warp-drive"}, "device: expected a torch device .* found 'warp-drive'"),
    ],
)
def test_bad_settings_raise_on_fit_with_the_value(params: dict[str, Any], message: str) -> None:
    clf = FFMatchClassifier(**params)  # __init__ only stores: the check happens in fit
    escaped = (
        message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    )
    with pytest.raises(ValueError, match=escaped):
        clf.fit(np.arange(8.0).reshape(4, 2), [0, 1, 0, 1])


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="lr"):
        FFMatchClassifier(lr=0.0).fit(np.arange(8.0).reshape(4, 2), [0, 1, 0, 1])


def test_clone_and_get_params_round_trip() -> None:
    clf = FFMatchClassifier(hidden=(5,), epochs=7, lr=0.5, batch_size=3, scale=False,
                            random_state=9, device="cpu")  # fmt: skip
    params = clf.get_params()
    assert params == {
        "hidden": (5,),
        "epochs": 7,
        "lr": 0.5,
        "batch_size": 3,
        "scale": False,
        "random_state": 9,
        "device": "cpu",
    }
    twin = clone(clf)
    assert twin is not clf
    assert twin.get_params() == params
    assert FFMatchClassifier().set_params(**params).get_params() == params
    assert FFMatchClassifier().get_params()["hidden"] == (20, 10)


def test_clone_of_fitted_estimator_is_unfitted(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = problem
    twin = clone(FFMatchClassifier(epochs=1, random_state=0).fit(X, y))
    assert not hasattr(twin, "weights_")


def test_docs_example_runs() -> None:
    """docs/estimator.md's example runs as written and scores the paper's 36 pairs."""
    text = (Path(__file__).parents[2] / "docs" / "estimator.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.+?)```", text, flags=re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/estimator.md", "exec"), namespace)
    assert namespace["scores"].shape == (6,)
    assert namespace["clf"].history_.train_loss.shape == (80,)
