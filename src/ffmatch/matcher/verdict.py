"""One calibrated probability and a three-level verdict from geometry and appearance.

Two kinds of evidence about a pair of faces:

- **geometry**: the 14 markers, scored by a PLDA ``MatchModel`` (log-likelihood ratio ``g``);
- **appearance**: the Euclidean distance ``a`` between dlib's 128-number descriptors.

A logistic fusion turns them into P(same person) = sigmoid(w0 + w_g * g + w_a * a), fitted
with balanced class weights, so P assumes even odds before the photos are looked at. One
logistic per evidence (``geometry``, ``appearance``, ``both``), each with two bands set on
people never used to fit it: P at or above ``same`` is called "same", at or below
``different`` "different", and between them "inconclusive"; the bands are placed so that
at most 1% of same-person pairs are called different and at most 1% of different-person
pairs same (``fit_logistics``). ``g`` is clipped to the range seen when fitting, so a
broken mesh cannot make the markers outvote everything else.

Doubts widen a verdict to "inconclusive", with the reason (``doubts``): a small face,
implausible markers, head poses or expressions too different for the markers, geometry and
appearance strongly disagreeing. Markers that an expression moves (the lips and chin when
one mouth is open, the nose wings and lips when one face smiles) are left out of the
geometry of that pair.

``score_against`` scores one face against N stored faces in chunks of NumPy work; the
archive searches a million faces with it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError, DataError, ModelError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.markers import N_MARKERS, WIDE_ORDER
from ffmatch.core.table import DESCRIPTOR_SIZE, QUALITY_COLUMNS, FloatArray, PhotoTable
from ffmatch.matcher.aligned import RATIO_NAMES
from ffmatch.matcher.model import MatchModel, load_model, save_model
from ffmatch.matcher.words import distance_code, distance_words

if TYPE_CHECKING:
    from ffmatch.matcher.photos.extract import Extraction, Face, FaceChoice, FaceMeshExtractor

Verdict = Literal["same", "inconclusive", "different"]
Evidence = Literal["geometry", "appearance", "both"]
EVIDENCES: tuple[Evidence, ...] = get_args(Evidence)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

FORMAT = "ffmatch-verdict"
VERSION = 1
VERDICT_MODEL_FILE = "verdict_model.json"
MARKER_SOURCE = "mediapipe"  # markers found by ffmatch landmarks extract (MediaPipe face mesh)

BAND_MEANINGS: dict[Verdict, str] = {
    "same": "same person: P at or above the 'same' band, where at most 1% of different-person "
    "pairs of people never used for fitting fell",
    "different": "different people: P at or below the 'different' band, where at most 1% of "
    "same-person pairs of such people fell",
    "inconclusive": "inconclusive: P between the bands, or a doubt (small face, implausible "
    "markers, pose or expression too different, geometry and appearance disagree)",
}
"""What each verdict means, for --help, the docs and the JSON output."""

VERDICT_WORDS: dict[Verdict, str] = {
    "same": "same person",
    "inconclusive": "inconclusive",
    "different": "different people",
}
"""Each verdict as the text, the figure and the web page print it."""

# Markers an expression moves: left out of the geometry when only one photo shows it.
SMILE_MARKERS = ("rtal", "ltal", "ls", "sto", "li")
OPEN_MOUTH_MARKERS = ("sto", "li", "sm", "pg", "me")
_SMILE = np.isin(np.array(WIDE_ORDER), SMILE_MARKERS)
_OPEN = np.isin(np.array(WIDE_ORDER), OPEN_MOUTH_MARKERS)

CHUNK = 65_536  # faces per NumPy step in score_against: bounds memory at about 100 MB

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


# ----------------------------------------------------------------------------- faces


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceEvidence:
    """What one face offers: its 14 markers, descriptor and quality values."""

    markers: FloatArray  # (14, 2) pixels, WIDE_ORDER; NaN where missing
    descriptor: Float32Array | None = None  # (128,), None without dlib
    eye_distance: float = math.nan  # pixels between the iris centres; NaN if unknown
    yaw: float = 0.0  # degrees
    pitch: float = 0.0
    mouth_open: bool = False
    smiling: bool = False

    @classmethod
    def from_face(cls, face: Face) -> FaceEvidence:
        q = face.quality
        return cls(
            markers=face.markers,
            descriptor=face.descriptor,
            eye_distance=q.eye_distance,
            yaw=q.yaw,
            pitch=q.pitch,
            mouth_open=q.mouth_open,
            smiling=q.smiling,
        )

    @classmethod
    def from_extraction(cls, ex: Extraction) -> FaceEvidence:
        """The chosen face of ``ex``; DataError naming the photo if it has none."""
        ex.require()
        assert ex.face is not None  # require() raised otherwise
        return cls.from_face(ex.face)


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceEvidenceArray:
    """N faces' evidence stacked (a gallery, an archive): the columns of ``FaceEvidence``."""

    markers: FloatArray  # (N, 14, 2)
    descriptors: Float32Array  # (N, 128); NaN rows where a face has none
    eye_distance: FloatArray  # (N,)
    yaw: FloatArray  # (N,)
    pitch: FloatArray  # (N,)
    mouth_open: BoolArray  # (N,)
    smiling: BoolArray  # (N,)

    def __post_init__(self) -> None:
        n = len(self.markers)
        if self.markers.shape != (n, N_MARKERS, 2):
            raise DataError(f"markers: expected shape (N, 14, 2), found {self.markers.shape}")
        if self.descriptors.shape != (n, DESCRIPTOR_SIZE):
            raise DataError(
                f"descriptors: expected shape ({n}, {DESCRIPTOR_SIZE}), found "
                f"{self.descriptors.shape}"
            )
        for name in ("eye_distance", "yaw", "pitch", "mouth_open", "smiling"):
            if getattr(self, name).shape != (n,):
                raise DataError(f"{name}: expected shape ({n},), found {getattr(self, name).shape}")

    def __len__(self) -> int:
        return len(self.markers)

    @classmethod
    def stack(cls, faces: Sequence[FaceEvidence]) -> FaceEvidenceArray:
        nan = np.full(DESCRIPTOR_SIZE, np.nan, dtype=np.float32)
        return cls(
            markers=np.stack([f.markers for f in faces]).reshape(-1, N_MARKERS, 2),
            descriptors=np.stack(
                [nan if f.descriptor is None else f.descriptor for f in faces]
            ).reshape(-1, DESCRIPTOR_SIZE),
            eye_distance=np.array([f.eye_distance for f in faces], dtype=np.float64),
            yaw=np.array([f.yaw for f in faces], dtype=np.float64),
            pitch=np.array([f.pitch for f in faces], dtype=np.float64),
            mouth_open=np.array([f.mouth_open for f in faces], dtype=bool),
            smiling=np.array([f.smiling for f in faces], dtype=bool),
        )

    @classmethod
    def from_table(cls, table: PhotoTable) -> FaceEvidenceArray:
        """A landmark table's faces (``landmarks extract`` output); quality NaN if absent."""
        n = len(table)
        q = (
            table.quality
            if table.quality is not None
            else np.full((n, len(QUALITY_COLUMNS)), np.nan)
        )
        col = {c: q[:, k] for k, c in enumerate(QUALITY_COLUMNS)}
        d = table.descriptors
        return cls(
            markers=table.coords,
            descriptors=(
                np.full((n, DESCRIPTOR_SIZE), np.nan, dtype=np.float32)
                if d is None
                else d.astype(np.float32)
            ),
            eye_distance=col["eye_distance"],
            yaw=np.nan_to_num(col["yaw"]),
            pitch=np.nan_to_num(col["pitch"]),
            mouth_open=col["mouth_open"] == 1.0,
            smiling=col["smiling"] == 1.0,
        )

    def row(self, i: int) -> FaceEvidence:
        """Face ``i`` alone."""
        d = self.descriptors[i]
        return FaceEvidence(
            markers=self.markers[i],
            descriptor=None if np.isnan(d).any() else d,
            eye_distance=float(self.eye_distance[i]),
            yaw=float(self.yaw[i]),
            pitch=float(self.pitch[i]),
            mouth_open=bool(self.mouth_open[i]),
            smiling=bool(self.smiling[i]),
        )

    def take(self, rows: npt.ArrayLike | slice) -> FaceEvidenceArray:
        idx = rows if isinstance(rows, slice) else np.asarray(rows)
        return FaceEvidenceArray(
            markers=self.markers[idx],
            descriptors=self.descriptors[idx],
            eye_distance=self.eye_distance[idx],
            yaw=self.yaw[idx],
            pitch=self.pitch[idx],
            mouth_open=self.mouth_open[idx],
            smiling=self.smiling[idx],
        )


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True, kw_only=True, slots=True)
class Logistic:
    """P(same) = sigmoid(intercept + geometry * g + appearance * a), and its two bands."""

    intercept: float
    geometry: float  # weight of the (clipped) geometry log-likelihood ratio
    appearance: float  # weight of the descriptor distance
    same: float  # P at or above: "same"
    different: float  # P at or below: "different"

    def __post_init__(self) -> None:
        if not 0.0 <= self.different <= self.same <= 1.0:
            raise ModelError(
                f"bands: expected 0 <= different <= same <= 1, found {self.different} and "
                f"{self.same}"
            )

    def probability(self, g: npt.ArrayLike, a: npt.ArrayLike) -> FloatArray:
        z = (
            self.intercept
            + self.geometry * np.nan_to_num(np.asarray(g, dtype=np.float64))
            + self.appearance * np.nan_to_num(np.asarray(a, dtype=np.float64))
        )
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))  # sigmoid without overflow


@dataclass(frozen=True, kw_only=True, slots=True)
class FusionModel:
    """The geometry model, one logistic per evidence, and the limits the doubts use."""

    geometry: MatchModel  # PLDA on markers, fitted on the fit people only
    fusions: Mapping[str, Logistic]  # by evidence: geometry, appearance, both
    geometry_range: tuple[float, float]  # g is clipped to this (seen when fitting)
    ratio_range: FloatArray  # (2, 91) plausible distance ratios (lowest, highest)
    min_eye_distance: float  # px between the iris centres below which faces are "small"
    max_yaw_difference: float  # degrees of head turn between the photos the markers bear
    max_pitch_difference: float
    marker_source: str = MARKER_SOURCE  # what placed the markers this model was fitted on
    training_data: str = ""
    command: str = ""  # the command that wrote the file
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [e for e in EVIDENCES if e not in self.fusions]
        if missing:
            raise ModelError(f"verdict model: no fusion for evidence {', '.join(missing)}")
        if self.ratio_range.shape != (2, len(RATIO_NAMES)):
            raise ModelError(
                f"verdict model: ratio_range must have shape (2, {len(RATIO_NAMES)}), found "
                f"{self.ratio_range.shape}"
            )


def save_fusion_model(model: FusionModel, path: str | os.PathLike[str]) -> None:
    """Write ``path`` (JSON: coefficients, bands, limits) and the geometry model beside it
    (``<stem>.geometry.ffm``), atomically."""
    p = Path(path)
    geometry_file = p.with_name(p.stem + ".geometry.ffm")
    save_model(model.geometry, geometry_file)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "marker_source": model.marker_source,
        "geometry_model": geometry_file.name,
        "fusions": {
            e: {
                k: getattr(f, k)
                for k in ("intercept", "geometry", "appearance", "same", "different")
            }
            for e, f in model.fusions.items()
        },
        "geometry_range": list(model.geometry_range),
        "ratio_range": model.ratio_range.tolist(),
        "min_eye_distance": model.min_eye_distance,
        "max_yaw_difference": model.max_yaw_difference,
        "max_pitch_difference": model.max_pitch_difference,
        "training_data": model.training_data,
        "command": model.command,
        "metrics": dict(model.metrics),
    }
    with atomic_write(p, "w") as fh:
        fh.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")


def load_fusion_model(path: str | os.PathLike[str] | None = None) -> FusionModel:
    """The verdict model at ``path`` (the shipped one by default); ModelError if unusable."""
    if path is None:
        ref = resources.files("ffmatch.matcher.photos") / "files" / VERDICT_MODEL_FILE
        if not ref.is_file():
            raise ModelError(
                f"the verdict model {VERDICT_MODEL_FILE} is missing from this installation "
                "of ffmatch (package data); reinstall ffmatch"
            )
        with resources.as_file(ref) as shipped:
            return load_fusion_model(shipped)
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{p}: no such verdict model file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{p}: not a verdict model file ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"{p}: not a verdict model file (format is not {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise ModelError(
            f"{p}: verdict model version {doc.get('version')!r}; this ffmatch "
            f"reads version {VERSION}"
        )
    try:
        geometry = load_model(p.with_name(str(doc["geometry_model"])))
        return FusionModel(
            geometry=geometry,
            fusions={
                str(e): Logistic(**{k: float(v) for k, v in f.items()})
                for e, f in doc["fusions"].items()
            },
            geometry_range=(float(doc["geometry_range"][0]), float(doc["geometry_range"][1])),
            ratio_range=np.asarray(doc["ratio_range"], dtype=np.float64),
            min_eye_distance=float(doc["min_eye_distance"]),
            max_yaw_difference=float(doc["max_yaw_difference"]),
            max_pitch_difference=float(doc["max_pitch_difference"]),
            marker_source=str(doc["marker_source"]),
            training_data=str(doc.get("training_data", "")),
            command=str(doc.get("command", "")),
            metrics=dict(doc.get("metrics", {})),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ModelError(f"{p}: the verdict model lacks or garbles a field ({err!r})") from None


# ----------------------------------------------------------------------------- scoring


def check_evidence(evidence: str) -> Evidence:
    if evidence not in EVIDENCES:
        raise ConfigError(f"--evidence: expected one of {', '.join(EVIDENCES)}, found {evidence!r}")
    return evidence


def default_evidence() -> Evidence:
    """``both`` where dlib is installed, else ``geometry``."""
    from ffmatch.matcher.photos.appearance import appearance_available

    return "both" if appearance_available() else "geometry"


def expression_mask(x: FaceEvidenceArray, y: FaceEvidenceArray) -> BoolArray:
    """(N, 14) True for markers left out of a pair's geometry: those an expression shown in
    only one of the two photos moves."""
    smile = (x.smiling != y.smiling)[:, None] & _SMILE[None]
    opened = (x.mouth_open != y.mouth_open)[:, None] & _OPEN[None]
    return np.asarray(smile | opened)


def pair_scores(
    model: FusionModel, x: FaceEvidenceArray, y: FaceEvidenceArray, *, geometry: bool = True
) -> tuple[FloatArray, FloatArray]:
    """(N,) geometry scores g (clipped log-likelihood ratios; NaN if under 3 common markers,
    or everywhere with ``geometry=False``) and (N,) descriptor distances a (NaN where a face
    has no descriptor) of pairs x[i], y[i]. Measured here: the geometry (Procrustes and PLDA)
    about 50 us a pair, the distance about 6 us."""
    d = x.descriptors.astype(np.float64) - y.descriptors.astype(np.float64)  # (N, 128)
    a = np.sqrt(np.einsum("nk,nk->n", d, d))
    if not geometry:  # appearance alone: the markers' PLDA (most of the cost) is skipped
        return np.full(len(x), np.nan), a
    drop = expression_mask(x, y)[..., None]
    g = model.geometry.scores(np.where(drop, np.nan, x.markers), np.where(drop, np.nan, y.markers))
    lo, hi = model.geometry_range
    return np.clip(g, lo, hi), a


def fused_probability(
    model: FusionModel, g: FloatArray, a: FloatArray, evidence: Evidence
) -> FloatArray:
    """(N,) P(same) from scores; ``both`` falls back to the evidence a pair has."""
    f = model.fusions
    if evidence == "geometry":
        return f["geometry"].probability(g, 0.0)
    if evidence == "appearance":
        return np.where(np.isnan(a), np.nan, f["appearance"].probability(0.0, a))
    both = f["both"].probability(g, a)
    both = np.where(np.isnan(a), f["geometry"].probability(g, 0.0), both)
    return np.where(np.isnan(g), f["appearance"].probability(0.0, a), both)


def score_against(
    model: FusionModel,
    query: FaceEvidence,
    gallery: FaceEvidenceArray,
    *,
    evidence: Evidence = "both",
) -> FloatArray:
    """(N,) calibrated P(same person) of ``query`` against each gallery face.

    Vectorised: the descriptor part is one (N, 128) distance, the geometry one batched PLDA
    score, both in chunks of ``CHUNK`` faces (memory stays bounded for a million faces).
    Doubts are not applied here; ``decide`` them per shortlisted pair.
    """
    evidence = check_evidence(evidence)
    if evidence != "geometry" and query.descriptor is None:
        raise ConfigError(
            f"evidence {evidence!r} needs the query's appearance descriptor (dlib); use "
            "evidence 'geometry' or install the photos extra"
        )
    one = FaceEvidenceArray.stack([query])
    out = np.empty(len(gallery), dtype=np.float64)
    for start in range(0, len(gallery), CHUNK):
        part = gallery.take(slice(start, start + CHUNK))
        n = len(part)
        q = FaceEvidenceArray(
            markers=np.broadcast_to(one.markers, (n, N_MARKERS, 2)),
            descriptors=np.broadcast_to(one.descriptors, (n, DESCRIPTOR_SIZE)),
            eye_distance=np.broadcast_to(one.eye_distance, (n,)),
            yaw=np.broadcast_to(one.yaw, (n,)),
            pitch=np.broadcast_to(one.pitch, (n,)),
            mouth_open=np.broadcast_to(one.mouth_open, (n,)),
            smiling=np.broadcast_to(one.smiling, (n,)),
        )
        g, a = pair_scores(model, q, part, geometry=evidence != "appearance")
        out[start : start + n] = fused_probability(model, g, a, evidence)
    return out


# ----------------------------------------------------------------------------- doubts


def implausible(model: FusionModel, face: FaceEvidence) -> str:
    """Why a face's markers cannot be a face's ("" if they can): out of anatomical order in
    the face's own frame, or distances outside what fitting ever saw."""
    m = face.markers
    if np.isnan(m).any():
        return ""  # missing markers are handled by the geometry itself
    i = {a: k for k, a in enumerate(WIDE_ORDER)}
    eye = m[i["ltex"]] - m[i["rtex"]]
    angle = math.atan2(eye[1], eye[0])
    c, s = math.cos(-angle), math.sin(-angle)
    level = (m - m.mean(axis=0)) @ np.array([[c, -s], [s, c]]).T  # eye line horizontal
    x, y = level[:, 0], level[:, 1]
    across = x[i["rtex"]] < x[i["rten"]] < x[i["lten"]] < x[i["ltex"]]
    down = y[i["nas"]] < y[i["sn"]] < y[i["ls"]] < y[i["li"]] < y[i["me"]]
    if not (across and down):
        return "markers out of anatomical order (the face mesh failed)"
    r = distance_ratios(m[None])[0]
    lo, hi = model.ratio_range
    off = np.flatnonzero((r < lo) | (r > hi))
    if len(off):
        return (
            f"markers implausible: {distance_words(RATIO_NAMES[off[0]])} "
            f"[{distance_code(RATIO_NAMES[off[0]])}] outside anything seen in fitting"
        )
    return ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Doubts:
    """Reasons that widen the verdict to inconclusive, notes said without widening, and
    whether the markers are to be left out (evidence ``both`` falls back to appearance)."""

    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    drop_geometry: bool = False


def doubts(
    model: FusionModel,
    x: FaceEvidence,
    y: FaceEvidence,
    *,
    evidence: Evidence,
    geometry_p: float,
    appearance_p: float,
) -> Doubts:
    """What makes this pair's verdict unsafe (``reasons``) or worth knowing (``notes``).

    Always a reason: a face smaller than the model was measured on; markers out of
    anatomical order (the mesh failed, so its face box is suspect too). Doubts about the
    markers alone (distances no fitted face had, head poses further apart than fitted
    pairs, an expression in one photo only) widen a geometry verdict; with ``both`` the
    markers are left out instead (or only the moved ones, for an expression) and the
    doubt is noted. Geometry and appearance strongly disagreeing is a reason.
    """
    reasons: list[str] = []
    notes: list[str] = []
    about_markers: list[str] = []
    for label, face in (("first", x), ("second", y)):
        if face.eye_distance < model.min_eye_distance:
            reasons.append(
                f"the face in the {label} photo is small ({face.eye_distance:.0f} px between "
                f"the eyes; under {model.min_eye_distance:.0f} px verdicts were unreliable)"
            )
        why = implausible(model, face)
        if why.startswith("markers out of anatomical order"):
            reasons.append(f"{label} photo: {why}")
        elif why:
            about_markers.append(f"{label} photo: {why}")
    if abs(x.yaw - y.yaw) > model.max_yaw_difference or (
        abs(x.pitch - y.pitch) > model.max_pitch_difference
    ):
        about_markers.append(
            f"the heads are turned differently (yaw {x.yaw:+.0f} vs {y.yaw:+.0f}, pitch "
            f"{x.pitch:+.0f} vs {y.pitch:+.0f} degrees)"
        )
    moved: list[str] = []
    for flag, what, markers in (
        ("smiling", "smiles", SMILE_MARKERS),
        ("mouth_open", "has the mouth open", OPEN_MOUTH_MARKERS),
    ):
        if getattr(x, flag) != getattr(y, flag):
            which = "first" if getattr(x, flag) else "second"
            moved.append(
                f"only the {which} photo {what}: markers it moves ({' '.join(markers)}) were "
                "left out"
            )
    drop = False
    if evidence == "geometry":
        reasons += about_markers + moved
    elif evidence == "both":
        notes += moved
        if about_markers:
            drop = True
            notes += [f"{d}: the markers were not used" for d in about_markers]
    if evidence == "both" and not drop and not (math.isnan(geometry_p) or math.isnan(appearance_p)):
        geo, app = model.fusions["geometry"], model.fusions["appearance"]
        if (geometry_p >= geo.same and appearance_p <= app.different) or (
            geometry_p <= geo.different and appearance_p >= app.same
        ):
            reasons.append(
                f"geometry and appearance disagree strongly (P = {geometry_p:.2f} from the "
                f"markers, {appearance_p:.2f} from appearance)"
            )
    return Doubts(reasons=tuple(reasons), notes=tuple(notes), drop_geometry=drop)


def decide(
    model: FusionModel,
    probability: float,
    reasons: Sequence[str] = (),
    *,
    evidence: Evidence = "both",
) -> Verdict:
    """The verdict of one pair: inconclusive when any reason doubts it or P is between the
    bands of ``evidence``."""
    band = model.fusions[check_evidence(evidence)]
    if reasons or math.isnan(probability):
        return "inconclusive"
    if probability >= band.same:
        return "same"
    if probability <= band.different:
        return "different"
    return "inconclusive"


# ----------------------------------------------------------------------------- one pair


@dataclass(frozen=True, kw_only=True, slots=True)
class Measurement:
    """One distance of the pair, in words and code, both values (over the eye width) and
    its gap in units of the ordinary gap between two photos of one person."""

    words: str  # "width of the nose"
    code: str  # "rtal-ltal"
    value_x: float
    value_y: float
    score: float  # |difference| / typical same-person gap
    left_out: bool  # moved by an expression in one photo only: not used


@dataclass(frozen=True, kw_only=True, slots=True)
class PairVerdict:
    """Two faces compared: the probability, the verdict, why, and the measurements."""

    probability: float  # calibrated P(same person), even odds before looking
    verdict: Verdict
    reasons: tuple[str, ...]  # doubts that widened the verdict to inconclusive
    notes: tuple[str, ...]  # said, not widening
    evidence: Evidence
    bands: tuple[float, float]  # (different, same) of this evidence
    geometry_probability: float  # from the markers alone
    appearance_probability: float  # from the descriptors alone (NaN without)
    descriptor_distance: float  # NaN without descriptors
    measurements: tuple[Measurement, ...]  # most differing first

    def differing(self, n: int = 5) -> list[Measurement]:
        """The ``n`` used distances that differ most."""
        return [m for m in self.measurements if not m.left_out][:n]

    def agreeing(self, n: int = 5) -> list[Measurement]:
        """The ``n`` used distances that agree best."""
        used = [m for m in self.measurements if not m.left_out]
        return sorted(used, key=lambda m: m.score)[:n]


def compare_faces(
    model: FusionModel, x: FaceEvidence, y: FaceEvidence, *, evidence: Evidence = "both"
) -> PairVerdict:
    """The verdict on two faces' evidence."""
    evidence = check_evidence(evidence)
    if evidence != "geometry" and (x.descriptor is None or y.descriptor is None):
        from ffmatch.matcher.photos.appearance import APPEARANCE_HINT

        raise ConfigError(f"--evidence {evidence}: {APPEARANCE_HINT}; or use --evidence geometry")
    pair_x, pair_y = FaceEvidenceArray.stack([x]), FaceEvidenceArray.stack([y])
    g, a = pair_scores(model, pair_x, pair_y)
    p = float(fused_probability(model, g, a, evidence)[0])
    p_geo = float(fused_probability(model, g, a, "geometry")[0])
    p_app = float(fused_probability(model, g, a, "appearance")[0])
    found = doubts(model, x, y, evidence=evidence, geometry_p=p_geo, appearance_p=p_app)
    if found.drop_geometry:  # the markers are doubted: appearance alone decides
        evidence, p = "appearance", p_app
    dropped = expression_mask(pair_x, pair_y)[0]
    left_out = {k for k, a_ in enumerate(WIDE_ORDER) if dropped[k]}
    items = []
    for e in model.geometry.evidence(x.markers, y.markers):
        code = distance_code(e.name)
        ends = {WIDE_ORDER.index(c) for c in code.split("-")}
        items.append(
            Measurement(
                words=distance_words(e.name),
                code=code,
                value_x=e.value_x,
                value_y=e.value_y,
                score=e.score,
                left_out=bool(ends & left_out),
            )
        )
    band = model.fusions[evidence]
    return PairVerdict(
        probability=p,
        verdict=decide(model, p, found.reasons, evidence=evidence),
        reasons=found.reasons,
        notes=found.notes,
        evidence=evidence,
        bands=(band.different, band.same),
        geometry_probability=p_geo,
        appearance_probability=p_app,
        descriptor_distance=float(a[0]),
        measurements=tuple(items),
    )


def compare_extractions(
    x: Extraction,
    y: Extraction,
    *,
    evidence: Evidence | None = None,
    model: FusionModel | None = None,
) -> PairVerdict:
    """The verdict on two extracted photos; DataError naming a photo without a usable face,
    ModelError if ``model`` was fitted on markers of another source than MediaPipe's."""
    from ffmatch.matcher.marker_source import check_marker_source

    model = model or load_fusion_model()
    for source, name in ((model.marker_source, "the verdict model"),
                         (model.geometry.marker_source, "its geometry model")):  # fmt: skip
        check_marker_source(source, MARKER_SOURCE, model=name, data="a photo")
    return compare_faces(
        model,
        FaceEvidence.from_extraction(x),
        FaceEvidence.from_extraction(y),
        evidence=evidence or default_evidence(),
    )


def compare_photos(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    *,
    evidence: Evidence | None = None,
    model: FusionModel | None = None,
    choice: FaceChoice | None = None,
    extractor: FaceMeshExtractor | None = None,
) -> PairVerdict:
    """Do the photos at ``path_a`` and ``path_b`` show the same person? (``ffmatch match``)"""
    from ffmatch.matcher.photos.extract import FaceMeshExtractor, extract_photos

    if extractor is None:
        with FaceMeshExtractor() as own:
            x, y = extract_photos([path_a, path_b], own, choice=choice)
    else:
        x, y = extract_photos([path_a, path_b], extractor, choice=choice)
    return compare_extractions(x, y, evidence=evidence, model=model)


# ----------------------------------------------------------------------------- fitting


def _weights(labels: npt.NDArray[np.int64]) -> FloatArray:
    """Balanced sample weights: each class weighs as much as the other in total."""
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    return np.where(labels == 1, 0.5 / max(n_pos, 1), 0.5 / max(n_neg, 1))


def bands(
    labels: npt.ArrayLike, probability: npt.ArrayLike, *, error_rate: float = 0.01
) -> tuple[float, float]:
    """(different, same) bands: at most ``error_rate`` of the same-person pairs fall at or
    below ``different`` and of the different-person pairs at or above ``same``; they never
    cross 0.5, so a verdict never goes against its probability."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probability, dtype=np.float64)
    if not 0.0 < error_rate < 0.5:
        raise ConfigError(f"error_rate: expected a share in (0, 0.5), found {error_rate}")
    genuine, impostor = np.sort(p[y == 1]), np.sort(p[y == 0])
    if not len(genuine) or not len(impostor):
        raise DataError("bands need same-person and different-person pairs")
    # The k lowest genuine (highest impostor) scores may be misjudged, k = floor(rate * n).
    k_gen = math.floor(error_rate * len(genuine))
    k_imp = math.floor(error_rate * len(impostor))
    different = float(np.nextafter(genuine[k_gen], -np.inf))  # strictly below the (k+1)-th
    same = float(np.nextafter(impostor[len(impostor) - 1 - k_imp], np.inf))
    return max(0.0, min(different, 0.5)), min(1.0, max(same, 0.5))


def fit_logistic(
    g: npt.ArrayLike, a: npt.ArrayLike, labels: npt.ArrayLike, *, evidence: Evidence
) -> tuple[float, float, float]:
    """(intercept, geometry weight, appearance weight) of a balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels, dtype=np.int64)
    cols = {
        "geometry": [np.asarray(g)],
        "appearance": [np.asarray(a)],
        "both": [np.asarray(g), np.asarray(a)],
    }[evidence]
    X = np.column_stack(cols).astype(np.float64)
    fitted = LogisticRegression(C=1e4, max_iter=2000).fit(X, y, sample_weight=_weights(y) * len(y))
    w = fitted.coef_[0]
    geometry = float(w[0]) if evidence != "appearance" else 0.0
    appearance = float(w[-1]) if evidence != "geometry" else 0.0
    return float(fitted.intercept_[0]), geometry, appearance


__all__ = [
    "BAND_MEANINGS",
    "EVIDENCES",
    "VERDICTS",
    "VERDICT_WORDS",
    "Evidence",
    "FaceEvidence",
    "FaceEvidenceArray",
    "FusionModel",
    "Logistic",
    "Measurement",
    "PairVerdict",
    "Verdict",
    "bands",
    "compare_extractions",
    "compare_faces",
    "compare_photos",
    "decide",
    "default_evidence",
    "doubts",
    "fit_logistic",
    "fused_probability",
    "load_fusion_model",
    "pair_scores",
    "save_fusion_model",
    "score_against",
]
