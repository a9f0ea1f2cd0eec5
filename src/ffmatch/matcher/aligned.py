"""Pose-normalised representations: Procrustes-aligned shapes and scale-free distance ratios.

The paper feeds raw pixel coordinates to its network, which then learns where the head sat
in the frame (on MUCT that alone scores ROC-AUC 0.945). These representations remove
translation, scale and in-plane rotation before anything is learned:

- ``align``: each photo's markers mapped onto a fixed average face (``TEMPLATE``) by the
  least-squares similarity transform (Procrustes), using only the markers the photo has;
- ``log_ratios``: the log of the 91 inter-marker distances over the outer-eye width
  (``core.geometry.distance_ratios``; scale-free);
- ``pair_feature_matrix``: symmetric pair features, the absolute differences of two photos'
  aligned coordinates and of their log distance ratios, over the markers both photos have.

2-D points are complex numbers here: a similarity transform is ``w = a z + b`` with complex
``a`` (scale and rotation), so the least-squares fit is one closed-form ratio per photo and
all photos align at once, missing markers masked out. All functions are pure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.markers import MARKER_PAIRS, N_MARKERS, WIDE_ORDER
from ffmatch.core.table import BoolArray, FloatArray, PairTable

_RAW_TEMPLATE = np.array(
    [[-0.2662, -0.2651], [-0.1218, -0.264], [0.1163, -0.2639], [0.2569, -0.2651],
     [-0.0027, -0.2639], [0.0059, -0.0022], [-0.1279, -0.0691], [0.1289, -0.0644],
     [0.0062, 0.0711], [0.005, 0.1311], [0.0046, 0.2039], [0.0014, 0.2772],
     [-0.0017, 0.3505], [-0.0049, 0.4238]]
)  # fmt: skip


def _normalised(shape: FloatArray) -> FloatArray:
    """(14, 2) shape centred on its centroid, scaled to unit root-sum-square size."""
    centred = shape - shape.mean(axis=0)
    return np.asarray(centred / np.sqrt((centred**2).sum()))


TEMPLATE: FloatArray = _normalised(_RAW_TEMPLATE)
"""(14, 2) the average frontal MUCT face in ``WIDE_ORDER`` (generalised Procrustes mean of
camera ``a``, eye line horizontal, y down, unit size). It only fixes the frame that shapes
are aligned into; every result is the same up to that frame's choice."""

PairVectors = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

MIN_COMMON = 3  # a similarity transform has 4 degrees of freedom: 3 points fix it well

RATIO_NAMES: tuple[str, ...] = tuple(
    f"{WIDE_ORDER[i]}-{WIDE_ORDER[j]} / eye width" for i, j in MARKER_PAIRS
)
"""Names of the 91 ``distance_ratios`` columns, e.g. ``'rtex-rten / eye width'``."""
COORD_NAMES: tuple[str, ...] = tuple(f"{a}-{axis}" for a in WIDE_ORDER for axis in "xy")
"""Names of the 28 aligned coordinates, ``'rtex-x'``, ``'rtex-y'``, ..."""


def _complex(coords: FloatArray) -> npt.NDArray[np.complex128]:
    return np.asarray(coords[..., 0] + 1j * coords[..., 1])


def check_coords(coords: npt.ArrayLike, what: str = "coords") -> FloatArray:
    """``coords`` as a float (n, 14, 2) array; DataError naming the shape found otherwise."""
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (N_MARKERS, 2):
        raise DataError(f"{what}: expected markers of shape (n, {N_MARKERS}, 2), found {arr.shape}")
    return arr


def align(
    coords: npt.ArrayLike,
    *,
    mask: BoolArray | None = None,
    template: FloatArray = TEMPLATE,
) -> FloatArray:
    """(n, 14, 2) markers mapped onto ``template`` by least-squares similarity (Procrustes).

    The fit uses the markers present (not NaN) and, if given, also in ``mask`` (n, 14); the
    transform is then applied to every present marker, and the others are NaN. The result
    does not depend on where the face sits, its size or its in-plane rotation. Rows with
    fewer than ``MIN_COMMON`` usable markers, or all at one point, are all NaN.
    """
    x = check_coords(coords)
    z = _complex(x)  # (n, 14)
    present = ~np.isnan(z)
    use = present if mask is None else present & np.asarray(mask, dtype=bool)
    t = _complex(template[None])  # (1, 14)
    w = use.astype(np.float64)
    count = w.sum(axis=1, keepdims=True)  # (n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z0 = np.where(use, z, 0)
        mean_z = z0.sum(axis=1, keepdims=True) / count
        mean_t = (w * t).sum(axis=1, keepdims=True) / count
        zc = np.where(use, z - mean_z, 0)
        tc = np.where(use, t - mean_t, 0)
        # least squares a = <zc, tc> / <zc, zc> (complex inner products over used markers)
        a = (np.conj(zc) * tc).sum(axis=1, keepdims=True) / (np.abs(zc) ** 2).sum(
            axis=1, keepdims=True
        )
        out = a * (z - mean_z) + mean_t  # (n, 14); NaN where z is
    bad = np.asarray((count[:, 0] < MIN_COMMON) | ~np.isfinite(a[:, 0]) | (a[:, 0] == 0))
    out[bad] = complex(np.nan, np.nan)
    return np.stack([out.real, out.imag], axis=-1)


def align_pairs(
    coords_x: npt.ArrayLike, coords_y: npt.ArrayLike, *, template: FloatArray = TEMPLATE
) -> tuple[FloatArray, FloatArray]:
    """Both photos of each pair aligned on the markers they have in common; others NaN.

    Fitting both on the same markers keeps their aligned shapes comparable when one photo
    lacks a marker (a side view hiding a nostril): the fit then ignores it in both.
    """
    x, y = check_coords(coords_x, "coords_x"), check_coords(coords_y, "coords_y")
    if x.shape != y.shape:
        raise DataError(
            f"coords_x and coords_y: expected the same shape, found {x.shape} and {y.shape}"
        )
    common = np.asarray(~(np.isnan(x).any(axis=2) | np.isnan(y).any(axis=2)))  # (m, 14)
    ax = align(np.where(common[..., None], x, np.nan), template=template)
    ay = align(np.where(common[..., None], y, np.nan), template=template)
    return ax, ay


def align_pair_rows(
    coords: npt.ArrayLike, first: npt.ArrayLike, second: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``align_pairs(coords[first], coords[second])``, bit for bit, aligning each photo once.

    A pair of two complete photos has all markers in common, so each is aligned on its own
    markers: one alignment per photo instead of one per pair (identification aligns every
    pair of n photos). Only pairs with a missing marker in either photo align as pairs.
    """
    c = check_coords(coords)
    i, j = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    complete = np.asarray(~np.isnan(c).any(axis=(1, 2)))  # (n,)
    own = align(c)  # (n, 14, 2); each row depends on that photo only
    ax, ay = own[i], own[j]
    partial = ~(complete[i] & complete[j])
    if partial.any():
        ax[partial], ay[partial] = align_pairs(c[i[partial]], c[j[partial]])
    return ax, ay


def log_ratios(coords: npt.ArrayLike) -> FloatArray:
    """(n, 91) log of ``distance_ratios``: differences of logs are relative differences."""
    r = distance_ratios(check_coords(coords))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(np.where(r > 0, r, np.nan)))


def aligned_diff_features(coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> FloatArray:
    """(m, 28 + 91) symmetric pair features: |aligned x - aligned y|, |log ratio x - y|.

    Symmetric (swapping the photos changes nothing) and invariant to position, scale and
    in-plane rotation; NaN where a marker is missing in either photo.
    """
    ax, ay = align_pairs(coords_x, coords_y)
    d_coords = np.abs(ax - ay).reshape(len(ax), -1)  # (m, 28)
    d_ratios = np.abs(log_ratios(coords_x) - log_ratios(coords_y))  # (m, 91)
    return np.hstack([d_coords, d_ratios])


def aligned_diff_rows(
    coords: npt.ArrayLike, first: npt.ArrayLike, second: npt.ArrayLike
) -> FloatArray:
    """``aligned_diff_features(coords[first], coords[second])``, bit for bit; the per-photo
    parts (alignment of complete photos, log ratios) computed once per photo."""
    ax, ay = align_pair_rows(coords, first, second)
    ratios = log_ratios(coords)  # (n, 91)
    i, j = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    d_coords = np.abs(ax - ay).reshape(len(ax), -1)  # (m, 28)
    d_ratios = np.abs(ratios[i] - ratios[j])  # (m, 91)
    return np.hstack([d_coords, d_ratios])


def aligned_diff_names() -> list[str]:
    """Column names of ``aligned_diff_features``."""
    return [f"|d {n}|" for n in COORD_NAMES] + [f"|d log {n}|" for n in RATIO_NAMES]


def aligned_pair_features(coords_x: npt.ArrayLike, coords_y: npt.ArrayLike) -> FloatArray:
    """(m, 56) both photos' aligned shapes (common markers), first photo first; not symmetric."""
    ax, ay = align_pairs(coords_x, coords_y)
    return np.hstack([ax.reshape(len(ax), -1), ay.reshape(len(ay), -1)])


PAIR_REPRESENTATIONS: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "aligned-diff": aligned_diff_features,
    "aligned-pair": aligned_pair_features,
}
"""Pair representations beyond the paper's, by name; all invariant to position, size and
in-plane rotation."""


def pair_feature_matrix(pairs: PairTable, representation: str) -> FloatArray:
    """The (m, k) features of ``pairs`` in one of ``PAIR_REPRESENTATIONS`` (NaN = missing)."""
    if representation not in PAIR_REPRESENTATIONS:
        raise ConfigError(
            f"unknown pair representation {representation!r}; expected one of "
            f"{', '.join(PAIR_REPRESENTATIONS)}"
        )
    coords = pairs.photos.coords
    return PAIR_REPRESENTATIONS[representation](coords[pairs.first], coords[pairs.second])


def aligned_vectors(
    coords_x: npt.ArrayLike, coords_y: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Each pair's two aligned shapes as (m, 28) vectors, aligned on their common markers."""
    ax, ay = align_pairs(coords_x, coords_y)
    return ax.reshape(len(ax), -1), ay.reshape(len(ay), -1)


def aligned_vector_rows(
    coords: npt.ArrayLike, first: npt.ArrayLike, second: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``aligned_vectors(coords[first], coords[second])``, bit for bit (``align_pair_rows``)."""
    ax, ay = align_pair_rows(coords, first, second)
    return ax.reshape(len(ax), -1), ay.reshape(len(ay), -1)


def photo_aligned_vectors(coords: npt.ArrayLike) -> FloatArray:
    """(n, 28) each photo's aligned shape on its own markers (for fitting per-photo models)."""
    a = align(coords)
    return a.reshape(len(a), -1)


PHOTO_VECTORS: dict[str, tuple[Callable[[FloatArray], FloatArray], PairVectors]] = {
    "aligned": (photo_aligned_vectors, aligned_vectors),
}
"""Per-photo vector representations for models of two photos' vectors (PLDA), by name:
(one photo's vector, a pair's two vectors over their common markers)."""
