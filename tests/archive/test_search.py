"""Search: ranked by probability, the query's own content and "different" pairs left out."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from ffmatch.archive import record_decision, search
from ffmatch.archive.search import Query, rank
from ffmatch.archive.store import bank_from_arrays
from ffmatch.core.errors import ConfigError, DataError

from .conftest import BASE, DescriptorScorer, fake_extract


def test_candidates_are_ranked_and_the_query_is_left_out_of_its_own_list(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer
) -> None:
    root, db = small_archive
    s = search(db, root / "ann" / "0.jpg", top=4, scorer=scorer, extract=fake_extract)
    assert s.in_archive == ("ann/0.jpg",)
    assert {(c.photo, c.face) for c in s.candidates[:3]} == {
        ("ann/1.jpg", 1),
        ("ann/2.jpg", 1),
        ("group/ann-and-bob.jpg", 1),
    }
    assert [c.rank for c in s.candidates] == [1, 2, 3, 4]
    assert all(c.photo != "ann/0.jpg" for c in s.candidates)
    probs = [c.probability for c in s.candidates]
    assert probs == sorted(probs, reverse=True)
    assert s.candidates[0].verdict == "same"
    assert s.candidates[-1].verdict == "different"
    assert s.candidates[0].reasons == ("descriptors close",)


def test_a_pair_decided_different_never_comes_back(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer
) -> None:
    root, db = small_archive
    record_decision(db, "ann/0.jpg", "ann/1.jpg", "different", who="test")
    s = search(db, root / "ann" / "0.jpg", top=10, scorer=scorer, extract=fake_extract)
    assert "ann/1.jpg" not in {c.photo for c in s.candidates}
    record_decision(db, "ann/1.jpg", "ann/0.jpg", "unsure", who="test")  # the latest counts
    s = search(db, root / "ann" / "0.jpg", top=10, scorer=scorer, extract=fake_extract)
    assert "ann/1.jpg" in {c.photo for c in s.candidates}


def test_a_query_from_outside_and_one_without_a_face(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer, tmp_path: Path
) -> None:
    _, db = small_archive
    q = tmp_path / "new.jpg"
    q.write_text("person=bob shot=77")
    s = search(db, q, top=2, scorer=scorer, extract=fake_extract)
    assert s.in_archive == ()
    assert [c.person for c in s.candidates] == ["", ""]
    assert {c.photo for c in s.candidates} <= {
        "bob/0.jpg",
        "bob/1.jpg",
        "bob/2.jpg",
        "group/ann-and-bob.jpg",
    }
    blank = tmp_path / "blank.jpg"
    blank.write_text("no face here")
    s = search(db, blank, top=2, scorer=scorer, extract=fake_extract)
    assert s.candidates == ()
    assert s.error.startswith("not an image")
    with pytest.raises(DataError, match=r"none\.jpg: file not found"):
        search(db, tmp_path / "none.jpg", scorer=scorer, extract=fake_extract)


def test_face_choice_and_top_are_checked(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer
) -> None:
    root, db = small_archive
    both = root / "group" / "ann-and-bob.jpg"
    s = search(db, both, top=1, face=2, scorer=scorer, extract=fake_extract)
    assert (s.query_face, s.query_faces) == (2, 2)
    assert s.candidates[0].photo.startswith("bob/")
    with pytest.raises(ConfigError, match=r"--face 3: the query .* has 2 face"):
        search(db, both, face=3, scorer=scorer, extract=fake_extract)
    with pytest.raises(ConfigError, match=r"--top: expected at least 1, found 0"):
        search(db, both, top=0, scorer=scorer, extract=fake_extract)


def test_ties_are_ordered_by_photo_then_face(scorer: DescriptorScorer) -> None:
    markers = np.broadcast_to(BASE, (4, 14, 2))
    bank = bank_from_arrays(
        photo=["d", "b", "c", "b"],
        face=[1, 2, 1, 1],
        markers=markers,
        descriptor=np.zeros((4, 128)),
        sha256=["1", "2", "3", "2"],
    )
    q = Query(source="q", sha256="q", faces=bank.take([0]), in_archive=(), error="")
    s = rank(q, bank, scorer, top=3)
    assert [(c.photo, c.face) for c in s.candidates] == [("b", 1), ("b", 2), ("c", 1)]


def test_the_appearance_prefilter_keeps_the_shortlist(monkeypatch: pytest.MonkeyPatch) -> None:
    search_module = importlib.import_module("ffmatch.archive.search")  # not the function

    class Both(DescriptorScorer):
        name = "both"

    rng = np.random.default_rng(3)
    n = 600
    bank = bank_from_arrays(
        photo=[f"p{k:03d}" for k in range(n)],
        face=[1] * n,
        markers=np.broadcast_to(BASE, (n, 14, 2)),
        descriptor=rng.normal(0, 0.4, (n, 128)),
        sha256=[""] * n,
    )
    q = Query(source="q", sha256="q", faces=bank.take([0]), in_archive=(), error="")
    full = rank(q, bank, Both(), top=5)
    monkeypatch.setattr(search_module, "PREFILTER_FROM", 100)
    monkeypatch.setattr(search_module, "PREFILTER_KEEP", 50)
    scored = search_module.score_all(Both(), bank.take([0]), bank, top=5)
    assert np.isfinite(scored).sum() == 100  # max(50, 20 x top)
    assert rank(q, bank, Both(), top=5).candidates == full.candidates


def test_a_new_index_is_seen_by_the_next_search(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer
) -> None:
    from ffmatch.archive import index_folder

    root, db = small_archive
    before = search(db, root / "cy" / "0.jpg", top=10, scorer=scorer, extract=fake_extract)
    (root / "cy" / "9.jpg").write_text("person=cy shot=9")
    index_folder(root, db, extract=fake_extract)
    after = search(db, root / "cy" / "0.jpg", top=10, scorer=scorer, extract=fake_extract)
    assert "cy/9.jpg" not in {c.photo for c in before.candidates}
    assert "cy/9.jpg" in {c.photo for c in after.candidates}
