"""Uploads: the user's file name kept for messages only, bytes checked by Pillow first."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from ffmatch.core.errors import DataError
from ffmatch.web.uploads import Upload, display_name, public_message, save_upload


@pytest.mark.parametrize(
    ("given", "shown"),
    [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\face.jpg", "face.jpg"),
     ("/abs/olute.png", "olute.png"), ("bad\x00name\n.jpg", "badname.jpg"), ("", "a"),
     (None, "a"), ("../", "a")],
)  # fmt: skip
def test_display_name_keeps_no_folders_nor_control_characters(
    given: str | None, shown: str
) -> None:
    assert display_name(given, "a") == shown


def test_a_photo_is_saved_under_a_fixed_name_by_its_format(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="JPEG")
    up = save_upload(buf.getvalue(), filename="../../x.png", field="b", folder=tmp_path)
    assert up == Upload(name="x.png", path=tmp_path / "b.jpg")  # the content decides: JPEG
    assert up.path.read_bytes() == buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "scan.tif: the file is empty; choose a photo (JPEG, PNG, ...)"),
     (b"%PDF-1.4", "scan.tif: not an image Pillow can read (expected JPEG, PNG, PGM, ...)")],
)  # fmt: skip
def test_what_is_no_photo_is_refused_in_one_line(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        save_upload(data, filename="scan.tif", field="a", folder=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_messages_name_the_users_file_not_the_saved_copy(tmp_path: Path) -> None:
    up = Upload(name="grandma.jpg", path=tmp_path / "a.jpg")
    err = DataError(f"{tmp_path / 'a.jpg'}: no face found")
    assert public_message(err, [up]) == "grandma.jpg: no face found"
