"""Distinctiveness of hidden units: angles between their activation vectors (paper, (3)-(5)).

Each hidden unit's activation over the ``n`` training patterns is a vector in pattern space;
two units are similar when the angle between their vectors is small, complementary when it
is near 180 degrees (Gedeon 1995). ReLU activations are non-negative, so raw vectors are never
more than 90 degrees apart: the vectors are centred first (see ``Centring``).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError

FloatArray = npt.NDArray[np.floating]

Centring = Literal["none", "mean", "half"]
"""How activation vectors are centred before angles are taken.

``"mean"`` (the default): each unit minus its mean over the patterns, so the angle is the
arccos of the units' Pearson correlation; it can reach 180 degrees for ReLU units.
``"half"``: minus 0.5, Gedeon's choice for sigmoid units in [0, 1].
``"none"``: raw ReLU activations; all angles are <= 90 degrees, so the complementary rule
can never fire.
"""

CENTRINGS: tuple[str, ...] = get_args(Centring)

DEFAULT_DEAD_TOL = 1e-6
"""A unit whose root-mean-square (centred) activation is at most this counts as dead/constant."""


def check_centring(centring: str) -> Centring:
    """Return ``centring`` if it is one of ``CENTRINGS``, else raise ``ConfigError``."""
    if centring not in CENTRINGS:
        raise ConfigError(f"centring: expected one of {', '.join(CENTRINGS)}, found {centring!r}")
    return centring  # type: ignore[return-value]


def centre(activations: FloatArray, *, centring: Centring) -> FloatArray:
    """Centre each unit's activation vector (columns of an ``(n_patterns, h)`` array)."""
    a = np.asarray(activations, dtype=np.float64)
    if check_centring(centring) == "mean":
        return np.asarray(a - a.mean(axis=0, keepdims=True))
    if centring == "half":
        return a - 0.5
    return a


def short_units(
    activations: FloatArray, *, centring: Centring, dead_tol: float = DEFAULT_DEAD_TOL
) -> npt.NDArray[np.bool_]:
    """Mask ``(h,)`` of units whose centred vector is shorter than ``dead_tol * sqrt(n)``.

    The bound is on the root-mean-square entry, so it does not grow with the number of patterns.
    """
    a = centre(activations, centring=centring)
    return np.asarray(np.linalg.norm(a, axis=0) <= dead_tol * np.sqrt(a.shape[0]))


def unit_angles(
    activations: FloatArray, *, centring: Centring = "mean", dead_tol: float = DEFAULT_DEAD_TOL
) -> FloatArray:
    """Angles in degrees ``(h, h)`` between the units' centred activation vectors.

    Formulas (3)-(5): ``cos = a.b / (|a| |b|)`` clipped to [-1, 1], then arccos in degrees.
    Rows and columns of units whose centred vector is near zero length (``short_units``) are
    NaN: their angle is undefined. The diagonal of the other units is 0.

    Parameters
    ----------
    activations
        ``(n_patterns, h)`` activations of one hidden layer (post-ReLU).
    centring
        See ``Centring``.
    dead_tol
        Root-mean-square length under which a centred vector counts as zero.
    """
    a = centre(activations, centring=centring)  # (n, h)
    if a.ndim != 2:
        raise ValueError(f"activations: expected a 2-d (n_patterns, h) array, found {a.shape}")
    return centred_angles(a, dead_tol=dead_tol)


def centred_angles(
    centred: FloatArray, *, dead_tol: float = DEFAULT_DEAD_TOL, norms: FloatArray | None = None
) -> FloatArray:
    """``unit_angles`` of activation vectors already centred, ``(n_patterns, h)`` float64.

    For a caller that holds the centred vectors anyway (pruning does): centring again would
    give the same numbers at the cost of another pass. ``norms``, when given, must be the
    columns' lengths as computed here (pruning has them from its dead-unit test).
    """
    a = centred
    if norms is None:
        norms = np.sqrt(np.add.reduce(a * a, axis=0))  # (h,), np.linalg.norm's own formula
    short = norms <= dead_tol * np.sqrt(a.shape[0])  # as ``short_units``
    unit = a / np.where(short, 1.0, norms)  # (n, h), columns of length 1 (or ~0 when short)
    cos = unit.T @ unit  # (h, h); h <= ~100 units, so this is cheap
    cos = np.clip(0.5 * (cos + cos.T), -1.0, 1.0)  # exactly symmetric despite BLAS rounding
    angles = np.degrees(np.arccos(cos))
    np.fill_diagonal(angles, 0.0)  # rounding can leave cos slightly under 1 on the diagonal
    if short.any():
        angles[short, :] = np.nan
        angles[:, short] = np.nan
    return np.asarray(angles)
