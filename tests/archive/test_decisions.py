"""Decisions: every one kept with who and when; unknown photos and kinds refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.archive import list_decisions, record_decision
from ffmatch.archive.db import opened
from ffmatch.archive.decisions import latest
from ffmatch.core.errors import DataError


def test_decisions_are_kept_in_order_and_the_latest_counts(
    small_archive: tuple[Path, Path],
) -> None:
    _, db = small_archive
    first = record_decision(db, "bob/0.jpg", "ann/0.jpg", "different", note="no", who="kim")
    assert (first.a, first.b, first.who, first.note) == ("ann/0.jpg", "bob/0.jpg", "kim", "no")
    record_decision(db, "ann/0.jpg", "bob/0.jpg", "same", who="lee")
    history = list_decisions(db)
    assert [(d.decision, d.who) for d in history] == [("different", "kim"), ("same", "lee")]
    assert history[0].decided_at <= history[1].decided_at
    with opened(db) as conn:
        assert latest(conn) == {("ann/0.jpg", "bob/0.jpg"): "same"}


def test_bad_decisions_are_one_line(small_archive: tuple[Path, Path]) -> None:
    _, db = small_archive
    with pytest.raises(
        DataError, match=r"decision: expected one of same, different, unsure, found 'maybe'"
    ):
        record_decision(db, "ann/0.jpg", "bob/0.jpg", "maybe")
    with pytest.raises(DataError, match=r"no photo 'zed\.jpg' in this archive"):
        record_decision(db, "ann/0.jpg", "zed.jpg", "same")
    with pytest.raises(DataError, match="a decision needs two different photos"):
        record_decision(db, "ann/0.jpg", "ann/0.jpg", "same")
