"""The two-covariance model (the simplest PLDA): a metric learned from within-person variation.

Model (Ioffe 2006; Sizov, Lee and Kinnunen 2014, "Unifying PLDA variants"): a photo's
feature vector ``x`` (d,) of person ``i`` is ``x = y_i + e``, with the person's true shape
``y_i ~ N(mu, B)`` and the photo's deviation ``e ~ N(0, W)``; ``B`` (between-person) and
``W`` (within-person) are (d, d) covariances. Two photos of one person share ``y``, so

    same:      [x1; x2] ~ N([mu; mu], [[T, B], [B, T]]),  T = B + W
    different: x1, x2 independent ~ N(mu, T)

and the log-likelihood ratio of "same" against "different" is the score (higher = same):

    llr = 1/2 x1' Q x1 + 1/2 x2' Q x2 + x1' P x2 + c     (x centred on mu)
    Q = T^-1 - (T - B T^-1 B)^-1,   P = T^-1 B (T - B T^-1 B)^-1,
    c = 1/2 log|T| - 1/2 log|T - B T^-1 B|.

Fitted by EM (Sizov et al., Algorithm 1). Written here from the equations because no
maintained Python library fits this model (scikit-learn has none; the PLDA packages on PyPI
are unmaintained, and heavy for 30 lines of linear algebra), and because scoring must
marginalise missing dimensions per pair: a Gaussian's marginal keeps the rows and columns of
the dimensions present in both photos, so the model scores any subset exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.errors import DataError
from ffmatch.table import FloatArray

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class TwoCovariance:
    """A fitted two-covariance model: mean (d,), between ``B`` and within ``W`` (d, d)."""

    mean: FloatArray
    between: FloatArray
    within: FloatArray

    @property
    def dim(self) -> int:
        """Feature dimension d."""
        return len(self.mean)


def _check_rows(
    x: npt.ArrayLike, groups: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise DataError(
            f"two-covariance fit: expected a non-empty (n, d) matrix, found {arr.shape}"
        )
    if not np.isfinite(arr).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise DataError(
            f"two-covariance fit: row {row + 1}, column {col + 1}: expected a finite number "
            "(fit on photos with every feature present)"
        )
    g = np.asarray(groups)
    if g.shape != (len(arr),):
        raise DataError(
            f"two-covariance fit: expected one person per row ({len(arr)}), found {g.shape}"
        )
    _, codes = np.unique(g, return_inverse=True)
    counts = np.bincount(codes)
    if (counts >= 2).sum() < 2:
        raise DataError(
            "two-covariance fit: expected at least 2 persons with 2 or more photos each, "
            f"found {(counts >= 2).sum()}"
        )
    return arr, codes.astype(np.int64)


def fit_two_covariance(
    x: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    n_iter: int = 50,
    ridge: float = 1e-6,
) -> TwoCovariance:
    """Fit ``mu``, ``B``, ``W`` to photos ``x`` (n, d) of persons ``groups`` (n,) by EM.

    ``ridge`` (relative to the mean variance) is added to ``W``: aligned shapes live in a
    subspace (alignment fixes position, size and angle), so their covariances are singular.
    Starts from the moment estimates; each EM step cannot lower the likelihood.
    """
    arr, codes = _check_rows(x, groups)
    n, d = arr.shape
    k = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=k).astype(np.float64)  # (k,)
    sums = np.zeros((k, d))
    np.add.at(sums, codes, arr)  # (k, d) per-person sums
    eps = ridge * float(np.trace(np.cov(arr.T)) / d) * np.eye(d)
    means = sums / counts[:, None]
    mu = means.mean(axis=0)
    resid = arr - means[codes]
    within = resid.T @ resid / n + eps
    between = np.cov(means.T, bias=True) + eps
    for _ in range(n_iter):
        b_inv = np.linalg.inv(between)
        w_inv = np.linalg.inv(within)
        # E-step: posterior of each person's y: precision B^-1 + n_i W^-1, grouped by n_i
        gamma = np.empty((k, d))
        cov_sum = np.zeros((d, d))  # sum over persons of the posterior covariance
        within_cov = np.zeros((d, d))  # sum over photos of the same
        for size in np.unique(counts):
            who = counts == size
            post_cov = np.linalg.inv(b_inv + size * w_inv)  # (d, d), same for all of who
            gamma[who] = (b_inv @ mu + sums[who] @ w_inv) @ post_cov  # symmetric post_cov
            cov_sum += who.sum() * post_cov
            within_cov += who.sum() * size * post_cov
        # M-step
        mu = gamma.mean(axis=0)
        centred = gamma - mu
        between = (centred.T @ centred + cov_sum) / k + eps
        diff = arr - gamma[codes]
        within = (diff.T @ diff + within_cov) / n + eps
        between, within = (between + between.T) / 2, (within + within.T) / 2
    return TwoCovariance(mean=mu, between=between, within=within)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Scorer:
    """Q, P and c of the score on one subset of dimensions."""

    dims: npt.NDArray[np.intp]
    q: FloatArray
    p: FloatArray
    const: float


def _scorer(model: TwoCovariance, dims: npt.NDArray[np.intp]) -> _Scorer:
    b = model.between[np.ix_(dims, dims)]
    t = b + model.within[np.ix_(dims, dims)]
    t_inv = np.linalg.inv(t)
    s = t - b @ t_inv @ b  # conditional covariance of x2 given x1 (same person)
    s_inv = np.linalg.inv(s)
    _, logdet_t = np.linalg.slogdet(t)
    _, logdet_s = np.linalg.slogdet(s)
    return _Scorer(
        dims=dims,
        q=t_inv - s_inv,
        p=t_inv @ b @ s_inv,
        const=0.5 * (logdet_t - logdet_s),
    )


def llr(model: TwoCovariance, x1: npt.ArrayLike, x2: npt.ArrayLike) -> FloatArray:
    """(m,) log-likelihood ratio same/different of rows of ``x1`` and ``x2`` (m, d).

    A dimension NaN in either row is left out of that pair's score (the Gaussian marginal);
    pairs are grouped by which dimensions they share, so each pattern costs one inversion.
    A pair sharing no dimension scores 0 (no evidence either way).
    """
    a = np.atleast_2d(np.asarray(x1, dtype=np.float64)) - model.mean
    b = np.atleast_2d(np.asarray(x2, dtype=np.float64)) - model.mean
    if a.shape != b.shape or a.shape[1] != model.dim:
        raise DataError(
            f"two-covariance score: expected two (m, {model.dim}) matrices, found {a.shape} "
            f"and {b.shape}"
        )
    both = ~(np.isnan(a) | np.isnan(b))  # (m, d)
    out = np.zeros(len(a))
    patterns, inverse = np.unique(both, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == k)
        dims = np.flatnonzero(pattern)
        if len(dims) == 0:
            continue
        sc = _scorer(model, dims)
        u, v = a[np.ix_(rows, dims)], b[np.ix_(rows, dims)]
        out[rows] = (
            0.5 * np.einsum("md,de,me->m", u, sc.q, u)
            + 0.5 * np.einsum("md,de,me->m", v, sc.q, v)
            + np.einsum("md,de,me->m", u, sc.p, v)
            + sc.const
        )
    return out


def _log_normal(model: TwoCovariance, x: FloatArray) -> FloatArray:
    """(m,) log N(x; mu, B + W) per row, over each row's finite dimensions (0 with none)."""
    a = x - model.mean
    ok = ~np.isnan(a)
    out = np.zeros(len(a))
    patterns, inverse = np.unique(ok, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == k)
        dims = np.flatnonzero(pattern)
        if len(dims) == 0:
            continue
        t = model.between[np.ix_(dims, dims)] + model.within[np.ix_(dims, dims)]
        _, logdet = np.linalg.slogdet(t)
        u = a[np.ix_(rows, dims)]
        maha = np.einsum("md,de,me->m", u, np.linalg.inv(t), u)
        out[rows] = -0.5 * (maha + logdet + len(dims) * np.log(2 * np.pi))
    return out


def _logsumexp(a: FloatArray, axis: int) -> FloatArray:
    top = a.max(axis=axis, keepdims=True)
    return np.asarray((top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis))


def mixture_llr(
    model: TwoCovariance,
    offsets: npt.ArrayLike,
    log_prior: npt.ArrayLike,
    x1: npt.ArrayLike,
    x2: npt.ArrayLike,
) -> FloatArray:
    """(m,) LLR same/different when each photo also carries an unknown pose offset.

    The pose-mixture model: ``x = y + o_c + e`` with the pose (camera) ``c`` drawn from
    ``exp(log_prior)`` (K,) independently per photo and ``o_c`` its mean offset (K, d). Both
    hypotheses sum over the photos' poses:

        p(x1, x2 | same) = sum_{c1, c2} pi_c1 pi_c2 N_same(x1 - o_c1, x2 - o_c2)
        p(x1, x2 | diff) = sum_c1 pi_c1 N(x1 - o_c1)  *  sum_c2 pi_c2 N(x2 - o_c2)

    With one pose and a zero offset this is ``llr``. Costs K^2 calls of ``llr``.
    """
    a = np.atleast_2d(np.asarray(x1, dtype=np.float64))
    b = np.atleast_2d(np.asarray(x2, dtype=np.float64))
    off = np.atleast_2d(np.asarray(offsets, dtype=np.float64))
    prior = np.asarray(log_prior, dtype=np.float64).ravel()
    if off.shape != (len(prior), model.dim):
        raise DataError(
            f"pose mixture: expected offsets of shape ({len(prior)}, {model.dim}), found "
            f"{off.shape}"
        )
    # the missing pattern of a pair: a dimension missing in one photo is dropped from both
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = np.where(both, a, np.nan), np.where(both, b, np.nan)
    marg_a = np.stack([_log_normal(model, a - o) for o in off], axis=1)  # (m, K)
    marg_b = np.stack([_log_normal(model, b - o) for o in off], axis=1)
    terms = []
    for i, oi in enumerate(off):
        for j, oj in enumerate(off):
            joint = llr(model, a - oi, b - oj) + marg_a[:, i] + marg_b[:, j]
            terms.append(prior[i] + prior[j] + joint)
    same = _logsumexp(np.stack(terms, axis=1), axis=1)
    diff = _logsumexp(marg_a + prior, axis=1) + _logsumexp(marg_b + prior, axis=1)
    return np.asarray(same - diff)


def fit_pose_mixture(
    x: npt.ArrayLike, groups: npt.ArrayLike, poses: npt.ArrayLike, *, n_iter: int = 50
) -> tuple[TwoCovariance, FloatArray, FloatArray, list[str]]:
    """The two-covariance model on pose-corrected photos, pose offsets and pose priors.

    ``poses`` (n,) names each training photo's pose (e.g. MUCT's camera). A pose's offset is
    the mean of its photos' deviations from their person's mean; the offsets are subtracted
    before the fit. Returns (model, offsets (K, d), log priors (K,), pose names).
    """
    arr, codes = _check_rows(x, groups)
    pose = np.asarray(poses).astype(str)
    names = sorted(set(pose.tolist()))
    k = int(codes.max()) + 1
    sums = np.zeros((k, arr.shape[1]))
    np.add.at(sums, codes, arr)
    resid = arr - (sums / np.bincount(codes, minlength=k)[:, None])[codes]
    offsets = np.stack([resid[pose == p].mean(axis=0) for p in names])  # (K, d)
    counts = np.array([(pose == p).sum() for p in names], dtype=np.float64)
    corrected = arr - offsets[[names.index(p) for p in pose]]
    model = fit_two_covariance(corrected, groups, n_iter=n_iter)
    return model, offsets, np.log(counts / counts.sum()), names
