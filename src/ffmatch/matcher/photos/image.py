"""Read a photo as an upright 8-bit RGB array: EXIF orientation, grey, sepia, palette, alpha.

Everything after this trusts the array: (height, width, 3) uint8, oriented as a viewer shows
the photo, so marker coordinates are pixels of the photo as people see it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError, FFMatchError

RGBArray = npt.NDArray[np.uint8]

# Transparent parts of an RGBA/LA photo are laid over mid grey: neither a black nor a white
# background, so a face cut out of its background keeps its contrast at the edges.
BACKGROUND = (128, 128, 128)

# Pillow refuses images above ~179 Mpx as a decompression bomb; a real scan can be large but
# not that large, so we keep Pillow's limit and report it as one line.
INSTALL_HINT = "photo support needs MediaPipe and Pillow: pip install 'ffmatch[photos]'"


class MissingExtraError(FFMatchError, ImportError):
    """The optional photo packages (MediaPipe, Pillow) are not installed."""


def require_pil() -> Any:
    """The ``PIL.Image`` module, or a one-line error naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None
    return Image


def read_photo(path: str | os.PathLike[str]) -> RGBArray:
    """The photo at ``path`` as an upright (h, w, 3) uint8 RGB array; DataError if unreadable."""
    return read_photo_reduced(path, min_side=None).rgb


@dataclass(frozen=True, kw_only=True, slots=True)
class Decoded:
    """A photo as decoded: pixels ``rgb`` are the full photo's divided by ``factor``."""

    rgb: RGBArray  # (h, w, 3) uint8, upright
    factor: int  # 1, 2, 4 or 8
    width: int  # the full upright photo's size, in its own pixels
    height: int


def read_photo_reduced(path: str | os.PathLike[str], *, min_side: int | None) -> Decoded:
    """The photo, decoded smaller where cheap, and the factor back to its own pixels.

    A JPEG whose longer side exceeds ``2 * min_side`` is decoded at 1/2, 1/4 or 1/8 scale
    (the decoder skips the work, 3-4x faster on a 12 Mpx photo) while its longer side
    stays at least ``min_side``; coordinates on the result times the factor are pixels of
    the full photo. Other formats, and ``min_side=None``, give the full photo and factor 1.
    """
    Image = require_pil()
    from PIL import ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found" if not p.exists() else f"{p}: not a file")
    try:
        with Image.open(p) as im:
            full, (width, height) = max(im.size), im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF: shown turned by 90 degrees
                width, height = height, width
            if min_side is not None and im.format == "JPEG" and full >= 2 * min_side:
                im.draft("RGB", (im.width * min_side // full, im.height * min_side // full))
            factor = round(full / max(im.size))  # 1, 2, 4 or 8: JPEG's DCT scaling is exact
            im.load()
            upright = ImageOps.exif_transpose(im)
            return Decoded(rgb=to_rgb(upright), factor=factor, width=width, height=height)
    except UnidentifiedImageError:
        raise DataError(
            f"{p}: not an image Pillow can read (expected JPEG, PNG, PGM, ...)"
        ) from None
    except Image.DecompressionBombError as err:
        raise DataError(f"{p}: image too large to read safely ({err})") from None
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt files
        raise DataError(f"{p}: unreadable image ({err})") from None


def to_rgb(im: Any) -> RGBArray:
    """A Pillow image of any mode as (h, w, 3) uint8 RGB; alpha laid over ``BACKGROUND``."""
    Image = require_pil()
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grey scans: scale to 8 bits
        a = np.asarray(im, dtype=np.float64)
        top = float(a.max()) or 1.0
        im = Image.fromarray(np.clip(a * 255.0 / top, 0, 255).astype(np.uint8), mode="L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        im = Image.alpha_composite(base, rgba)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
