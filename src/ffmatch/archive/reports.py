"""Shortlists and groupings as CSV rows and JSON documents (the HTML sheets are in ``sheets``).

JSON is one generic conversion of the result dataclasses, versioned, so a renamed field
shows up in the type checker rather than in a reader's script.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ffmatch.archive.group import Grouping
from ffmatch.archive.search import Shortlist
from ffmatch.core.io._cells import format_number, write_csv

JSON_VERSION = 1
SHORTLIST_COLUMNS = ("query", "rank", "candidate", "face", "probability", "verdict", "person",
                     "evidence")  # fmt: skip
GROUP_COLUMNS = ("photo", "face", "group", "person")


def jsonable(obj: Any) -> Any:
    """Dataclasses, tuples, paths and floats as plain JSON values (NaN becomes null)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def document(kind: str, results: Any) -> dict[str, Any]:
    """The JSON document ``ffmatch search/group --json`` print."""
    return {"schema_version": JSON_VERSION, "kind": kind, "results": jsonable(results)}


def shortlist_rows(shortlists: Sequence[Shortlist]) -> list[list[str]]:
    """One row per candidate; a query without candidates keeps one row saying why."""
    rows: list[list[str]] = []
    for s in shortlists:
        if not s.candidates:
            rows.append([s.query, "", "", "", "", s.error or "no candidates", "", ""])
        for c in s.candidates:
            rows.append(
                [
                    s.query,
                    str(c.rank),
                    c.photo,
                    str(c.face),
                    format_number(round(c.probability, 4)),
                    c.verdict,
                    c.person,
                    c.evidence,
                ]
            )
    return rows


def write_shortlists(shortlists: Sequence[Shortlist], path: str | os.PathLike[str]) -> None:
    """``query, rank, candidate, face, probability, verdict, person, evidence`` (atomically)."""
    write_csv(path, list(SHORTLIST_COLUMNS), shortlist_rows(shortlists))


def write_groups(grouping: Grouping, path: str | os.PathLike[str]) -> None:
    """``photo, face, group, person``: every face once, group 1 the largest (atomically)."""
    rows = [
        [m.photo, str(m.face), str(g.number), m.person] for g in grouping.groups for m in g.members
    ]
    write_csv(path, list(GROUP_COLUMNS), rows)
