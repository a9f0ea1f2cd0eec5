"""Archive photos by id: where the file is, and a face cropped out of it as JPEG bytes.

The web page serves files only through these: an id is looked up in the archive, and its
path must stay inside the indexed folder, so no request can name a file elsewhere.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ffmatch.archive.db import get_meta, opened
from ffmatch.core.errors import DataError

CROP_SIDE = 160  # px: the longer side of a face crop on contact sheets and the web page
CROP_MARGIN = 0.25  # of the box's longer side, added on every side


def photo_path(db_path: str | os.PathLike[str], photo_id: str) -> Path:
    """The file of an indexed photo; DataError for an id the archive does not hold."""
    with opened(db_path) as conn:
        root = get_meta(conn, "photo_dir")
        known = conn.execute("SELECT 1 FROM photos WHERE id = ?", (photo_id,)).fetchone()
    if root is None or known is None:
        raise DataError(f"{db_path}: no photo {photo_id!r} in this archive")
    base = Path(root)
    path = base / photo_id
    # Ids come from our own walk, but the file may have been swapped for a link since.
    if ".." in Path(photo_id).parts or not path.resolve().is_relative_to(base.resolve()):
        raise DataError(f"{photo_id}: resolves outside the indexed folder; not served")
    return path


def face_crop(
    db_path: str | os.PathLike[str], photo_id: str, face: int, *, side: int = CROP_SIDE
) -> bytes:
    """The face (1 = leftmost) cut from its photo with a margin, as JPEG bytes."""
    with opened(db_path) as conn:
        row = conn.execute(
            "SELECT box_left, box_top, box_right, box_bottom FROM faces WHERE photo = ? "
            "AND face = ?",
            (photo_id, face),
        ).fetchone()
    if row is None:
        raise DataError(f"{db_path}: no face {face} of photo {photo_id!r} in this archive")
    return crop_jpeg(photo_path(db_path, photo_id), tuple(row), side=side)


def crop_jpeg(
    path: str | os.PathLike[str], box: tuple[float, ...], *, side: int = CROP_SIDE
) -> bytes:
    """The square around ``box`` (plus a margin) of the photo at ``path``, as JPEG bytes."""
    from PIL import Image

    from ffmatch.matcher.photos.image import read_photo

    im = crop_face(Image.fromarray(read_photo(path)), box)
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def crop_face(image: Any, box: tuple[float, ...], *, zoom: float = 1.0) -> Any:
    """The square around ``box`` (left, top, right, bottom; times ``zoom`` for an enlarged
    copy of the photo) plus a margin, cut from a Pillow image; outside the photo is black."""
    x0, y0, x1, y1 = (v * zoom for v in box)
    half = max(x1 - x0, y1 - y0) * (0.5 + CROP_MARGIN)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top, side = round(cx - half), round(cy - half), max(1, round(2 * half))
    return image.crop((left, top, left + side, top + side))  # square, whatever the rounding
