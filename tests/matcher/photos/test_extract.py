"""Extraction of the 14 FFMs from photos: anatomy, awkward inputs, failures, the tidy table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.io.tidy import read_tidy, write_tidy
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.matcher.photos.extract import (
    MESH_INDICES,
    ExtractConfig,
    Extraction,
    Face,
    FaceChoice,
    FaceMeshExtractor,
    extract_photo,
    extract_photos,
    person_of,
    photo_ids,
    to_table,
)
from ffmatch.matcher.photos.image import read_photo, read_photo_reduced

I = {a: k for k, a in enumerate(WIDE_ORDER)}  # noqa: E741
SINGLE = [
    "alex-lacamoire-1", "alex-lacamoire-2", "biden-1", "biden-2", "kit-harington-1",
    "kit-harington-2", "kit-harington-3", "lin-manuel-miranda-1", "obama-1", "obama-2",
    "obama-3", "obama-4", "obama-5-240p", "partial-obama-1", "rgba-32bit", "rose-leslie-1",
    "rose-leslie-2",
]  # fmt: skip


def _eye_width(m: np.ndarray) -> float:
    return float(np.hypot(*(m[I["ltex"]] - m[I["rtex"]])))


def test_mapping_covers_the_14_markers_once() -> None:
    assert tuple(MESH_INDICES) == WIDE_ORDER
    assert MESH_INDICES["sto"] == (13, 14)  # stomion: mean of the inner-lip midpoints


@pytest.mark.parametrize("photo", SINGLE)
def test_single_face_photos_give_anatomically_ordered_markers(
    extracted: dict[str, Extraction], photo: str
) -> None:
    ex = extracted[photo]
    assert ex.ok, ex.error
    m = ex.markers
    x, y = m[:, 0], m[:, 1]
    # The subject's right is the image's left: eye corners left to right.
    assert x[I["rtex"]] < x[I["rten"]] < x[I["lten"]] < x[I["ltex"]]
    assert x[I["rtal"]] < x[I["sn"]] < x[I["ltal"]]
    # Top to bottom along the midline.
    assert y[I["nas"]] < y[I["sn"]] < y[I["ls"]] < y[I["sto"]] < y[I["li"]] < y[I["me"]]
    assert y[I["li"]] < y[I["sm"]] < y[I["pg"]] < y[I["me"]]
    # Nose width about the inner-eye spacing (alare, not the cheek points 129/358).
    ratio = (x[I["ltal"]] - x[I["rtal"]]) / (x[I["lten"]] - x[I["rten"]])
    assert 0.7 < ratio < 1.5


@pytest.mark.parametrize("photo", ["multi-two-people", "multi-obama-and-biden"])
def test_several_faces_are_reported_not_guessed(
    extracted: dict[str, Extraction], photo: str
) -> None:
    ex = extracted[photo]
    assert not ex.ok
    assert len(ex.faces) == 2
    assert "2 faces found; choose one with --face N" in ex.error
    assert np.isnan(ex.markers).all()
    with pytest.raises(DataError, match=f"{photo}.jpg: 2 faces found"):
        ex.require()


def test_face_number_and_largest_choose_among_faces(
    photos_dir: Path, extractor: FaceMeshExtractor
) -> None:
    path = photos_dir / "multi-obama-and-biden.jpg"
    left = extract_photo(path, extractor, choice=FaceChoice(number=1))
    right = extract_photo(path, extractor, choice=FaceChoice(number=2))
    largest = extract_photo(path, extractor, choice=FaceChoice(largest=True))
    assert left.ok
    assert right.ok
    assert largest.ok
    assert left.markers[I["nas"], 0] < right.markers[I["nas"], 0]
    areas = [f.area for f in largest.faces]
    assert largest.chosen == int(np.argmax(areas))
    too_far = extract_photo(path, extractor, choice=FaceChoice(number=3))
    assert too_far.error == "--face 3: only 2 faces found"


def test_face_choice_leaves_single_face_photos_alone(extracted: dict[str, Extraction]) -> None:
    faces = extracted["obama-1"].faces
    assert FaceChoice(number=2).pick(faces) == (0, "")
    assert FaceChoice(largest=True).pick(faces) == (0, "")
    assert FaceChoice(number=2).pick(()) == (None, "no face found")


def test_mirrored_face_is_measured_and_averaged(
    extracted: dict[str, Extraction], photos_dir: Path
) -> None:
    face = extracted["obama-1"].face
    assert face is not None
    assert face.mirrored is not None
    direct = Face(mesh=face.mesh).markers
    # Mapped back, the mirror's markers are the same points: right and left not swapped.
    _markers_close(direct, face.mirrored, 0.05)
    np.testing.assert_allclose(face.markers, (direct + face.mirrored) / 2)
    with FaceMeshExtractor(ExtractConfig(mirror=False)) as plain:
        alone = extract_photo(photos_dir / "obama-1.jpg", plain).face
    assert alone is not None
    assert alone.mirrored is None


def test_face_choice_rejects_bad_requests() -> None:
    with pytest.raises(ConfigError, match="not both"):
        FaceChoice(number=1, largest=True)
    with pytest.raises(ConfigError, match="from 1 \\(leftmost\\), found 0"):
        FaceChoice(number=0)


def test_partial_face_is_extracted_and_out_of_frame_markers_flagged(
    extracted: dict[str, Extraction],
) -> None:
    ex = extracted["partial-obama-1"]
    assert ex.ok
    assert ex.face is not None
    assert ex.face.box[0] < 0
    m = ex.markers
    expected = (m[:, 0] < 0) | (m[:, 0] > ex.width) | (m[:, 1] < 0) | (m[:, 1] > ex.height)
    np.testing.assert_array_equal(ex.outside, expected)


def _markers_close(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    """Markers agree within ``tol`` eye widths."""
    err = np.hypot(*(a - b).T).max() / _eye_width(a)
    assert err < tol, f"markers differ by {err:.3f} eye widths"


def test_exif_orientation_is_applied(
    photos_dir: Path, extractor: FaceMeshExtractor, tmp_path: Path
) -> None:
    upright = Image.open(photos_dir / "kit-harington-2.jpg").convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # sideways, as a camera stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    stored.save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    assert read_photo(tmp_path / "sideways.jpg").shape == (upright.height, upright.width, 3)
    plain = tmp_path / "plain.jpg"
    upright.save(plain, quality=95)
    a = extract_photo(plain, extractor).require()
    b = extract_photo(tmp_path / "sideways.jpg", extractor).require()
    _markers_close(a, b, 0.03)


@pytest.mark.parametrize("mode", ["grey", "sepia"])
def test_grey_and_sepia_scans_give_the_same_markers(
    photos_dir: Path, extractor: FaceMeshExtractor, tmp_path: Path, mode: str
) -> None:
    # Chin markers are the least stable (on obama-2 they move 0.13 eye widths in grey, where
    # the dark chin meets a dark suit); obama-1 shows the usual agreement.
    colour = Image.open(photos_dir / "obama-1.jpg").convert("RGB")
    grey = colour.convert("L")
    if mode == "grey":
        scan = grey
    else:  # sepia: brown tones from the grey levels
        g = np.asarray(grey, dtype=np.float64)[..., None]
        tone = np.array([1.07, 0.74, 0.43])
        scan = Image.fromarray(np.clip(g * tone, 0, 255).astype(np.uint8), mode="RGB")
    scan.save(tmp_path / f"{mode}.png")
    a = extract_photo(photos_dir / "obama-1.jpg", extractor).require()
    b = extract_photo(tmp_path / f"{mode}.png", extractor).require()
    _markers_close(a, b, 0.05)


def test_gif_without_a_suffix_is_read(photos_dir: Path, extractor: FaceMeshExtractor,
                                      tmp_path: Path) -> None:  # fmt: skip
    """Classic databases (Yale) store grey GIFs named like ``subject01.happy``."""
    Image.open(photos_dir / "obama-5-240p.jpg").convert("L").save(tmp_path / "s01.happy", "GIF")
    ex = extract_photo(tmp_path / "s01.happy", extractor)
    assert ex.ok


def test_rgba_png_alpha_is_laid_over_grey(photos_dir: Path) -> None:
    rgb = read_photo(photos_dir / "rgba-32bit.png")
    assert rgb.dtype == np.uint8
    assert rgb.shape[2] == 3


def test_detection_on_a_scaled_copy_keeps_original_pixels(
    photos_dir: Path, extractor: FaceMeshExtractor
) -> None:
    path = photos_dir / "obama-1.jpg"  # 910 x 1137, face ~150 px between the eye corners
    with FaceMeshExtractor(ExtractConfig(detect_side=200, mesh_side=128)) as small:
        coarse = extract_photo(path, small).require()
    fine = extract_photo(path, extractor).require()
    _markers_close(fine, coarse, 0.06)
    assert 50 < fine[I["rtex"], 0] < 910  # original pixels, not the 200 px copy's


def test_large_jpegs_are_decoded_smaller_with_coordinates_in_full_pixels(
    photos_dir: Path, extractor: FaceMeshExtractor, tmp_path: Path
) -> None:
    path = photos_dir / "obama-1.jpg"  # 910 x 1137: decoded at 1/4 when 256 px suffice
    decoded = read_photo_reduced(path, min_side=256)
    assert decoded.factor == 4
    assert decoded.rgb.shape == (285, 228, 3)
    with FaceMeshExtractor(ExtractConfig(decode_side=256)) as reduced:
        ex = extract_photo(path, reduced)
    assert (ex.width, ex.height) == (910, 1137)
    _markers_close(extract_photo(path, extractor).require(), ex.require(), 0.06)
    # Turned by EXIF: the full size is reported upright too.
    upright = Image.open(path)
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "side.jpg", exif=exif)
    side = read_photo_reduced(tmp_path / "side.jpg", min_side=256)
    assert (side.width, side.height, side.factor) == (910, 1137, 4)
    assert side.rgb.shape == (285, 228, 3)


def test_photo_without_a_face_is_flagged(extractor: FaceMeshExtractor, tmp_path: Path) -> None:
    Image.new("RGB", (300, 200), (90, 120, 200)).save(tmp_path / "sky.png")
    ex = extract_photo(tmp_path / "sky.png", extractor)
    assert not ex.ok
    assert ex.error == "no face found"
    assert ex.faces == ()
    with pytest.raises(DataError, match=r"sky.png: no face found"):
        ex.require()


def test_unreadable_files_raise_one_line(extractor: FaceMeshExtractor, tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(DataError, match=r"notes.jpg: not an image Pillow can read"):
        extract_photo(tmp_path / "notes.jpg", extractor)
    with pytest.raises(DataError, match=r"missing.jpg: file not found"):
        read_photo(tmp_path / "missing.jpg")


def test_truncated_jpeg_is_unreadable(photos_dir: Path, tmp_path: Path) -> None:
    data = (photos_dir / "obama-5-240p.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match=r"cut.jpg: unreadable image"):
        read_photo(tmp_path / "cut.jpg")


def test_a_batch_keeps_going_past_bad_files(
    photos_dir: Path, extractor: FaceMeshExtractor, tmp_path: Path
) -> None:
    (tmp_path / "notes.jpg").write_text("not a photo")
    paths = [photos_dir / "obama-5-240p.jpg", tmp_path / "notes.jpg", tmp_path / "gone.jpg"]
    out = list(extract_photos(paths, extractor))
    assert [e.ok for e in out] == [True, False, False]
    assert out[1].error.startswith("not an image")
    assert out[2].error == "file not found"


def test_table_round_trips_through_the_tidy_csv(
    extracted: dict[str, Extraction], tmp_path: Path
) -> None:
    rows = [extracted["obama-1"], extracted["multi-two-people"], extracted["partial-obama-1"]]
    table = to_table(rows, person="prefix")
    assert list(table.person) == ["obama", "multi-two-people", "partial-obama"]
    write_tidy(table, tmp_path / "ffm.csv")
    back = read_tidy(tmp_path / "ffm.csv")
    np.testing.assert_allclose(back.coords, table.coords, rtol=1e-9)
    assert back.missing[1].all()
    assert not back.missing[0].any()
    np.testing.assert_array_equal(back.derived, table.derived)


def test_photo_ids_are_unique() -> None:
    assert photo_ids(["a/x.jpg", "b/y.jpg"]) == ["x", "y"]
    assert photo_ids(["s1/1.pgm", "s2/1.pgm"]) == ["s1/1", "s2/1"]
    assert photo_ids(["y/subject01.happy", "y/subject01.sad"]) == [
        "subject01.happy",
        "subject01.sad",
    ]
    assert photo_ids(["a/x.jpg", "b/x.jpg", "b/x.png"]) == ["a/x.jpg", "b/x.jpg", "b/x.png"]
    assert photo_ids(["p/s1/1.pgm", "q/s1/1.pgm"]) == ["p/s1/1.pgm", "q/s1/1.pgm"]


def test_person_rules() -> None:
    assert person_of("d/obama-5-240p.jpg", "prefix", "obama-5-240p") == "obama"
    assert person_of("orl/s7/3.pgm", "folder", "s7/3") == "s7"
    assert person_of("d/x.jpg", "photo", "x") == "x"
    with pytest.raises(ConfigError, match="expected one of photo, prefix, folder, found 'name'"):
        person_of("d/x.jpg", "name", "x")


def test_config_ranges_are_checked() -> None:
    with pytest.raises(ConfigError, match="at least 64 px"):
        ExtractConfig(detect_side=10)
    with pytest.raises(ConfigError, match="crop_scale must be in"):
        ExtractConfig(crop_scale=0.5)
