"""Judging photo pairs in a batch (each photo once), the pairs CSV, and the verdict figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.core.io._cells import read_csv
from ffmatch.matcher.pairs_file import read_pairs
from ffmatch.matcher.photos.extract import Extraction
from ffmatch.matcher.photos.figure import marker_pair
from ffmatch.matcher.photos.image import read_photo
from ffmatch.matcher.photos.match import (
    BATCH_COLUMNS,
    extract_pair_photos,
    judge_pairs,
    write_verdicts,
)
from ffmatch.matcher.verdict import load_fusion_model


def _pairs_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    lines = ["photo_x,photo_y,face_x,face_y,note"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_batch_extracts_each_photo_once_and_flags_failures(
    photos_dir: Path, tmp_path: Path
) -> None:
    rows = [
        ("obama-1.jpg", "obama-2.jpg", "", "", "same"),
        ("obama-1.jpg", "biden-1.jpg", "", "", "other"),
        ("obama-2.jpg", "multi-two-people.jpg", "", "", "crowd"),
        ("nope.jpg", "obama-1.jpg", "", "", "missing"),
        ("obama-1.jpg", "multi-obama-and-biden.jpg", "", "2", "second face"),
        ("obama-1.jpg", "multi-obama-and-biden.jpg", "", "3", "no third face"),
    ]
    pairs = read_pairs(_pairs_csv(tmp_path / "pairs.csv", rows), added=BATCH_COLUMNS)
    progress: list[tuple[int, int]] = []
    extracted = extract_pair_photos(
        pairs, photos_dir, on_photo=lambda d, t: progress.append((d, t))
    )
    assert progress[-1] == (6, 6)  # 6 distinct photos for 12 references
    assert sorted(extracted) == sorted(pairs.distinct_photos())
    results = judge_pairs(pairs, extracted, load_fusion_model(), evidence="geometry")
    assert [r.error == "" for r in results] == [True, True, False, False, True, False]
    assert results[2].error.startswith("photo_y multi-two-people.jpg: 2 faces found")
    assert results[3].error == "photo_x nope.jpg: file not found"
    assert results[5].error == "photo_y multi-obama-and-biden.jpg: face 3: only 2 found"
    write_verdicts(pairs, results, tmp_path / "scores.csv")
    header, body, _ = read_csv(tmp_path / "scores.csv")
    assert header == ["photo_x", "photo_y", "face_x", "face_y", "note", *BATCH_COLUMNS]
    assert [r[4] for r in body] == ["same", "other", "crowd", "missing", "second face",
                                    "no third face"]  # fmt: skip
    assert len(body[0][5].split(".")[1]) == 4  # probability to 4 places
    assert body[0][6] in ("same", "inconclusive", "different")
    assert body[0][7] == results[0].verdict.evidence  # type: ignore[union-attr]
    assert body[0][7] in ("geometry", "appearance", "both")
    assert "[" in body[0][8]  # measurements in words with codes in brackets
    assert body[3][5:8] == ["", "", ""]


def test_marker_pair_parses_distance_names() -> None:
    assert marker_pair("rtex-me / eye width") == (0, 13)
    assert marker_pair("rtex-x") is None
    assert marker_pair("nose-chin / eye width") is None


def test_verdict_figure_lists_what_the_text_lists(
    extracted: dict[str, Extraction], photos_dir: Path, tmp_path: Path
) -> None:
    from ffmatch.matcher.photos.figure import save_verdict_figure, verdict_figure
    from ffmatch.matcher.verdict import compare_extractions

    x, y = extracted["obama-1"], extracted["obama-3"]
    result = compare_extractions(x, y, evidence="geometry")
    fig = verdict_figure(result, x, y, read_photo(x.source), read_photo(y.source), n=4)
    texts = " | ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    for m in (*result.differing(4), *result.agreeing(4)):
        assert f"{m.words} [{m.code}]" in texts
    assert "Glossary" in texts
    assert f"P(same person) = {result.probability:.2f}" in fig.texts[0].get_text()
    path = save_verdict_figure(result, x, y, tmp_path / "v.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
