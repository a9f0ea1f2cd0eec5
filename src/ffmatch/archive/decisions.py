"""People's decisions about pairs of photos: who decided what, when; the latest counts.

Every decision is kept (a history, never overwritten); for search and grouping the latest
decision of a pair counts: "different" keeps the two out of each other's shortlists and
groups, "same" joins them, "unsure" only records that someone looked.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from dataclasses import dataclass
from typing import Literal

from ffmatch.archive.db import opened, transaction, utc_now
from ffmatch.core.errors import DataError

DecisionKind = Literal["same", "different", "unsure"]
DECISIONS: tuple[str, ...] = ("same", "different", "unsure")


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """One recorded decision about two archive photos (``a`` < ``b``)."""

    id: int
    a: str
    b: str
    decision: DecisionKind
    note: str
    who: str
    decided_at: str  # UTC, ISO 8601

    @property
    def when(self) -> str:
        """``decided_at``, by the name the web page reads."""
        return self.decided_at


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return "unknown"


def record_decision(
    db_path: str | os.PathLike[str],
    a: str,
    b: str,
    decision: str,
    *,
    note: str | None = None,
    who: str | None = None,
) -> Decision:
    """Record that photos ``a`` and ``b`` (archive ids) show the same person, or not, or that
    it is unsure; DataError if either photo is not in the archive."""
    if decision not in DECISIONS:
        raise DataError(f"decision: expected one of {', '.join(DECISIONS)}, found {decision!r}")
    a, b = a.replace("\\", "/"), b.replace("\\", "/")
    if a == b:
        raise DataError(f"{a}: a decision needs two different photos")
    first, second = sorted((a, b))
    with opened(db_path) as conn:
        for pid in (first, second):
            if conn.execute("SELECT 1 FROM photos WHERE id = ?", (pid,)).fetchone() is None:
                raise DataError(
                    f"{db_path}: no photo {pid!r} in this archive (ids are paths "
                    "relative to the indexed folder, e.g. s1/1.pgm)"
                )
        when, by = utc_now(), who or _who()
        with transaction(conn):
            cur = conn.execute(
                "INSERT INTO decisions (a, b, decision, note, who, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (first, second, decision, note or "", by, when),
            )
        row_id = int(cur.lastrowid or 0)
    return Decision(
        id=row_id,
        a=first,
        b=second,
        decision=decision,  # type: ignore[arg-type]
        note=note or "",
        who=by,
        decided_at=when,
    )


def _rows(conn: sqlite3.Connection) -> list[Decision]:
    rows = conn.execute(
        "SELECT id, a, b, decision, note, who, decided_at FROM decisions ORDER BY id"
    ).fetchall()
    return [
        Decision(id=r[0], a=r[1], b=r[2], decision=r[3], note=r[4], who=r[5], decided_at=r[6])
        for r in rows
    ]


def list_decisions(db_path: str | os.PathLike[str]) -> list[Decision]:
    """Every decision ever recorded, oldest first."""
    with opened(db_path) as conn:
        return _rows(conn)


def latest(conn: sqlite3.Connection) -> dict[tuple[str, str], DecisionKind]:
    """The decision that counts for each decided pair ``(a, b)``, ``a < b``."""
    return {(d.a, d.b): d.decision for d in _rows(conn)}


def pair(a: str, b: str) -> tuple[str, str]:
    """The key of a pair in ``latest``."""
    return (a, b) if a < b else (b, a)
