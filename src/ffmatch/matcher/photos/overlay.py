"""A photo with the 14 markers drawn and labelled: how a user checks what was extracted.

The chosen face's markers are drawn as rings with their abbreviations; a marker the mesh
placed outside the frame is drawn hollow in orange. Every face found is boxed and numbered
left to right, so a photo of several people shows which ``--face N`` to ask for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.core.table import FloatArray
from ffmatch.matcher.photos.extract import Extraction
from ffmatch.matcher.photos.image import RGBArray, require_pil

MARKER_COLOUR = (0, 230, 90)
OUTSIDE_COLOUR = (255, 150, 0)
BOX_COLOUR = (80, 160, 255)
CHOSEN_BOX_COLOUR = (0, 230, 90)

# Labels sit beside their marker, away from the face's midline, so the median markers
# (nasion to menton, stacked vertically) stay readable: left side for the subject's right.
_LABEL_SIDE = {a: (-1 if a.startswith("rt") else 1) for a in WIDE_ORDER}


def overlay(rgb: RGBArray, extraction: Extraction, *, min_side: int = 480) -> Any:
    """A Pillow RGB image of ``rgb`` with every face boxed and the chosen face's markers.

    Photos smaller than ``min_side`` (ORL's 92 x 112) are enlarged by a whole factor first,
    so the labels stay legible; the markers are drawn at the same place on the face.
    """
    Image = require_pil()
    from PIL import ImageDraw

    im = Image.fromarray(rgb).convert("RGB")
    zoom = max(1, -(-min_side // max(im.size)))  # ceil
    if zoom > 1:
        im = im.resize((im.width * zoom, im.height * zoom), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    # Coordinates are continuous (pixel i spans [i, i + 1)), so zoomed they are zoom * x.
    scale = _scale(extraction, rgb) * zoom
    for k, face in enumerate(extraction.faces):
        colour = CHOSEN_BOX_COLOUR if k == extraction.chosen else BOX_COLOUR
        x0, y0, x1, y1 = (v * zoom for v in face.box)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=max(1, round(scale / 6)))
        if len(extraction.faces) > 1:
            draw.text((x0, y0 - 1.8 * scale), f"face {k + 1}", fill=colour, font=_font(1.4 * scale),
                      stroke_width=max(1, round(scale / 8)), stroke_fill=(0, 0, 0))  # fmt: skip
    if extraction.face is not None:
        markers = extraction.markers * zoom
        draw_markers(draw, markers, outside=extraction.outside, scale=scale)
    if extraction.error:
        draw.text((4, 4), extraction.error, fill=OUTSIDE_COLOUR, font=_font(max(12.0, scale)),
                  stroke_width=2, stroke_fill=(0, 0, 0))  # fmt: skip
    return im


def draw_markers(draw: Any, markers: FloatArray, *, outside: Any, scale: float) -> None:
    """Rings and labels for (14, 2) ``markers`` on a Pillow ``ImageDraw``."""
    r = max(1.5, scale / 3)
    font = _font(scale)
    for (x, y), abbr, out in zip(markers, WIDE_ORDER, outside, strict=True):
        colour = OUTSIDE_COLOUR if out else MARKER_COLOUR
        draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=max(1, round(r / 2)))
        side = _LABEL_SIDE[abbr]
        anchor = "rm" if side < 0 else "lm"
        draw.text((x + side * 1.8 * r, y), abbr, fill=colour, font=font, anchor=anchor,
                  stroke_width=max(1, round(r / 3)), stroke_fill=(0, 0, 0))  # fmt: skip


def save_overlay(rgb: RGBArray, extraction: Extraction, path: str | os.PathLike[str]) -> Path:
    """Write the overlay (PNG or JPEG, by the suffix; PNG otherwise) atomically; its path."""
    p = Path(path)
    fmt = "JPEG" if p.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    with atomic_write(p, "wb") as fh:
        overlay(rgb, extraction).save(fh, format=fmt)
    return p


def _scale(extraction: Extraction, rgb: RGBArray) -> float:
    """A drawing unit (px): a tenth of the chosen face's eye width, else of the photo's side."""
    m = extraction.markers
    eye = float(np.hypot(*(m[WIDE_ORDER.index("ltex")] - m[WIDE_ORDER.index("rtex")])))
    if not np.isfinite(eye) or eye <= 0:
        eye = max(rgb.shape[:2]) / 6
    return max(3.0, eye / 10)


def _font(size: float) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=max(6, round(size)))
