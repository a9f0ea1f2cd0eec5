"""Pose normalisation from the face mesh's 3-D points: the 14 markers as seen from the front.

A face turned or tilted foreshortens its distances in the photo; MediaPipe's mesh estimates
each point's depth too, so the head can be turned back before the markers are read off:

1. the mid-sagittal plane is fitted (least squares) to the mesh's midline points; its normal
   is the head's left-right axis;
2. the head's vertical axis is the nasion-to-menton direction within that plane;
3. the mesh is rotated so these axes are the image's x and y, and projected orthographically.

The markers stay the paper's 14; only the viewpoint changes. Rotation keeps lengths, so the
result is still in pixels, centred where the face was.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ffmatch.core.table import FloatArray
from ffmatch.matcher.photos.mesh import PICK

# Points on the face mesh's midline (x = 0 in MediaPipe's canonical face model): forehead,
# nose bridge and tip, lips, chin.
MIDLINE = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 11, 12, 13, 14, 15,
           16, 17, 18, 200, 199, 175, 152)  # fmt: skip
_NASION, _MENTON = 168, 152
_RIGHT_EYE, _LEFT_EYE = 33, 263  # only to orient the left-right axis


def head_axes(mesh: npt.ArrayLike) -> FloatArray:
    """(n, 3, 3) rotations whose rows are each head's right-to-left, down and depth axes."""
    m = np.asarray(mesh, dtype=np.float64)
    if m.ndim == 2:
        m = m[None]
    mid = m[:, MIDLINE]  # (n, k, 3)
    centred = mid - mid.mean(axis=1, keepdims=True)
    # Normal of the best-fit plane: the right singular vector of the smallest singular value.
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    x = vt[:, -1]  # (n, 3)
    across = m[:, _LEFT_EYE] - m[:, _RIGHT_EYE]  # the subject's right is the image's left
    x *= np.sign((x * across).sum(axis=1, keepdims=True))
    down = m[:, _MENTON] - m[:, _NASION]
    y = down - (down * x).sum(axis=1, keepdims=True) * x
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=1)


def frontalise(mesh: npt.ArrayLike) -> FloatArray:
    """(n, 478, 3) meshes turned to face the camera, upright, centred where they were."""
    m = np.asarray(mesh, dtype=np.float64)
    if m.ndim == 2:
        m = m[None]
    rot = head_axes(m)  # (n, 3, 3)
    centre = m.mean(axis=1, keepdims=True)
    turned = np.einsum("nij,nkj->nki", rot, m - centre)  # (n, 478, 3): rows of rot as axes
    return np.asarray(turned + centre * np.array([1.0, 1.0, 0.0]))


def frontal_markers(mesh: npt.ArrayLike) -> FloatArray:
    """(n, 14, 2) markers in ``WIDE_ORDER`` of the frontalised meshes (orthographic view)."""
    front = frontalise(mesh)
    return np.asarray(np.einsum("mp,npc->nmc", PICK, front[..., :2]))
