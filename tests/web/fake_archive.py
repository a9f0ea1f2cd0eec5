"""A stand-in for ``ffmatch.archive`` with the contract's names, over a folder of photos.

Only for the web tests while the real archive is not on main: it holds a few generated
photos, ranks them by a fixed rule, and keeps decisions in a SQLite table.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from PIL import Image

PEOPLE = {"ann/1.png": "Ann", "ann/2.png": "Ann", "bob/1.png": "Bob", "cy/1.png": ""}


@dataclass(frozen=True)
class Candidate:
    photo: str
    face: int
    probability: float
    verdict: str
    person: str
    reasons: tuple[str, ...] = ()
    evidence: str = "geometry"


@dataclass(frozen=True)
class Shortlist:
    query_photo: str | None
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Decision:
    a: str
    b: str
    decision: str
    note: str | None
    who: str | None
    when: str


@dataclass(frozen=True)
class Face:
    photo: str
    face: int
    person: str


@dataclass(frozen=True)
class Group:
    faces: tuple[Face, ...]
    weakest: tuple[Face, Face, float] | None


@dataclass(frozen=True)
class Grouping:
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Failed:
    photo: str
    reason: str


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    failed: tuple[Failed, ...]
    indexed_at: str
    extra: dict[str, str] = field(default_factory=dict)


def make(folder: Path) -> ModuleType:
    """A module with the archive's functions over photos written to ``folder``."""
    for k, name in enumerate(PEOPLE):
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 40), (60 * k, 90, 200 - 40 * k)).save(p)

    def _db(db_path: Path) -> sqlite3.Connection:
        con = sqlite3.connect(db_path)
        con.execute("CREATE TABLE IF NOT EXISTS decisions (a, b, decision, note, who, ts)")
        return con

    def photo_path(db_path: Path, photo_id: str) -> Path:
        if photo_id not in PEOPLE:
            raise KeyError(photo_id)
        return folder / photo_id

    def face_crop(db_path: Path, photo_id: str, face: int) -> bytes:
        if face != 0:
            raise KeyError(face)
        buf = io.BytesIO()
        Image.open(photo_path(db_path, photo_id)).convert("RGB").save(buf, format="JPEG")
        return buf.getvalue()

    def list_decisions(db_path: Path) -> list[Decision]:
        with _db(db_path) as con:
            rows = con.execute("SELECT a, b, decision, note, who, ts FROM decisions").fetchall()
        return [Decision(*r) for r in rows]

    def record_decision(db_path: Path, a: str, b: str, decision: str, *, note: str | None = None,
                        who: str | None = None) -> Decision:  # fmt: skip
        with _db(db_path) as con:
            con.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
                        (a, b, decision, note, who, "2026-01-01 00:00"))  # fmt: skip
        return Decision(a, b, decision, note, who, "2026-01-01 00:00")

    def search(db_path: Path, query: Path, *, top: int = 10) -> Shortlist:
        digest = hashlib.sha256(Path(query).read_bytes()).digest()
        me = next((p for p in PEOPLE if hashlib.sha256((folder / p).read_bytes()).digest()
                   == digest), None)  # fmt: skip
        apart = {frozenset((d.a, d.b)) for d in list_decisions(db_path)
                 if d.decision == "different"}  # fmt: skip
        out = [
            Candidate(photo=p, face=0, probability=0.9 - 0.2 * k,
                      verdict="same" if k == 0 else "different", person=PEOPLE[p])
            for k, p in enumerate(q for q in PEOPLE if q != me and frozenset((me, q)) not in apart)
        ]  # fmt: skip
        return Shortlist(query_photo=me, candidates=tuple(out[:top]))

    def group(db_path: Path) -> Grouping:
        f = {p: Face(p, 0, person) for p, person in PEOPLE.items()}
        ann = Group((f["ann/1.png"], f["ann/2.png"]), (f["ann/1.png"], f["ann/2.png"], 0.81))
        return Grouping((ann, Group((f["bob/1.png"],), None), Group((f["cy/1.png"],), None)))

    def archive_summary(db_path: Path) -> Summary:
        return Summary(counts={"photos": 5, "faces": 4, "people": 2},
                       failed=(Failed("broken.jpg", "not an image Pillow can read"),),
                       indexed_at="2026-11-29 22:00 UTC")  # fmt: skip

    mod = ModuleType("ffmatch.archive")
    for fn in (photo_path, face_crop, list_decisions, record_decision, search, group,
               archive_summary):  # fmt: skip
        setattr(mod, fn.__name__, fn)
    return mod
