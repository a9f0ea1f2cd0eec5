"""The saved matching model: scores two photos' 14 markers as P(same person), and says why.

A ``MatchModel`` holds what was fitted (plain NumPy arrays), the score-to-probability
calibration, the decision threshold with its operating point, and where it came from.
The file (``.ffm``) is an uncompressed-or-compressed NumPy ``.npz`` read with
``allow_pickle=False``: the arrays, and one ``header`` entry holding a JSON document
(format name, version, kind, representation, threshold, metrics, and the sha256 checksum of
the arrays). No code is ever loaded. Loading checks every array's name, shape and type before
reading it (a file cannot make us allocate more than ``MAX_MODEL_BYTES``), then the values:
finite, covariances symmetric positive definite, a calibration that rises with the score. A
file whose arrays do not match its own checksum is damaged (or edited); a file with another
checksum is another model.

Every score goes through ``features.aligned``, so it does not depend on where the face sits
in the frame, its size or its in-plane rotation.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError, ModelError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.io.npz import read_npz
from ffmatch.core.table import FloatArray
from ffmatch.matcher.aligned import (
    MIN_COMMON,
    PHOTO_VECTORS,
    RATIO_NAMES,
    TEMPLATE,
    check_coords,
)
from ffmatch.matcher.operating import Calibration
from ffmatch.matcher.plda import PoseMixture, TwoCovariance, llr, pose_mixture_llr

FORMAT = "ffmatch-model"
VERSION = 1
DEFAULT_MODEL_FILE = "default_model.ffm"

_HEADER = "header"
MAX_MODEL_BYTES = 64 * 2**20  # the shipped models take 0.1 MB; a 28-dim, 64-pose one 0.4 MB
MAX_HEADER_CHARS = 1_000_000
MAX_POSES = 64


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
OPTIONAL_PARAMS: dict[str, tuple[str, ...]] = {"plda": ("offsets", "log_prior")}


def _vector_dim(representation: str) -> int:
    """The length of one photo's vector in ``representation`` (28 for ``aligned``)."""
    photo_vector, _ = PHOTO_VECTORS[representation]
    return int(photo_vector(TEMPLATE[None]).shape[1])


def _positive_definite(name: str, matrix: FloatArray) -> None:
    if not np.allclose(matrix, matrix.T, rtol=1e-8, atol=1e-12 * float(np.abs(matrix).max())):
        raise ModelError(f"parameter {name!r}: expected a symmetric covariance matrix")
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise ModelError(
            f"parameter {name!r}: expected a positive-definite covariance matrix"
        ) from None


def check_params(kind: str, representation: str, params: Mapping[str, FloatArray]) -> None:
    """ModelError unless ``params`` are a valid ``kind`` model of ``representation``'s vectors.

    Checks names, shapes, finiteness, covariances (symmetric positive definite) and spreads
    (not negative): a NaN mean or a zero covariance would otherwise score silently wrong.
    """
    allowed = REQUIRED_PARAMS[kind] + OPTIONAL_PARAMS[kind]
    missing = [k for k in REQUIRED_PARAMS[kind] if k not in params]
    if missing:
        raise ModelError(f"{kind} model: missing parameters {', '.join(missing)}")
    extra = sorted(set(params) - set(allowed))
    if extra:
        raise ModelError(f"{kind} model: unexpected parameters {', '.join(extra)}")
    d = _vector_dim(representation)
    within = params["within"]
    n_poses = within.shape[0] if within.ndim == 3 else 1
    expected = {
        "mean": (d,),
        "between": (d, d),
        "within": (n_poses, d, d) if within.ndim == 3 else (d, d),
        "offsets": (n_poses, d),
        "log_prior": (n_poses,),
        "ratio_within_sd": (len(RATIO_NAMES),),
    }
    if within.ndim == 3 and not {"offsets", "log_prior"} <= set(params):
        raise ModelError(f"{kind} model: a pose mixture needs 'offsets' and 'log_prior'")
    if not 1 <= n_poses <= MAX_POSES:
        raise ModelError(f"{kind} model: expected 1 to {MAX_POSES} poses, found {n_poses}")
    for name, arr in params.items():
        if arr.shape != expected[name]:
            raise ModelError(
                f"parameter {name!r}: expected shape {expected[name]}, found {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise ModelError(f"parameter {name!r}: expected finite numbers, found NaN or infinity")
    _positive_definite("between", params["between"])
    for k, w in enumerate(within.reshape(-1, d, d)):
        _positive_definite("within" if within.ndim == 2 else f"within[{k}]", w)
    if (params["ratio_within_sd"] < 0).any():
        raise ModelError("parameter 'ratio_within_sd': expected spreads >= 0, found a negative one")


def checksum(params: Mapping[str, FloatArray]) -> str:
    """sha256 of the arrays (names, shapes and little-endian float64 values, by name).

    Stored in the file's header: arrays that do not match it are a damaged file; a file
    whose checksum differs from another's is another model.
    """
    digest = hashlib.sha256()
    for name in sorted(params):
        arr = np.ascontiguousarray(params[name], dtype="<f8")
        digest.update(f"{name}:{arr.shape}\n".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


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
    marker_source: str = ""  # what placed the markers it was fitted on (MARKER_SOURCES); "" unknown

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
        check_params(self.kind, self.representation, self.params)
        if not (0.0 <= self.threshold <= 1.0):
            raise ModelError(f"threshold: expected a probability in [0, 1], found {self.threshold}")
        cal = self.calibration
        if not (math.isfinite(cal.slope) and math.isfinite(cal.intercept) and cal.slope > 0):
            raise ModelError(
                "calibration: expected a finite, positive slope (a higher score means more "
                f"likely the same person) and a finite intercept, found slope {cal.slope}, "
                f"intercept {cal.intercept}"
            )

    @property
    def checksum(self) -> str:
        """sha256 of the model's arrays (see ``checksum``): which model this is."""
        return checksum(self.params)

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
        rx, ry = distance_ratios(x)[0], distance_ratios(y)[0]
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
            "checksum": self.checksum,
            "marker_source": self.marker_source,
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
    """Read a model written by ``save_model``; ModelError saying what is wrong otherwise.

    Sizes and types are checked before any array is read, values after (``check_params``),
    and the arrays against the header's checksum.
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelError(f"{path}: expected a model file, found a folder")
    try:
        arrays = read_npz(path, max_bytes=MAX_MODEL_BYTES, check=_check_member)
    except DataError as err:
        raise ModelError(
            f"{err}; not an ffmatch model file (a .npz archive written by 'ffmatch train')"
        ) from None
    try:
        return _from_arrays(arrays, source=str(path))
    except ModelError as err:
        text = str(err)
        raise ModelError(text if text.startswith(str(path)) else f"{path}: {text}") from None


def _check_member(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse, before reading it, a member that no model file holds."""
    if name == _HEADER:
        if shape != () or dtype.kind != "U" or dtype.itemsize // 4 > MAX_HEADER_CHARS:
            raise DataError(f"member {_HEADER!r}: expected one text of at most "
                            f"{MAX_HEADER_CHARS} characters, found {dtype} {shape}")  # fmt: skip
        return
    known = {k for kind in REQUIRED_PARAMS for k in REQUIRED_PARAMS[kind] + OPTIONAL_PARAMS[kind]}
    if name not in known:
        raise DataError(f"unexpected array {name!r}; a model holds {', '.join(sorted(known))}")
    if dtype != np.dtype("<f8") or len(shape) > 3:
        raise DataError(f"array {name!r}: expected float64 of at most 3 dimensions, "
                        f"found {dtype} of shape {shape}")  # fmt: skip


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
    params = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    stored = header.get("checksum")
    if not isinstance(stored, str):
        raise ModelError(
            f"{source}: the model header has no checksum of its arrays (written by an older "
            "ffmatch): retrain it with 'ffmatch train'"
        )
    if checksum(params) != stored:
        raise ModelError(
            f"{source}: the arrays do not match the checksum in the header: the file is "
            "damaged or was edited; retrain it or copy it again"
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
            params=params,
            calibration=Calibration(slope=float(cal["slope"]), intercept=float(cal["intercept"])),
            config=dict(header.get("config", {})),
            marker_source=str(header.get("marker_source", "")),
        )
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, ModelError):
            raise
        raise ModelError(f"{source}: the model header lacks or garbles a field ({err!r})") from None


def default_model() -> MatchModel:
    """The model shipped with ffmatch (MUCT's manual landmarks; docs/matching-model.md)."""
    ref = resources.files("ffmatch.core.datasets") / "files" / DEFAULT_MODEL_FILE
    with resources.as_file(ref) as path:
        return load_model(path)
