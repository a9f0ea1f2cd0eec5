"""The models the MUCT benchmark compares, each fitted on one fold's training people only.

Every model turns two photos' markers into a score (higher = same person). Three kinds:

- no training: ``majority`` (a constant), ``procrustes`` (minus the Procrustes distance);
- classifiers of pair features (``logistic_*``, ``mlp_*``): features of the pair, Min-Max
  scaled and missing values filled with training means (both fitted on training pairs),
  then logistic regression or the paper's MLP (trained for all folds at once by
  ``nn.batched.train_many``);
- ``plda``: the two-covariance model on aligned shapes, fitted on training photos.

Feature sets: ``raw`` (the paper's 56 pixel coordinates), ``position`` (each photo's
marker centroid and size only: the control for ``raw``), ``aligned`` (|differences| of
Procrustes-aligned coordinates and of log distance ratios; ``features.aligned``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError
from ffmatch.core.table import FloatArray, PhotoTable
from ffmatch.matcher.aligned import PHOTO_VECTORS, aligned_diff_features
from ffmatch.matcher.model import SCORERS
from ffmatch.matcher.plda import fit_pose_mixture, fit_two_covariance

PairFeatures = Callable[[FloatArray, FloatArray], FloatArray]
Scorer = Callable[[FloatArray, FloatArray], FloatArray]


def raw_features(cx: FloatArray, cy: FloatArray) -> FloatArray:
    """(m, 56) both photos' pixel coordinates, first photo first (the paper's input)."""
    return np.hstack([cx.reshape(len(cx), -1), cy.reshape(len(cy), -1)])


def position_features(cx: FloatArray, cy: FloatArray) -> FloatArray:
    """(m, 6) each photo's marker centroid (x, y) and size (RMS distance to it): no shape."""

    def one(c: FloatArray) -> FloatArray:
        centroid = np.nanmean(c, axis=1)  # (m, 2)
        size = np.sqrt(np.nanmean(((c - centroid[:, None]) ** 2).sum(axis=2), axis=1))
        return np.column_stack([centroid, size])

    return np.hstack([one(cx), one(cy)])


FEATURES: dict[str, PairFeatures] = {
    "raw": raw_features,
    "position": position_features,
    "aligned": aligned_diff_features,
}


def procrustes_distance(cx: FloatArray, cy: FloatArray) -> FloatArray:
    """(m,) full Procrustes distance 1 - |<x, y>|^2 of unit-size centred shapes.

    Over the markers both photos have; rotation and scale removed (no reflection). Points
    are complex numbers, so this is vectorised over pairs.
    """
    common = ~(np.isnan(cx).any(axis=2) | np.isnan(cy).any(axis=2))  # (m, 14)

    def unit(c: FloatArray) -> npt.NDArray[np.complex128]:
        z = np.where(common, c[..., 0] + 1j * c[..., 1], 0)
        z = np.where(
            common, z - z.sum(axis=1, keepdims=True) / common.sum(axis=1, keepdims=True), 0
        )
        return np.asarray(z / np.sqrt((np.abs(z) ** 2).sum(axis=1, keepdims=True)))

    return np.asarray(1.0 - np.abs((np.conj(unit(cx)) * unit(cy)).sum(axis=1)) ** 2)


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelSpec:
    """One benchmarked model: name, how it scores, and what it is a control of."""

    name: str
    kind: Literal["none", "logistic", "mlp", "mlp_ga", "plda", "plda_pose"]
    features: str = ""  # key of FEATURES, for logistic and mlp
    description: str = ""
    control_of: str = ""  # the raw-coordinate model this position-only model is shown beside


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(name="majority", kind="none", description="always the training majority"),
    ModelSpec(name="procrustes", kind="none", description="minus the Procrustes distance"),
    ModelSpec(name="logistic_raw", kind="logistic", features="raw",
              description="logistic regression, raw coordinates (paper's input)"),
    ModelSpec(name="logistic_position", kind="logistic", features="position",
              control_of="logistic_raw", description="logistic regression, position and size only"),
    ModelSpec(name="mlp_raw", kind="mlp", features="raw",
              description="the paper's MLP 56-20-10-2, raw coordinates"),
    ModelSpec(name="mlp_position", kind="mlp", features="position", control_of="mlp_raw",
              description="the paper's MLP, position and size only"),
    ModelSpec(name="logistic_aligned", kind="logistic", features="aligned",
              description="logistic regression, aligned-shape differences"),
    ModelSpec(name="mlp_aligned", kind="mlp", features="aligned",
              description="the paper's MLP (20-10), aligned-shape differences"),
    ModelSpec(name="mlp_ga", kind="mlp_ga", features="aligned",
              description="MLP at GA-chosen settings (GA inside the training people)"),
    ModelSpec(name="plda", kind="plda", description="two-covariance PLDA on aligned shapes"),
    ModelSpec(name="plda_pose", kind="plda_pose",
              description="PLDA with a latent camera pose per photo (fitted with MUCT's cameras)"),
)  # fmt: skip
MODEL_NAMES: tuple[str, ...] = tuple(m.name for m in MODELS)
DEFAULT_MODELS: tuple[str, ...] = tuple(n for n in MODEL_NAMES if n != "mlp_ga")
"""What runs without ``--models``: all but the GA (it trains ~20 networks per fold)."""


def select_models(names: tuple[str, ...] | None) -> tuple[ModelSpec, ...]:
    """The specs of ``names`` (``DEFAULT_MODELS`` when None), in benchmark order."""
    if names is None:
        names = DEFAULT_MODELS
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        raise ConfigError(
            f"--models: unknown model {unknown[0]!r}; expected some of {', '.join(MODEL_NAMES)}"
        )
    return tuple(m for m in MODELS if m.name in names)


@dataclass(frozen=True, kw_only=True, slots=True)
class Preprocess:
    """Fill missing features with training means, then Min-Max to [0, 1] (training rows)."""

    fill: FloatArray  # (k,)
    low: FloatArray  # (k,)
    span: FloatArray  # (k,), 1 where a column is constant

    def __call__(self, x: FloatArray) -> FloatArray:
        filled = np.where(np.isnan(x), self.fill, x)
        return np.asarray((filled - self.low) / self.span)


def fit_preprocess(x: FloatArray) -> Preprocess:
    """Fitted on training rows ``x`` (n, k) only."""
    fill = np.nanmean(x, axis=0)
    fill = np.where(np.isnan(fill), 0.0, fill)
    filled = np.where(np.isnan(x), fill, x)
    low, high = filled.min(axis=0), filled.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return Preprocess(fill=fill, low=low, span=span)


def fit_logistic(x: FloatArray, y: npt.NDArray[np.int64], features: PairFeatures) -> Scorer:
    """Logistic regression (C=1) on preprocessed pair features; the scorer gives P(same)."""
    from sklearn.linear_model import LogisticRegression

    prep = fit_preprocess(x)
    clf = LogisticRegression(max_iter=2000).fit(prep(x), y)

    def score(cx: FloatArray, cy: FloatArray) -> FloatArray:
        return np.asarray(clf.predict_proba(prep(features(cx, cy)))[:, 1])

    return score


def fit_plda(photos: PhotoTable, *, representation: str = "aligned", n_iter: int = 30) -> Scorer:
    """PLDA fitted on training ``photos`` (complete ones); the scorer gives the LLR."""
    photo_vectors, pair_vectors = PHOTO_VECTORS[representation]
    x = photo_vectors(photos.coords)
    complete = np.isfinite(x).all(axis=1)
    model = fit_two_covariance(x[complete], photos.person[complete], n_iter=n_iter)
    params = {"mean": model.mean, "between": model.between, "within": model.within}

    def score(cx: FloatArray, cy: FloatArray) -> FloatArray:
        return SCORERS["plda"](params, *pair_vectors(cx, cy))

    return score


def fit_plda_pose(photos: PhotoTable, poses: npt.ArrayLike, *, n_iter: int = 30) -> Scorer:
    """The pose-mixture PLDA fitted on training ``photos`` with their ``poses`` (cameras).

    Scoring needs no pose: both hypotheses sum over every photo's possible poses.
    """
    photo_vectors, pair_vectors = PHOTO_VECTORS["aligned"]
    x = photo_vectors(photos.coords)
    complete = np.isfinite(x).all(axis=1)
    pose = np.asarray(poses)[complete]
    model, _ = fit_pose_mixture(x[complete], photos.person[complete], pose, n_iter=n_iter)
    params = {"mean": model.mean, "between": model.between, "within": model.within,
              "offsets": model.offsets, "log_prior": model.log_prior}  # fmt: skip

    def score(cx: FloatArray, cy: FloatArray) -> FloatArray:
        return SCORERS["plda"](params, *pair_vectors(cx, cy))

    return score


def untrained_scorer(name: str, majority_label: int) -> Scorer:
    """The scorer of a model without training: ``majority`` or ``procrustes``."""
    if name == "procrustes":
        return lambda cx, cy: -procrustes_distance(cx, cy)
    return lambda cx, cy: np.full(len(cx), float(majority_label))
