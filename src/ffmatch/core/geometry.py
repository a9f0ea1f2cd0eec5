"""Geometry of the 14 markers: distances, the eye-width ratios, position and size, Procrustes.

One home for the measurements that the paper's representations, the aligned matcher, the
controls and the benchmark all use. Markers are (n, 14, 2) arrays in ``WIDE_ORDER``; a missing
marker is NaN and makes NaN every value that uses it. All functions are pure and vectorised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ffmatch.core.markers import MARKER_PAIRS, WIDE_ORDER
from ffmatch.core.table import FloatArray

_PAIR_I = np.array([i for i, _ in MARKER_PAIRS])
_PAIR_J = np.array([j for _, j in MARKER_PAIRS])
_RTEX, _LTEX = WIDE_ORDER.index("rtex"), WIDE_ORDER.index("ltex")
_EYE_WIDTH = MARKER_PAIRS.index((min(_RTEX, _LTEX), max(_RTEX, _LTEX)))  # column of rtex-ltex


def inter_marker_distances(coords: FloatArray) -> FloatArray:
    """(n, 14, 2) markers to (n, 91) Euclidean inter-marker distances in ``MARKER_PAIRS`` order."""
    x, y = coords[..., 0], coords[..., 1]
    dx, dy = x[:, _PAIR_I] - x[:, _PAIR_J], y[:, _PAIR_I] - y[:, _PAIR_J]  # (n, 91) each
    # dx * dx + dy * dy is what summing the squares over the last axis computes (the same
    # bits), without numpy's slow reduction over an axis of two.
    return np.asarray(np.sqrt(dx * dx + dy * dy))


def eye_width(coords: FloatArray) -> FloatArray:
    """(n,) outer-eye width rtex-ltex: the reference length of the ratios."""
    diff = coords[:, _RTEX] - coords[:, _LTEX]  # (n, 2)
    return np.asarray(np.sqrt((diff**2).sum(axis=1)))


def distance_ratios(coords: FloatArray) -> FloatArray:
    """(n, 91) inter-marker distances over the outer-eye width (scale-free).

    NaN where a marker is missing or the eye width is not positive; callers that need every
    value (the paper's ``proportions``) check the width first and say which photo failed.
    """
    dist = inter_marker_distances(coords)
    width = dist[:, _EYE_WIDTH]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(dist / np.where(width > 0, width, np.nan)[:, None])


def position_size(coords: FloatArray) -> FloatArray:
    """(n, 3) each photo's marker centroid (x, y) and size (RMS distance to the centroid).

    Where the face sits in the frame and how large it is, with no shape at all: the input of
    the position controls. Missing markers are ignored.
    """
    centroid = np.nanmean(coords, axis=1)  # (n, 2)
    size = np.sqrt(np.nanmean(((coords - centroid[:, None, :]) ** 2).sum(axis=2), axis=1))
    return np.column_stack([centroid, size])


def position_features(coords_x: FloatArray, coords_y: FloatArray) -> FloatArray:
    """(m, 6) ``position_size`` of each pair's first photo, then of its second."""
    return np.hstack([position_size(coords_x), position_size(coords_y)])


def procrustes_distance(
    coords_x: FloatArray, coords_y: FloatArray, *, reflection: bool = False
) -> FloatArray:
    """(m,) full Procrustes distance ``1 - |<x, y>|^2`` of each pair's unit-size centred shapes.

    Over the markers both photos have; translation, scale and rotation removed. With
    ``reflection`` a mirror image also counts as the same shape, which makes this
    ``scipy.spatial.procrustes``'s disparity. Points are complex numbers, so one pass serves
    every pair; pairs with fewer than 2 distinct common points give NaN.
    """
    common = ~(np.isnan(coords_x).any(axis=2) | np.isnan(coords_y).any(axis=2))  # (m, 14)

    def unit(c: FloatArray) -> npt.NDArray[np.complex128]:
        z = np.where(common, c[..., 0] + 1j * c[..., 1], 0)
        z = np.where(
            common, z - z.sum(axis=1, keepdims=True) / common.sum(axis=1, keepdims=True), 0
        )
        return np.asarray(z / np.sqrt((np.abs(z) ** 2).sum(axis=1, keepdims=True)))

    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = unit(coords_x), unit(coords_y)
        fit = np.abs((np.conj(ux) * uy).sum(axis=1))
        if reflection:  # y ~ a conj(x): the best mirrored fit
            fit = np.maximum(fit, np.abs((ux * uy).sum(axis=1)))
    return np.asarray(1.0 - fit**2)
