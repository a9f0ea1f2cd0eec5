"""Appearance descriptors (dlib) and per-face quality values on the shared sample photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.core.table import DESCRIPTOR_SIZE, QUALITY_COLUMNS
from ffmatch.matcher.photos.appearance import (
    describe_faces,
    descriptor_distance,
    models_folder,
)
from ffmatch.matcher.photos.extract import (
    ExtractConfig,
    Extraction,
    FaceMeshExtractor,
    extract_photo,
    to_table,
)
from ffmatch.matcher.photos.image import read_photo
from ffmatch.matcher.photos.quality import face_quality


@pytest.fixture(scope="module")
def dlib_installed() -> None:
    pytest.importorskip("dlib")


def _descriptor(ex: Extraction) -> np.ndarray:
    assert ex.descriptor is not None, ex.source
    return ex.descriptor


@pytest.mark.usefixtures("dlib_installed")
def test_models_found_without_importing_the_package() -> None:
    folder = models_folder()
    assert folder.name == "models"
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()


@pytest.mark.usefixtures("dlib_installed")
def test_same_person_descriptors_are_close(extracted: dict[str, Extraction]) -> None:
    obama = [_descriptor(extracted[f"obama-{k}"]) for k in (1, 2, 3)]
    biden = [_descriptor(extracted[f"biden-{k}"]) for k in (1, 2)]
    assert obama[0].shape == (DESCRIPTOR_SIZE,)
    assert obama[0].dtype == np.float32
    same = [descriptor_distance(a, b) for a, b in ((obama[0], obama[1]), (obama[1], obama[2]),
                                                    (biden[0], biden[1]))]  # fmt: skip
    different = [descriptor_distance(a, b) for a in obama for b in biden]
    assert max(same) < 0.6 < min(different)  # dlib's own threshold separates them


@pytest.mark.usefixtures("dlib_installed")
def test_small_copy_keeps_its_descriptor(extracted: dict[str, Extraction]) -> None:
    near = descriptor_distance(_descriptor(extracted["obama-1"]),
                               _descriptor(extracted["obama-5-240p"]))  # fmt: skip
    assert near < 0.3


@pytest.mark.usefixtures("dlib_installed")
def test_every_face_of_a_group_photo_is_described(extracted: dict[str, Extraction]) -> None:
    faces = extracted["multi-obama-and-biden"].faces
    assert len(faces) == 2
    d = [f.descriptor for f in faces]
    assert d[0] is not None
    assert d[1] is not None
    assert descriptor_distance(d[0], d[1]) > 0.6


@pytest.mark.usefixtures("dlib_installed")
def test_describe_faces_input(photos_dir: Path) -> None:
    rgb = read_photo(photos_dir / "obama-1.jpg")
    assert describe_faces(rgb, []).shape == (0, DESCRIPTOR_SIZE)
    with pytest.raises(ConfigError, match=r"expected an \(h, w, 3\) uint8 RGB photo"):
        describe_faces(rgb[..., 0], [(0, 0, 10, 10)])


def test_appearance_can_be_turned_off(photos_dir: Path) -> None:
    with FaceMeshExtractor(ExtractConfig(appearance=False)) as ex:
        result = extract_photo(photos_dir / "obama-1.jpg", ex)
    assert result.ok
    assert result.descriptor is None
    assert to_table([result]).descriptors is None


def test_quality_values(extracted: dict[str, Extraction]) -> None:
    q = {k: e.face.quality for k, e in extracted.items() if e.face is not None}
    assert q["obama-1"].smiling
    assert not q["biden-1"].smiling
    assert q["obama-2"].mouth_open
    assert not q["rose-leslie-1"].mouth_open
    assert q["obama-5-240p"].eye_distance < 30 < q["obama-1"].eye_distance
    assert abs(q["kit-harington-2"].yaw) > 15 > abs(q["obama-1"].yaw)


def test_turning_the_head_changes_yaw_by_the_turn(extracted: dict[str, Extraction]) -> None:
    face = extracted["obama-1"].face
    assert face is not None
    a = np.radians(10.0)
    about_vertical = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    centre = face.mesh.mean(axis=0)
    turned = face_quality((face.mesh - centre) @ about_vertical.T + centre)
    assert abs(turned.yaw - face.quality.yaw) == pytest.approx(10.0, abs=0.5)
    assert turned.pitch == pytest.approx(face.quality.pitch, abs=0.5)


def test_table_holds_quality_beside_markers(extracted: dict[str, Extraction]) -> None:
    table = to_table([extracted["obama-1"], extracted["multi-two-people"]])
    assert table.quality is not None
    row = dict(zip(QUALITY_COLUMNS, table.quality[0], strict=True))
    assert row["smiling"] == 1.0
    assert row["face_left"] < row["face_right"]
    assert np.isnan(table.quality[1]).all()  # two faces and no choice: no face, no values
