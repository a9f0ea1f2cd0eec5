"""The models the MUCT benchmark compares, each fitted on one fold's training people only.

Every model turns two photos' markers into a score (higher = same person). Three kinds:

- no training: ``majority`` (a constant), ``procrustes`` (minus the Procrustes distance);
- classifiers of pair features (``logistic_*``, ``mlp_*``): features of the pair, Min-Max
  scaled and missing values filled with training means (both fitted on training pairs),
  then logistic regression or the paper's MLP (trained for all folds at once by
  ``nn.train.train_many``);
- ``plda``: the two-covariance model on aligned shapes, fitted on training photos.

Feature sets: ``raw`` (the paper's 56 pixel coordinates), ``position`` (each photo's
marker centroid and size only: the control for ``raw``), ``aligned`` (|differences| of
Procrustes-aligned coordinates and of log distance ratios; ``features.aligned``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError
from ffmatch.core.geometry import position_features, position_size, procrustes_distance
from ffmatch.core.scaling import MinMax, fit_min_max
from ffmatch.core.table import FloatArray, IntArray, PhotoTable
from ffmatch.matcher.aligned import (
    PHOTO_VECTORS,
    aligned_diff_features,
    aligned_diff_rows,
    aligned_vector_rows,
)
from ffmatch.matcher.model import SCORERS

if TYPE_CHECKING:  # the fits import scikit-learn and SciPy: only when a model is fitted
    from ffmatch.matcher.train import PLDAFit

PairFeatures = Callable[[FloatArray, FloatArray], FloatArray]
Scorer = Callable[[FloatArray, FloatArray], FloatArray]
RowFeatures = Callable[[FloatArray, IntArray, IntArray], FloatArray]
"""(coords (n, 14, 2), first (m,), second (m,)) -> (m, k): the features of the pairs
``(coords[first], coords[second])`` of one photo set, each photo's own part computed once
per photo; equal, bit for bit, to the ``PairFeatures`` of the same name on those pairs."""


def raw_features(cx: FloatArray, cy: FloatArray) -> FloatArray:
    """(m, 56) both photos' pixel coordinates, first photo first (the paper's input)."""
    return np.hstack([cx.reshape(len(cx), -1), cy.reshape(len(cy), -1)])


FEATURES: dict[str, PairFeatures] = {
    "raw": raw_features,
    "position": position_features,
    "aligned": aligned_diff_features,
}


def _raw_rows(coords: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
    return raw_features(coords[first], coords[second])


def _position_rows(coords: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
    size = position_size(coords)  # (n, 3) once per photo
    return np.hstack([size[first], size[second]])


ROW_FEATURES: dict[str, RowFeatures] = {
    "raw": _raw_rows,
    "position": _position_rows,
    "aligned": aligned_diff_rows,
}
"""``FEATURES`` by photo row indices (identification scores every pair of n photos: the
per-photo work is done n times instead of n^2)."""


@dataclass(frozen=True, slots=True)
class RowScorer:
    """A scorer that also scores pairs of one photo set by row indices (``score_rows``).

    ``rows(coords, first, second)`` gives the scores of ``(coords[first], coords[second])``;
    calling it with two coordinate arrays scores their rows pairwise, as any ``Scorer``.
    """

    rows: Callable[[FloatArray, IntArray, IntArray], FloatArray]

    def __call__(self, cx: FloatArray, cy: FloatArray) -> FloatArray:
        m = len(cx)
        return self.rows(np.concatenate([cx, cy]), np.arange(m), np.arange(m, 2 * m))


def score_rows(scorer: Scorer, coords: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
    """(m,) ``scorer``'s scores of the pairs ``(coords[first], coords[second])``."""
    if isinstance(scorer, RowScorer):
        return scorer.rows(coords, first, second)
    return scorer(coords[first], coords[second])


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


def fit_preprocess(x: FloatArray) -> MinMax:
    """Missing features filled with training means, then Min-Max; fitted on training rows only."""
    return fit_min_max(x, fill_missing=True)


def fit_logistic(x: FloatArray, y: npt.NDArray[np.int64], features: RowFeatures) -> Scorer:
    """The logistic control (``paper.evaluation.controls.fit_logistic``) on pair features,
    missing values filled; the scorer gives P(same)."""
    from ffmatch.paper.evaluation.controls import fit_logistic as fit_logistic_proba

    proba = fit_logistic_proba(x, y, fill_missing=True, max_iter=2000)
    return RowScorer(lambda c, first, second: proba(features(c, first, second)))


def fit_plda(photos: PhotoTable, *, representation: str = "aligned", n_iter: int = 30) -> Scorer:
    """PLDA (``matcher.train.fit_plda``) fitted on training ``photos``; scores the LLR."""
    from ffmatch.matcher.train import fit_plda as fit_plda_params

    fit = fit_plda_params(photos, representation=representation, n_iter=n_iter)
    return _plda_scorer(fit, representation)


def fit_plda_pose(photos: PhotoTable, poses: npt.ArrayLike, *, n_iter: int = 30) -> Scorer:
    """The pose-mixture PLDA fitted on training ``photos`` with their ``poses`` (cameras).

    Scoring needs no pose: both hypotheses sum over every photo's possible poses.
    """
    from ffmatch.matcher.train import fit_plda as fit_plda_params

    return _plda_scorer(fit_plda_params(photos, poses=poses, always_mixture=True, n_iter=n_iter))


def _plda_scorer(fit: PLDAFit, representation: str = "aligned") -> Scorer:
    if representation != "aligned":  # no row form of other representations yet
        _, pair_vectors = PHOTO_VECTORS[representation]
        return lambda cx, cy: SCORERS["plda"](fit.params, *pair_vectors(cx, cy))

    def score(coords: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
        return SCORERS["plda"](fit.params, *aligned_vector_rows(coords, first, second))

    return RowScorer(score)


def untrained_scorer(name: str, majority_label: int) -> Scorer:
    """The scorer of a model without training: ``majority`` or ``procrustes``."""
    if name == "procrustes":
        return lambda cx, cy: -procrustes_distance(cx, cy)
    return RowScorer(lambda c, first, second: np.full(len(first), float(majority_label)))
