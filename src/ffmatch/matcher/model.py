"""The saved matching model: scores two photos' 14 markers as P(same person), and says why.

A ``MatchModel`` holds what was fitted (plain NumPy arrays), the score-to-probability
calibration, the decision threshold with its operating point, and where it came from.
The file (``.ffm``) is an uncompressed-or-compressed NumPy ``.npz`` read with
``allow_pickle=False``: the arrays, and one ``header`` entry holding a JSON document
(format name, version, kind, representation, threshold, metrics). No code is ever loaded.

Every score goes through ``features.aligned``, so it does not depend on where the face sits
in the frame, its size or its in-plane rotation.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ModelError
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.table import FloatArray
from ffmatch.matcher.aligned import (
    MIN_COMMON,
    PHOTO_VECTORS,
    RATIO_NAMES,
    check_coords,
    photo_ratios,
)
from ffmatch.matcher.operating import Calibration
from ffmatch.matcher.plda import PoseMixture, TwoCovariance, llr, pose_mixture_llr

FORMAT = "ffmatch-model"
VERSION = 1
DEFAULT_MODEL_FILE = "default_model.ffm"

_HEADER = "header"


@dataclass(frozen=True, kw_only=True, slots=True)
class Evidence:
    """One scale-free feature of a pair: both photos' values and how unusual their gap is.

    ``typical`` is the within-person standard deviation of the feature that the model
    learned; ``score = |difference| / typical`` (a z-like number: 1 is an ordinary gap for
    two photos of one person, 3 is a large one).
    """

    name: str
    value_x: float
    value_y: float
    difference: float
    typical: float
    score: float


def plda_from_params(params: Mapping[str, FloatArray]) -> PoseMixture:
    """The (pose-mixture) two-covariance model held in a model file's arrays.

    ``within`` is (d, d) for the plain model, (K, d, d) with ``offsets`` (K, d) and
    ``log_prior`` (K,) for a pose mixture.
    """
    within = np.asarray(params["within"])
    if within.ndim == 2:
        plain = TwoCovariance(mean=params["mean"], between=params["between"], within=within)
        return PoseMixture.single(plain)
    return PoseMixture(
        mean=params["mean"],
        between=params["between"],
        within=within,
        offsets=params["offsets"],
        log_prior=params["log_prior"],
    )


def _plda_scores(params: Mapping[str, FloatArray], vx: FloatArray, vy: FloatArray) -> FloatArray:
    model = plda_from_params(params)
    if len(model.log_prior) == 1 and not model.offsets.any():  # plain model: the faster form
        plain = TwoCovariance(mean=model.mean, between=model.between, within=model.within[0])
        return llr(plain, vx, vy)
    return pose_mixture_llr(model, vx, vy)


SCORERS: dict[str, Callable[[Mapping[str, FloatArray], FloatArray, FloatArray], FloatArray]] = {
    "plda": _plda_scores,
}
"""Raw score (higher = same) of each model kind, from its parameters and the pair's vectors."""

REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "plda": ("mean", "between", "within", "ratio_within_sd"),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchModel:
    """A fitted matcher of two photos' markers, with its threshold and provenance."""

    kind: str  # how pairs are scored: a key of SCORERS
    representation: str  # the per-photo vectors it scores: a key of features.aligned.PHOTO_VECTORS
    threshold: float  # decision threshold on probability, chosen on validation data
    operating_point: str  # what the threshold achieves, e.g. "equal error rate on ..."
    training_data: str  # what it was trained on, named
    metrics: Mapping[str, Any]  # validation metrics recorded at training time
    params: Mapping[str, FloatArray]  # the fitted arrays (see REQUIRED_PARAMS)
    calibration: Calibration  # raw score -> probability
    config: Mapping[str, Any] = field(default_factory=dict)  # training settings, for the record

    def __post_init__(self) -> None:
        if self.kind not in SCORERS:
            raise ModelError(
                f"model kind {self.kind!r} is unknown; expected one of {', '.join(SCORERS)}"
            )
        if self.representation not in PHOTO_VECTORS:
            raise ModelError(
                f"model representation {self.representation!r} is unknown; expected one of "
                f"{', '.join(PHOTO_VECTORS)}"
            )
        missing = [k for k in REQUIRED_PARAMS[self.kind] if k not in self.params]
        if missing:
            raise ModelError(f"{self.kind} model: missing parameters {', '.join(missing)}")
        if not (0.0 <= self.threshold <= 1.0):
            raise ModelError(f"threshold: expected a probability in [0, 1], found {self.threshold}")

    def scores(self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> FloatArray:
        """(m,) raw scores (log-likelihood ratio for PLDA) of (m, 14, 2) x (m, 14, 2) markers.

        NaN for a pair with fewer than ``MIN_COMMON`` (3) markers present in both photos:
        there is no shape to compare.
        """
        x = check_coords(coords_x, "coords_x")
        y = check_coords(coords_y, "coords_y")
        if x.shape != y.shape:
            raise ModelError(
                f"coords_x and coords_y: expected the same number of photos, found {len(x)} "
                f"and {len(y)}"
            )
        _, pair_vectors = PHOTO_VECTORS[self.representation]
        vx, vy = pair_vectors(x, y)
        out = SCORERS[self.kind](self.params, vx, vy)
        common = (~(np.isnan(x).any(axis=2) | np.isnan(y).any(axis=2))).sum(axis=1)
        return np.where(common >= MIN_COMMON, out, np.nan)

    def probability(self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> FloatArray:
        """(m,14,2) x (m,14,2) markers in WIDE_ORDER (pixels; NaN = missing) -> (m,) P(same)."""
        return self.calibration.probability(self.scores(coords_x, coords_y))

    def decide(self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """(m,) True where P(same) is above the model's threshold (False where it is NaN)."""
        return np.asarray(self.probability(coords_x, coords_y) > self.threshold)

    def evidence(self, coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> list[Evidence]:
        """For ONE pair ((14,2),(14,2)): each distance over the eye width, most-differing first.

        Features missing in either photo are left out, and so is the reference length itself
        (eye width over eye width is always 1).
        """
        x = check_coords(np.asarray(coords_x, dtype=np.float64)[None], "coords_x")
        y = check_coords(np.asarray(coords_y, dtype=np.float64)[None], "coords_y")
        rx, ry = photo_ratios(x)[0], photo_ratios(y)[0]
        typical = self.params["ratio_within_sd"]
        out = []
        for k, name in enumerate(RATIO_NAMES):
            spread = float(typical[k])
            if not (math.isfinite(rx[k]) and math.isfinite(ry[k]) and spread > 0):
                continue
            diff = float(ry[k] - rx[k])
            out.append(
                Evidence(
                    name=name,
                    value_x=float(rx[k]),
                    value_y=float(ry[k]),
                    difference=diff,
                    typical=spread,
                    score=abs(diff) / spread,
                )
            )
        return sorted(out, key=lambda e: -e.score)

    def header(self) -> dict[str, Any]:
        """The JSON part of the file: everything but the arrays."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "representation": self.representation,
            "threshold": self.threshold,
            "operating_point": self.operating_point,
            "training_data": self.training_data,
            "metrics": dict(self.metrics),
            "calibration": {
                "slope": self.calibration.slope,
                "intercept": self.calibration.intercept,
            },
            "config": dict(self.config),
            "params": sorted(self.params),
        }


def save_model(model: MatchModel, path: Path) -> None:
    """Write ``model`` to ``path`` (.npz with a JSON header), atomically."""
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in model.params.items()}
    if _HEADER in arrays:
        raise ModelError(f"parameter name {_HEADER!r} is reserved for the file header")
    arrays[_HEADER] = np.array(json.dumps(model.header(), allow_nan=False, sort_keys=True))
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def load_model(path: Path) -> MatchModel:
    """Read a model written by ``save_model``; ModelError saying what is wrong otherwise."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: expected a model file, found a folder") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ModelError(
            f"{path}: not an ffmatch model file (expected a .npz archive written by "
            f"'ffmatch train'; {err})"
        ) from None
    return _from_arrays(arrays, source=str(path))


def _from_arrays(arrays: dict[str, np.ndarray], *, source: str) -> MatchModel:
    if _HEADER not in arrays:
        raise ModelError(f"{source}: not an ffmatch model file (no header entry)")
    try:
        header = json.loads(str(arrays.pop(_HEADER)))
    except json.JSONDecodeError as err:
        raise ModelError(f"{source}: the model header is not valid JSON ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelError(f"{source}: not an ffmatch model file (format is not {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ModelError(
            f"{source}: model file version {header.get('version')!r}; this ffmatch reads "
            f"version {VERSION}: retrain it with 'ffmatch train' or upgrade ffmatch"
        )
    try:
        cal = header["calibration"]
        return MatchModel(
            kind=str(header["kind"]),
            representation=str(header["representation"]),
            threshold=float(header["threshold"]),
            operating_point=str(header["operating_point"]),
            training_data=str(header["training_data"]),
            metrics=dict(header["metrics"]),
            params={k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()},
            calibration=Calibration(slope=float(cal["slope"]), intercept=float(cal["intercept"])),
            config=dict(header.get("config", {})),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ModelError(f"{source}: the model header lacks or garbles a field ({err!r})") from None


def default_model() -> MatchModel:
    """The model shipped with ffmatch (MUCT's manual landmarks; docs/matching-model.md)."""
    ref = resources.files("ffmatch.core.datasets") / "files" / DEFAULT_MODEL_FILE
    with resources.as_file(ref) as path:
        return load_model(path)
