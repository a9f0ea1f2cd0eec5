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
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.table import FloatArray, IntArray

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


def _centred_pairs(
    mean: FloatArray, x1: npt.ArrayLike, x2: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Both sides of the pairs as (m, d) rows minus the model's mean; shapes checked."""
    a = np.atleast_2d(np.asarray(x1, dtype=np.float64)) - mean
    b = np.atleast_2d(np.asarray(x2, dtype=np.float64)) - mean
    if a.shape != b.shape or a.shape[1] != len(mean):
        raise DataError(
            f"two-covariance score: expected two (m, {len(mean)}) matrices, found {a.shape} "
            f"and {b.shape}"
        )
    return a, b


def _shared_patterns(a: FloatArray, b: FloatArray) -> Iterator[tuple[IntArray, IntArray]]:
    """(rows, dims) per pattern of dimensions present in both photos; empty patterns skipped.

    Pairs are grouped so each pattern's marginal covariances are inverted once.
    """
    both = ~(np.isnan(a) | np.isnan(b))  # (m, d)
    if both.shape[1] <= 64:
        # each row's pattern as one 64-bit key: a sort of m integers, far cheaper than
        # np.unique(axis=0)'s sort of m rows; the same groups (patterns come in another order)
        packed = np.zeros((len(both), 8), dtype=np.uint8)
        packed[:, : (both.shape[1] + 7) // 8] = np.packbits(both, axis=1)
        _, first, inverse = np.unique(packed.view(np.uint64).ravel(), return_index=True,
                                      return_inverse=True)  # fmt: skip
        patterns = both[first]
    else:
        patterns, inverse = np.unique(both, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        dims = np.flatnonzero(pattern)
        if len(dims):
            yield np.flatnonzero(inverse.ravel() == k), dims


def llr(model: TwoCovariance, x1: npt.ArrayLike, x2: npt.ArrayLike) -> FloatArray:
    """(m,) log-likelihood ratio same/different of rows of ``x1`` and ``x2`` (m, d).

    A dimension NaN in either row is left out of that pair's score (the Gaussian marginal);
    pairs are grouped by which dimensions they share, so each pattern costs one inversion.
    A pair sharing no dimension scores 0 (no evidence either way).
    """
    a, b = _centred_pairs(model.mean, x1, x2)
    out = np.zeros(len(a))
    for rows, dims in _shared_patterns(a, b):
        sc = _scorer(model, dims)
        u, v = a[np.ix_(rows, dims)], b[np.ix_(rows, dims)]
        out[rows] = (
            0.5 * np.einsum("md,de,me->m", u, sc.q, u)
            + 0.5 * np.einsum("md,de,me->m", v, sc.q, v)
            + np.einsum("md,de,me->m", u, sc.p, v)
            + sc.const
        )
    return out


def _log_gaussian(v: FloatArray, cov: FloatArray) -> FloatArray:
    """(m,) log N(v; 0, cov) of rows v (m, k), through a Cholesky factor.

    Rows are whitened by the factor's inverse (one (m, k) x (k, k) product) rather than by
    a solve against m right-hand sides: the same numbers to rounding, several times faster.
    """
    chol = np.linalg.cholesky(cov)
    z = v @ np.linalg.inv(chol).T  # (m, k) whitened rows
    half_logdet = float(np.log(np.diag(chol)).sum())
    squares = np.square(z, out=z).sum(axis=1)  # z**2 in place: the same numbers, no copy
    return np.asarray(-0.5 * squares - half_logdet - 0.5 * v.shape[1] * np.log(2 * np.pi))


def _logsumexp(a: FloatArray, axis: int) -> FloatArray:
    top = a.max(axis=axis, keepdims=True)
    return np.asarray((top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis))


@dataclass(frozen=True, kw_only=True, slots=True)
class PoseMixture:
    """The two-covariance model with a latent pose per photo (see ``pose_mixture_llr``).

    ``x = y + o_c + e_c``: person ``y ~ N(mean, between)``; pose ``c`` drawn with
    probability ``exp(log_prior[c])``; its mean offset ``offsets[c]`` (K, d) and its own
    within-person covariance ``within[c]`` (K, d, d). One pose with a zero offset is the
    plain two-covariance model.
    """

    mean: FloatArray  # (d,)
    between: FloatArray  # (d, d)
    within: FloatArray  # (K, d, d)
    offsets: FloatArray  # (K, d)
    log_prior: FloatArray  # (K,)

    @property
    def dim(self) -> int:
        """Feature dimension d."""
        return len(self.mean)

    @classmethod
    def single(cls, model: TwoCovariance) -> PoseMixture:
        """The plain model as a one-pose mixture."""
        return cls(
            mean=model.mean,
            between=model.between,
            within=model.within[None],
            offsets=np.zeros((1, model.dim)),
            log_prior=np.zeros(1),
        )


def pose_mixture_llr(model: PoseMixture, x1: npt.ArrayLike, x2: npt.ArrayLike) -> FloatArray:
    """(m,) LLR same/different, summing over both photos' unknown poses.

        p(x1, x2 | same) = sum_{c1, c2} pi_c1 pi_c2 N([x1 - o_c1; x2 - o_c2]; [mu; mu],
                                                      [[B + W_c1, B], [B, B + W_c2]])
        p(x1, x2 | diff) = sum_c1 pi_c1 N(x1 - o_c1; mu, B + W_c1) * (the same for x2)

    Dimensions missing in either photo are left out of the pair (Gaussian marginals),
    pairs grouped by missing pattern. Costs 2K + K^2 Gaussians of dimension d per pattern.
    """
    a, b = _centred_pairs(model.mean, x1, x2)
    k = len(model.log_prior)
    prior = model.log_prior
    out = np.zeros(len(a))
    for rows, dims in _shared_patterns(a, b):
        sub = np.ix_(dims, dims)
        bd = model.between[sub]
        u, v = a[np.ix_(rows, dims)], b[np.ix_(rows, dims)]
        off = model.offsets[:, dims]  # (K, k)
        tot = [bd + model.within[c][sub] for c in range(k)]
        marg_u = np.stack([_log_gaussian(u - off[c], tot[c]) for c in range(k)], axis=1)
        marg_v = np.stack([_log_gaussian(v - off[c], tot[c]) for c in range(k)], axis=1)
        # the joint Gaussian of (x1, x2) in poses (i, j) factorises as x1's marginal times
        # x2 given x1: mean B T_i^-1 (x1 - o_i), covariance S_ij = T_j - B T_i^-1 B. That is
        # K^2 Gaussians of dimension k instead of 2k (a quarter of the work), and x1's
        # marginal is marg_u, already computed
        terms = np.empty((len(rows), k, k))
        v_off = [v - off[j] for j in range(k)]  # (v - o_j) - pred below, as written there
        for i in range(k):
            gain = np.linalg.solve(tot[i], bd)  # (k, k) T_i^-1 B
            pred = (u - off[i]) @ gain  # (m, k) rows of B T_i^-1 (x1 - o_i)
            cond = bd @ gain
            for j in range(k):
                s_ij = tot[j] - cond
                terms[:, i, j] = (
                    prior[i]
                    + prior[j]
                    + marg_u[:, i]
                    + _log_gaussian(v_off[j] - pred, (s_ij + s_ij.T) / 2)
                )
        same = _logsumexp(terms.reshape(len(rows), k * k), axis=1)  # (i, j) in row-major order
        diff = _logsumexp(marg_u + prior, axis=1) + _logsumexp(marg_v + prior, axis=1)
        out[rows] = same - diff
    return out


def fit_pose_mixture(
    x: npt.ArrayLike,
    groups: npt.ArrayLike,
    poses: npt.ArrayLike,
    *,
    n_iter: int = 50,
    ridge: float = 1e-6,
) -> tuple[PoseMixture, list[str]]:
    """A ``PoseMixture`` fitted on photos ``x`` (n, d) of persons ``groups`` in ``poses`` (n,).

    A pose's offset is the mean of its photos' deviations from their person's mean; the
    two-covariance model is fitted by EM on the corrected photos; then each pose's within
    covariance is the M-step's within covariance over that pose's photos alone. Returns
    the model and the pose names in its order. With one pose it is ``fit_two_covariance``.
    """
    arr, codes = _check_rows(x, groups)
    pose = np.asarray(poses).astype(str)
    if pose.shape != (len(arr),):
        raise DataError(f"poses: expected one pose per row ({len(arr)}), found {pose.shape}")
    names = sorted(set(pose.tolist()))
    pose_index = np.array([names.index(p) for p in pose])
    k = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    sums = np.zeros((k, arr.shape[1]))
    np.add.at(sums, codes, arr)
    resid = arr - (sums / counts[:, None])[codes]
    offsets = np.stack([resid[pose_index == c].mean(axis=0) for c in range(len(names))])
    corrected = arr - offsets[pose_index]
    model = fit_two_covariance(corrected, groups, n_iter=n_iter, ridge=ridge)
    # one more E-step: each person's posterior mean and covariance; then W per pose
    b_inv, w_inv = np.linalg.inv(model.between), np.linalg.inv(model.within)
    corrected_sums = np.zeros_like(sums)
    np.add.at(corrected_sums, codes, corrected)
    d = arr.shape[1]
    gamma = np.empty_like(sums)
    post = np.empty((k, d, d))
    for size in np.unique(counts):
        who = counts == size
        cov = np.linalg.inv(b_inv + size * w_inv)
        gamma[who] = (b_inv @ model.mean + corrected_sums[who] @ w_inv) @ cov
        post[who] = cov
    eps = ridge * float(np.trace(np.cov(corrected.T)) / d) * np.eye(d)  # as in the fit
    within = np.empty((len(names), d, d))
    for c in range(len(names)):
        rows = pose_index == c
        dev = corrected[rows] - gamma[codes[rows]]
        w = (dev.T @ dev + post[codes[rows]].sum(axis=0)) / rows.sum()
        within[c] = (w + w.T) / 2 + eps
    counts_pose = np.bincount(pose_index, minlength=len(names)).astype(np.float64)
    mixture = PoseMixture(
        mean=model.mean,
        between=model.between,
        within=within,
        offsets=offsets,
        log_prior=np.log(counts_pose / counts_pose.sum()),
    )
    return mixture, names
