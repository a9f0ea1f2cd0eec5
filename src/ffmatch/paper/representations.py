"""The paper's three representations of a photo pair (section 2.1), as feature matrices.

Every representation is per photo, then the two photos of a pair are concatenated, first photo
first, as in the paper's wide tables:

- ``ffms``: the 14 markers' (x, y) in ``WIDE_ORDER`` (28 per photo, 56 per pair);
- ``distances``: the 91 Euclidean inter-marker distances in ``MARKER_PAIRS`` order (182);
- ``proportions``: the 91 distances over the photo's outer-eye width, rtex-ltex (182). The paper
  does not define proportions; this is the usual anthropometric index (scale-free), and it is
  our choice (docs/method.md).

Beyond the paper, ``aligned-diff`` and ``aligned-pair`` (``ffmatch.matcher.aligned``) compare
Procrustes-aligned shapes: invariant to where the face sits, its size and in-plane rotation.

They are pure functions of one pair at a time, so computing them before a split leaks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import distance_ratios, eye_width, inter_marker_distances
from ffmatch.core.markers import MARKER_PAIRS, WIDE_ORDER
from ffmatch.core.table import FloatArray, PairTable

Representation = Literal["ffms", "distances", "proportions"]
REPRESENTATIONS: tuple[str, ...] = get_args(Representation)


def photo_ffms(coords: FloatArray) -> FloatArray:
    """(n, 14, 2) markers to (n, 28) coordinates ``x0, y0, x1, y1, ...``."""
    return coords.reshape(len(coords), -1)


def photo_proportions(coords: FloatArray) -> FloatArray:
    """(n, 14, 2) markers to (n, 91) distances over the outer-eye width."""
    width = eye_width(coords)
    if np.any(width <= 0):
        row = int(np.flatnonzero(width <= 0)[0])
        raise DataError(
            f"photo {row + 1}: the outer eye corners rtex and ltex coincide; proportions "
            "need a positive eye width"
        )
    return distance_ratios(coords)


PHOTO_FEATURES: dict[str, Callable[[FloatArray], FloatArray]] = {
    "ffms": photo_ffms,
    "distances": inter_marker_distances,
    "proportions": photo_proportions,
}


def _pair_representations() -> tuple[str, ...]:
    from ffmatch.matcher.aligned import PAIR_REPRESENTATIONS

    return tuple(PAIR_REPRESENTATIONS)


def check_representation(name: str) -> str:
    """Return ``name`` if it is a known representation, else raise ConfigError with the choices."""
    known = (*PHOTO_FEATURES, *_pair_representations())
    if name not in known:
        raise ConfigError(f"unknown representation {name!r}; expected one of {', '.join(known)}")
    return name


def pair_features(pairs: PairTable, representation: str) -> FloatArray:
    """The (m, 2k) feature matrix of ``pairs``: first photo's k features, then the second's
    (for the aligned representations, their own symmetric pair features)."""
    if check_representation(representation) not in PHOTO_FEATURES:
        from ffmatch.matcher.aligned import pair_feature_matrix

        x = pair_feature_matrix(pairs, representation)
        _check_complete(pairs, x, representation)
        return x
    per_photo = PHOTO_FEATURES[representation](pairs.photos.coords)
    x = np.hstack([per_photo[pairs.first], per_photo[pairs.second]])
    _check_complete(pairs, x, representation)
    return x


def _check_complete(pairs: PairTable, x: FloatArray, representation: str) -> None:
    """A network needs every feature: name the first pair with a missing one."""
    missing = np.isnan(x).any(axis=1)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{pairs.photos.source}: pair {str(pairs.name[row])!r} has a missing marker; the "
            f"{representation!r} representation needs all 14 (ffmatch benchmark muct and "
            "ffmatch train handle missing markers)"
        )


def feature_names(representation: str) -> list[str]:
    """Column names of the paper's representations in its wide-table style (``1rtex-x``, ...)."""
    if representation not in PHOTO_FEATURES:
        raise ConfigError(f"feature names: expected one of {', '.join(PHOTO_FEATURES)}")
    if representation == "ffms":
        per = [f"{a}-{axis}" for a in WIDE_ORDER for axis in ("x", "y")]
    else:
        tag = "d" if representation == "distances" else "p"
        per = [f"{tag}:{WIDE_ORDER[i]}-{WIDE_ORDER[j]}" for i, j in MARKER_PAIRS]
    return [f"{k}{name}" for k in (1, 2) for name in per]
