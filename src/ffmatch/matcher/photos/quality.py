"""How far one face's evidence can be trusted: its size, head turn and expression.

Read off MediaPipe's mesh: the eye distance (between the iris centres, in the photo's
pixels), yaw and pitch (from the head's axes, ``pose.head_axes``) and two expression flags
measured on the frontalised mesh, in eye distances so they do not depend on the face's size:

- mouth open: the inner lips more than ``OPEN_GAP`` apart;
- smiling: the mouth corners raised above the lips' midpoint by more than ``SMILE_LIFT``.

Thresholds from the shared sample photos (README there): open mouths measure 0.15-0.39 and
closed ones under 0.06; smiles lift the corners 0.05-0.11 and neutral mouths -0.09-0.02.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.matcher.photos.mesh import (
    LEFT_IRIS,
    LOWER_INNER_LIP,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    RIGHT_IRIS,
    UPPER_INNER_LIP,
)
from ffmatch.matcher.photos.pose import frontalise, head_axes

OPEN_GAP = 0.10  # inner-lip gap over the eye distance above which the mouth is open
SMILE_LIFT = 0.03  # corner lift over the eye distance above which the face smiles


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceQuality:
    """Size, pose and expression of one face (angles in degrees, 0 = facing the camera)."""

    eye_distance: float  # pixels between the iris centres, in the photo as decoded
    yaw: float  # head turned: positive towards the image's right
    pitch: float  # head tilted: positive chin down
    mouth_gap: float  # inner-lip gap / eye distance
    mouth_lift: float  # mouth corners above the lips' midpoint / eye distance
    mouth_open: bool
    smiling: bool


def face_quality(mesh: npt.ArrayLike) -> FaceQuality:
    """The quality values of one (478, 3) mesh in the photo's pixels."""
    m = np.asarray(mesh, dtype=np.float64)
    eye = float(np.hypot(*(m[LEFT_IRIS, :2] - m[RIGHT_IRIS, :2])))
    axes = head_axes(m)[0]  # rows: the head's left-right, down and depth axes
    front = frontalise(m)[0]
    unit = max(float(np.hypot(*(front[LEFT_IRIS, :2] - front[RIGHT_IRIS, :2]))), 1e-9)
    gap = float(np.hypot(*(front[UPPER_INNER_LIP, :2] - front[LOWER_INNER_LIP, :2]))) / unit
    middle = (front[UPPER_INNER_LIP, 1] + front[LOWER_INNER_LIP, 1]) / 2
    corners = (front[MOUTH_RIGHT, 1] + front[MOUTH_LEFT, 1]) / 2
    lift = float(middle - corners) / unit  # image y grows downwards
    return FaceQuality(
        eye_distance=eye,
        yaw=float(np.degrees(np.arcsin(np.clip(axes[0, 2], -1, 1)))),
        pitch=float(np.degrees(np.arcsin(np.clip(axes[1, 2], -1, 1)))),
        mouth_gap=gap,
        mouth_lift=lift,
        mouth_open=gap > OPEN_GAP,
        smiling=lift > SMILE_LIFT,
    )
