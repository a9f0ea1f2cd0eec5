"""Fit a ``MatchModel`` on photos with person ids: PLDA on training people, threshold on others.

People (never photos) are split into a training and a validation part. The two-covariance
model and the evidence's within-person spreads are fitted on the training people; the
score-to-probability calibration, the threshold (equal error rate) and the recorded metrics
come from genuine and impostor pairs of the validation people, whom the fit never saw.
The shipped model is the one fitted on the training people (no refit on all), so its
recorded metrics describe exactly the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.metrics import binary_metrics
from ffmatch.core.pairs import person_pairs
from ffmatch.core.serial import to_mapping
from ffmatch.core.table import BoolArray, FloatArray, PhotoTable
from ffmatch.matcher.aligned import PHOTO_VECTORS
from ffmatch.matcher.model import SCORERS, MatchModel
from ffmatch.matcher.operating import (
    accept_rate_at_far,
    equal_error_rate,
    fit_calibration,
)
from ffmatch.matcher.plda import fit_pose_mixture, fit_two_covariance

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainConfig:
    """Settings of ``train_match_model``."""

    representation: str = "aligned"  # per-photo vectors (features.aligned.PHOTO_VECTORS)
    val_fraction: float = 0.2  # share of people kept out of the fit, for calibration/threshold
    impostor_ratio: float = 2.0  # validation pairs: impostors per genuine pair (the paper's 1:2)
    n_iter: int = 50  # EM iterations of the two-covariance fit
    seed: int = 0  # the people split and the validation pairs


def split_people(
    persons: npt.ArrayLike, *, val_fraction: float, seed: int
) -> tuple[BoolArray, BoolArray]:
    """(train, val) row masks, each person on one side, ``val_fraction`` of the people in val."""
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(
            f"val_fraction: expected a fraction between 0 and 1, found {val_fraction}"
        )
    p = np.asarray(persons)
    people = np.unique(p)
    n_val = round(val_fraction * len(people))
    if n_val < 2 or len(people) - n_val < 2:
        raise DataError(
            f"{len(people)} people are too few to keep {val_fraction:.0%} of them for "
            "validation: expected at least 2 on each side"
        )
    val_people = np.random.default_rng(seed).choice(people, size=n_val, replace=False)
    val = np.isin(p, val_people)
    return ~val, val


def within_person_sd(values: FloatArray, persons: npt.ArrayLike) -> FloatArray:
    """(k,) pooled within-person standard deviation of each column of ``values`` (n, k).

    Each photo's deviation from its person's mean, pooled as sqrt(sum dev^2 / (n - people));
    NaN entries are skipped. Columns never seen twice for a person get NaN.
    """
    _, codes = np.unique(np.asarray(persons), return_inverse=True)
    k = int(codes.max()) + 1
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    counts = np.zeros((k, values.shape[1]))
    sums = np.zeros((k, values.shape[1]))
    np.add.at(counts, codes, ok.astype(np.float64))
    np.add.at(sums, codes, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        dev2 = np.where(ok, (values - means[codes]) ** 2, 0.0).sum(axis=0)
        dof = counts.sum(axis=0) - (counts > 0).sum(axis=0)
        return np.asarray(np.sqrt(dev2 / np.where(dof > 0, dof, np.nan)))


@dataclass(frozen=True, kw_only=True, slots=True)
class PLDAFit:
    """A fitted PLDA as ``SCORERS["plda"]`` takes it, with what it was fitted on."""

    params: dict[str, FloatArray]  # mean, between, within (+ offsets, log_prior: a mixture)
    poses: list[str]  # the mixture's poses in order; the one pose name otherwise
    n_photos: int  # complete photos the EM saw


def fit_plda(
    photos: PhotoTable,
    *,
    representation: str = "aligned",
    poses: npt.ArrayLike | None = None,
    always_mixture: bool = False,
    n_iter: int = 50,
) -> PLDAFit:
    """PLDA on ``photos``' per-photo vectors (the complete ones: EM needs every feature).

    With ``poses`` (n,) naming more than one pose among those photos, the pose mixture
    (``matcher.plda.fit_pose_mixture``, which needs no pose when scoring); otherwise the
    two-covariance model. ``always_mixture`` fits the mixture even for one pose (the MUCT
    benchmark's ``plda_pose`` on frontal photos; it differs from the two-covariance model
    only in rounding and in its one extra E-step).
    """
    photo_vectors, _ = PHOTO_VECTORS[representation]
    x = photo_vectors(photos.coords)
    complete = np.isfinite(x).all(axis=1)  # pairs with a missing feature marginalise later
    pose = np.full(len(photos), "all") if poses is None else np.asarray(poses).astype(str)
    if pose.shape != (len(photos),):
        raise DataError(f"poses: expected one pose per photo ({len(photos)}), found {pose.shape}")
    fit_pose = pose[complete]
    if len(set(fit_pose.tolist())) > 1 or (always_mixture and poses is not None):
        mixture, names = fit_pose_mixture(
            x[complete], photos.person[complete], fit_pose, n_iter=n_iter
        )
        params = {
            "mean": mixture.mean,
            "between": mixture.between,
            "within": mixture.within,
            "offsets": mixture.offsets,
            "log_prior": mixture.log_prior,
        }
        return PLDAFit(params=params, poses=names, n_photos=int(complete.sum()))
    plda = fit_two_covariance(x[complete], photos.person[complete], n_iter=n_iter)
    return PLDAFit(
        params={"mean": plda.mean, "between": plda.between, "within": plda.within},
        poses=sorted(set(fit_pose.tolist())),
        n_photos=int(complete.sum()),
    )


def verification_metrics(labels: npt.ArrayLike, scores: FloatArray, proba: FloatArray,
                         threshold: float) -> dict[str, float]:  # fmt: skip
    """ROC-AUC, EER, accept rate at 1% false accepts, and accuracy/F1 at ``threshold``."""
    m = binary_metrics(labels, proba, threshold)
    eer, _ = equal_error_rate(labels, scores)
    return {
        "roc_auc": m.roc_auc,
        "eer": eer,
        "tar_at_far_1pct": accept_rate_at_far(labels, scores, 0.01),
        "accuracy": m.accuracy,
        "f1": m.f1,
        "n_pairs": float(m.n),
    }


def train_match_model(
    photos: PhotoTable,
    *,
    config: TrainConfig | None = None,
    training_data: str,
    poses: npt.ArrayLike | None = None,
    marker_source: str = "",
) -> MatchModel:
    """A PLDA ``MatchModel`` fitted on ``photos``' training people, calibrated on the others.

    ``poses`` (n,) names each photo's pose where known (MUCT's camera): the model is then a
    pose mixture (``matching.plda.PoseMixture``), which needs no pose when scoring.
    ``marker_source`` (``matcher.marker_source``) is recorded so that markers of another
    source are refused later.
    """
    cfg = config or TrainConfig()
    if cfg.representation not in PHOTO_VECTORS:
        raise ConfigError(
            f"representation: expected one of {', '.join(PHOTO_VECTORS)}, found "
            f"{cfg.representation!r}"
        )
    split_seed, pair_seed = (int(s.generate_state(1)[0]) for s in
                             np.random.SeedSequence(cfg.seed).spawn(2))  # fmt: skip
    train, val = split_people(photos.person, val_fraction=cfg.val_fraction, seed=split_seed)
    fit_photos, val_photos = (
        photos.subset(np.flatnonzero(train)),
        photos.subset(np.flatnonzero(val)),
    )
    if poses is not None and np.shape(poses) != (len(photos),):
        raise DataError(
            f"poses: expected one pose per photo ({len(photos)}), found {np.shape(poses)}"
        )
    logger.info("fitting the PLDA on the photos of %d people", len(np.unique(fit_photos.person)))
    fit = fit_plda(
        fit_photos,
        representation=cfg.representation,
        poses=None if poses is None else np.asarray(poses)[train],
        n_iter=cfg.n_iter,
    )
    params = dict(fit.params)
    params["ratio_within_sd"] = within_person_sd(
        distance_ratios(fit_photos.coords), fit_photos.person
    )
    pairs = person_pairs(val_photos, impostor_ratio=cfg.impostor_ratio, seed=pair_seed)
    _, pair_vectors = PHOTO_VECTORS[cfg.representation]
    coords = val_photos.coords
    scores = SCORERS["plda"](params, *pair_vectors(coords[pairs.first], coords[pairs.second]))
    calibration = fit_calibration(pairs.label, scores)
    _, score_threshold = equal_error_rate(pairs.label, scores)
    threshold = float(calibration.probability(np.array([score_threshold]))[0])
    proba = calibration.probability(scores)
    n_people = len(np.unique(photos.person))
    metrics: dict[str, Any] = {
        **verification_metrics(pairs.label, scores, proba, threshold),
        "train_people": len(np.unique(fit_photos.person)),
        "val_people": len(np.unique(val_photos.person)),
        "train_photos": fit.n_photos,
        "poses": fit.poses,
    }
    return MatchModel(
        kind="plda",
        representation=cfg.representation,
        threshold=threshold,
        operating_point=(
            f"equal error rate on the validation people's pairs ({metrics['val_people']} of "
            f"{n_people} people, never seen by the fit)"
        ),
        training_data=training_data,
        metrics=metrics,
        params=params,
        calibration=calibration,
        config=to_mapping(cfg),
        marker_source=marker_source,
    )
