"""Uploaded photos: checked by Pillow, written under a private temporary folder, named safely.

The page never trusts an upload's file name: it is kept only for messages, and the bytes go
to a fixed name (``a.jpg``, ``b.png``...) chosen from the format Pillow recognised.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from ffmatch.core.errors import DataError

# Pillow format -> the suffix the saved copy gets (the matcher reads by content anyway).
_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif",
           "WEBP": ".webp", "PPM": ".ppm", "MPO": ".jpg"}  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Upload:
    """One checked upload: the name the user gave (for messages only) and where it was saved."""

    name: str
    path: Path


def display_name(filename: str | None, fallback: str) -> str:
    """The upload's own file name without folders or control characters, for messages."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:120]
    return base or fallback


def save_upload(data: bytes, *, filename: str | None, field: str, folder: Path) -> Upload:
    """Check ``data`` is an image Pillow can read and write it to ``folder/<field><suffix>``.

    DataError (one line naming the upload) for empty or unreadable files.
    """
    from PIL import Image, UnidentifiedImageError

    name = display_name(filename, field)
    if not data:
        raise DataError(f"{name}: the file is empty; choose a photo (JPEG, PNG, ...)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format or ""
            im.verify()  # reads the whole file's structure without decoding the pixels
    except UnidentifiedImageError:
        raise DataError(
            f"{name}: not an image Pillow can read (expected JPEG, PNG, PGM, ...)"
        ) from None
    except Image.DecompressionBombError:
        raise DataError(f"{name}: image too large to read safely") from None
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt files
        raise DataError(f"{name}: broken image ({err})") from None
    path = folder / f"{field}{_SUFFIX.get(fmt, '.img')}"
    path.write_bytes(data)
    return Upload(name=name, path=path)


def public_message(err: Exception, uploads: list[Upload]) -> str:
    """The error's message with each saved copy's path replaced by the user's own file name."""
    text = str(err)
    for up in uploads:
        text = text.replace(str(up.path), up.name)
    return text
