"""Appearance evidence: dlib's 128-number face descriptor, from the face box MediaPipe found.

The 14 markers carry limited identity (ROC-AUC about 0.91 on ORL's unseen people); how a
face looks carries much more. dlib's ResNet face descriptor (Davis King's
``dlib_face_recognition_resnet_model_v1``) maps a face chip to 128 numbers whose Euclidean
distance is small for one person (dlib's own rule: under 0.6). The chip is aligned with
dlib's 5-point shape predictor run inside MediaPipe's face box: no second face detector.

Both model files ship in the ``face_recognition_models`` package (installed with the
``photos`` extra); its ``__init__`` imports ``pkg_resources``, which current setuptools no
longer has, so its ``models/`` folder is found with ``importlib.util.find_spec`` and the
package is never imported. dlib comes from the ``dlib-bin`` wheel.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError
from ffmatch.core.table import DESCRIPTOR_SIZE
from ffmatch.matcher.photos.image import MissingExtraError, RGBArray

MODELS_PACKAGE = "face_recognition_models"
PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
APPEARANCE_HINT = (
    "appearance evidence needs dlib and its face models: "
    "pip install 'ffmatch[photos]' (dlib-bin, face_recognition_models)"
)
CHIP_PADDING = 0.25  # dlib's default margin around the aligned 150 x 150 chip

Float32Array = npt.NDArray[np.float32]
Box = tuple[float, float, float, float]  # (left, top, right, bottom) in the photo's pixels


def models_folder() -> Path:
    """The ``models/`` folder of ``face_recognition_models``, found without importing it."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in locations:
        folder = Path(root) / "models"
        if (folder / PREDICTOR_FILE).is_file() and (folder / ENCODER_FILE).is_file():
            return folder
    raise MissingExtraError(APPEARANCE_HINT)


def appearance_available() -> bool:
    """True when dlib and the model files are installed (the ``photos`` extra in full)."""
    if importlib.util.find_spec("dlib") is None:
        return False
    try:
        models_folder()
    except MissingExtraError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Models:
    predictor: Any  # dlib.shape_predictor (5 points: eye corners and the base of the nose)
    encoder: Any  # dlib.face_recognition_model_v1 (ResNet, 128-d output)
    rectangle: Any  # dlib.rectangle, the box type the predictor takes
    detections: Any  # dlib.full_object_detections, the batch type the encoder takes


@functools.cache
def _models() -> _Models:
    """dlib's two models, loaded once per process (about 0.3 s; 100 MB of weights)."""
    try:
        import dlib
    except ImportError:
        raise MissingExtraError(APPEARANCE_HINT) from None
    folder = models_folder()
    return _Models(
        predictor=dlib.shape_predictor(str(folder / PREDICTOR_FILE)),
        encoder=dlib.face_recognition_model_v1(str(folder / ENCODER_FILE)),
        rectangle=dlib.rectangle,
        detections=dlib.full_object_detections,
    )


def describe_faces(rgb: RGBArray, boxes: Sequence[Box]) -> Float32Array:
    """(n_faces, 128) descriptors of the faces in ``boxes`` of an (h, w, 3) uint8 photo.

    Each box is MediaPipe's (the extent of the face mesh); dlib's 5-point predictor finds the
    eyes and nose inside it, and the encoder reads the chip aligned on them. Costs about
    0.2 s per face on one core, whatever the photo's size.
    """
    image = np.asarray(rgb)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ConfigError(
            f"describe_faces: expected an (h, w, 3) uint8 RGB photo, found shape "
            f"{image.shape} of {image.dtype}"
        )
    if not boxes:
        return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
    m = _models()
    image = np.ascontiguousarray(image)
    shapes = m.detections()
    for left, top, right, bottom in boxes:
        rect = m.rectangle(round(left), round(top), round(right), round(bottom))
        shapes.append(m.predictor(image, rect))
    # One call for all faces of the photo: dlib batches the chips through the network.
    vectors = m.encoder.compute_face_descriptor(image, shapes, 0, CHIP_PADDING)
    return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)  # (n, 128)


def descriptor_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Euclidean distance between descriptors, broadcast over leading axes: (..., 128)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.asarray(np.sqrt(np.einsum("...k,...k->...", d, d)))
