"""The two-covariance model: its score against SciPy's Gaussians; EM recovers covariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from ffmatch.core.errors import DataError
from ffmatch.matcher.plda import (
    PoseMixture,
    TwoCovariance,
    fit_pose_mixture,
    fit_two_covariance,
    llr,
    pose_mixture_llr,
)


def _model(d: int = 3, seed: int = 0) -> TwoCovariance:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    return TwoCovariance(mean=rng.normal(size=d), between=a @ a.T + np.eye(d),
                         within=0.3 * (b @ b.T) + 0.1 * np.eye(d))  # fmt: skip


def _reference_llr(m: TwoCovariance, x1: np.ndarray, x2: np.ndarray) -> float:
    """log N([x1;x2]; same person) - log N(x1) - log N(x2), straight from the definition."""
    t = m.between + m.within
    joint = np.block([[t, m.between], [m.between, t]])
    same = multivariate_normal(np.r_[m.mean, m.mean], joint).logpdf(np.r_[x1, x2])
    diff = multivariate_normal(m.mean, t)
    return float(same - diff.logpdf(x1) - diff.logpdf(x2))


def test_llr_equals_the_gaussian_likelihood_ratio() -> None:
    m = _model()
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    expected = [_reference_llr(m, a, b) for a, b in zip(x1, x2, strict=True)]
    np.testing.assert_allclose(llr(m, x1, x2), expected, rtol=1e-9, atol=1e-9)


def test_llr_of_missing_dimensions_is_the_marginal_ratio() -> None:
    m = _model()
    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x1[0, 1] = np.nan  # pair 0 shares dimensions 0 and 2 only
    keep = [0, 2]
    sub = TwoCovariance(mean=m.mean[keep], between=m.between[np.ix_(keep, keep)],
                        within=m.within[np.ix_(keep, keep)])  # fmt: skip
    out = llr(m, x1, x2)
    assert out[0] == pytest.approx(_reference_llr(sub, x1[0, keep], x2[0, keep]), abs=1e-9)
    assert out[1] == pytest.approx(_reference_llr(m, x1[1], x2[1]), abs=1e-9)
    assert llr(m, np.full((1, 3), np.nan), x2[:1])[0] == 0.0


def test_em_recovers_the_generating_covariances() -> None:
    truth = _model(d=2, seed=3)
    rng = np.random.default_rng(4)
    people, per = 400, 6
    y = rng.multivariate_normal(truth.mean, truth.between, size=people)
    x = np.repeat(y, per, axis=0) + rng.multivariate_normal(np.zeros(2), truth.within,
                                                            size=people * per)  # fmt: skip
    fit = fit_two_covariance(x, np.repeat(np.arange(people), per), n_iter=30)
    np.testing.assert_allclose(fit.within, truth.within, rtol=0.1, atol=0.05)
    np.testing.assert_allclose(fit.between, truth.between, rtol=0.2, atol=0.3)


def test_fit_errors_name_the_problem() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(DataError, match="at least 2 persons with 2 or more photos"):
        fit_two_covariance(x, ["a", "b", "c", "d"])
    x[1, 1] = np.nan
    with pytest.raises(DataError, match="row 2, column 2: expected a finite number"):
        fit_two_covariance(x, ["a", "a", "b", "b"])


def test_pose_mixture_of_one_pose_is_the_plain_model() -> None:
    m = _model(d=3, seed=5)
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x1[0, 2] = np.nan
    np.testing.assert_allclose(
        pose_mixture_llr(PoseMixture.single(m), x1, x2), llr(m, x1, x2), atol=1e-9
    )


def test_pose_mixture_sums_over_both_photos_poses() -> None:
    m = _model(d=2, seed=7)
    rng = np.random.default_rng(8)
    w2 = m.within * 2.0
    mix = PoseMixture(mean=m.mean, between=m.between, within=np.stack([m.within, w2]),
                      offsets=np.array([[0.0, 0.0], [1.0, -0.5]]),
                      log_prior=np.log([0.3, 0.7]))  # fmt: skip
    x1, x2 = rng.normal(size=2), rng.normal(size=2)
    same = diff1 = diff2 = 0.0
    for i in range(2):
        ti = m.between + mix.within[i]
        diff1 += np.exp(mix.log_prior[i]) * multivariate_normal(m.mean + mix.offsets[i], ti).pdf(x1)
        diff2 += np.exp(mix.log_prior[i]) * multivariate_normal(m.mean + mix.offsets[i], ti).pdf(x2)
        for j in range(2):
            tj = m.between + mix.within[j]
            joint = np.block([[ti, m.between], [m.between, tj]])
            mean = np.r_[m.mean + mix.offsets[i], m.mean + mix.offsets[j]]
            same += np.exp(mix.log_prior[i] + mix.log_prior[j]) * multivariate_normal(
                mean, joint
            ).pdf(np.r_[x1, x2])
    expected = np.log(same) - np.log(diff1) - np.log(diff2)
    assert pose_mixture_llr(mix, x1[None], x2[None])[0] == pytest.approx(expected, abs=1e-9)


def test_fit_pose_mixture_finds_each_poses_offset() -> None:
    rng = np.random.default_rng(9)
    people, per = 300, 4
    y = rng.normal(size=(people, 2))
    pose = np.tile(["a", "b", "a", "b"], people)
    x = np.repeat(y, per, axis=0) + rng.normal(0, 0.1, size=(people * per, 2))
    x[pose == "b"] += [2.0, 0.0]
    model, names = fit_pose_mixture(x, np.repeat(np.arange(people), per), pose, n_iter=10)
    assert names == ["a", "b"]
    np.testing.assert_allclose(model.offsets[1] - model.offsets[0], [2.0, 0.0], atol=0.05)
    np.testing.assert_allclose(np.exp(model.log_prior), [0.5, 0.5])


def _joint_llr(mix: PoseMixture, x1: np.ndarray, x2: np.ndarray) -> float:
    """One pair's LLR from the 2d-dimensional joint Gaussians (the pre-factorised form),
    over the dimensions both photos have."""
    keep = np.flatnonzero(~(np.isnan(x1) | np.isnan(x2)))
    sub = np.ix_(keep, keep)
    b = mix.between[sub]
    u, v = x1[keep] - mix.mean[keep], x2[keep] - mix.mean[keep]
    prior = np.exp(mix.log_prior)
    same = diff1 = diff2 = 0.0
    for i, (oi, wi) in enumerate(zip(mix.offsets[:, keep], mix.within, strict=True)):
        ti = b + wi[sub]
        diff1 += prior[i] * multivariate_normal(oi, ti).pdf(u)
        diff2 += prior[i] * multivariate_normal(oi, ti).pdf(v)
        for j, (oj, wj) in enumerate(zip(mix.offsets[:, keep], mix.within, strict=True)):
            joint = np.block([[ti, b], [b, b + wj[sub]]])
            same += prior[i] * prior[j] * multivariate_normal(np.r_[oi, oj], joint).pdf(np.r_[u, v])
    return float(np.log(same) - np.log(diff1) - np.log(diff2))


def test_factorised_pose_mixture_equals_the_joint_gaussians_with_missing_dimensions() -> None:
    rng = np.random.default_rng(10)
    d, k = 4, 3
    base = _model(d=d, seed=11)
    within = np.stack([base.within * s for s in (0.5, 1.0, 2.0)])
    mix = PoseMixture(mean=base.mean, between=base.between, within=within,
                      offsets=rng.normal(0, 0.5, size=(k, d)),
                      log_prior=np.log([0.2, 0.5, 0.3]))  # fmt: skip
    x1 = base.mean + rng.normal(size=(12, d))
    x2 = x1 + rng.normal(0, 0.7, size=(12, d))
    x1[[1, 4, 7], 2] = np.nan  # three patterns of shared dimensions, interleaved
    x2[[4, 9], 0] = np.nan
    expected = [_joint_llr(mix, a, b) for a, b in zip(x1, x2, strict=True)]
    np.testing.assert_allclose(pose_mixture_llr(mix, x1, x2), expected, rtol=1e-9, atol=1e-9)
