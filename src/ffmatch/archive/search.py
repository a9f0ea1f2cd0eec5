"""Search the archive with a photo: its face against every stored face, one matrix call.

A query whose content is already in the archive (same SHA-256) uses its stored faces, is
said to be there, and is left out of its own shortlist; photos decided "different" from it
never come back as candidates.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ffmatch.archive import decisions, store
from ffmatch.archive.db import opened
from ffmatch.archive.neighbours import descriptor_distance2
from ffmatch.archive.records import Extract, PhotoTask, extract_record
from ffmatch.archive.scoring import Scorer, Verdict, default_scorer
from ffmatch.archive.store import FaceBank
from ffmatch.archive.walk import sha256_of
from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.table import FloatArray

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One stored face on a shortlist."""

    rank: int  # 1 = most likely the same person
    photo: str  # archive id
    face: int  # 1 = leftmost in its photo
    probability: float  # calibrated P(same person)
    verdict: Verdict
    person: str  # its known label, "" if none
    reasons: tuple[str, ...]  # the top evidence in words
    evidence: str  # what its verdict used: geometry, appearance or both


@dataclass(frozen=True, kw_only=True, slots=True)
class Shortlist:
    """The archive's most likely matches of one query photo."""

    query: str  # the query file as given
    query_face: int  # which of its faces was searched (1 = leftmost); 0 when none was found
    query_faces: int  # faces found in the query
    in_archive: tuple[str, ...]  # archive ids with the query's content (left out below)
    candidates: tuple[Candidate, ...]
    evidence: str
    error: str = ""  # why there are no candidates (no face in the query), else ""
    query_box: tuple[float, ...] = ()  # left, top, right, bottom of the searched face
    query_markers: tuple[tuple[float, float], ...] = ()  # its 14 markers (WIDE_ORDER, px)
    offset: int = 0  # candidates ranked above these, left out (rank = offset + 1 first)
    total: int = 0  # candidates in the whole ranking (every face scored and not left out)

    @property
    def query_photo(self) -> str | None:
        """The archive id of the query when the archive holds its content, else None."""
        return self.in_archive[0] if self.in_archive else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Query:
    """A query photo's faces, ready to score."""

    source: str
    sha256: str
    faces: FaceBank
    in_archive: tuple[str, ...]
    error: str


def query_faces(
    conn: sqlite3.Connection, path: str | os.PathLike[str], *, extract: Extract = extract_record
) -> Query:
    """The query's faces: stored ones if the archive holds its content, else extracted."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: {'not a file' if p.exists() else 'file not found'}")
    digest = sha256_of(p)
    same = tuple(store.photos_with_hash(conn, digest))
    if same:
        bank = store.load_bank_of(conn, same[0])
        return Query(
            source=str(p),
            sha256=digest,
            faces=bank,
            in_archive=same,
            error="" if len(bank) else "no face found",
        )
    st = p.stat()
    rec = extract(
        PhotoTask(
            photo_id=p.name,
            path=str(p.absolute()),
            sha256=digest,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
        )
    )
    faces = store.bank_from_records(rec)
    return Query(source=str(p), sha256=digest, faces=faces, in_archive=(), error=rec.error)


def rank(
    query: Query,
    bank: FaceBank,
    scorer: Scorer,
    *,
    top: int,
    offset: int = 0,
    face: int | None = None,
    excluded_photos: frozenset[str] = frozenset(),
) -> Shortlist:
    """The ``top`` faces of ``bank`` most likely to show the query's person, after the
    ``offset`` best (a page of the whole ranking).

    ``face`` picks the query face (1 = leftmost); by default the largest. Faces of the
    query's own content and of ``excluded_photos`` are left out.
    """
    if top < 1:
        raise ConfigError(f"--top: expected at least 1, found {top}")
    if offset < 0:
        raise ConfigError(f"offset: expected 0 or more, found {offset}")
    n = len(query.faces)
    if n == 0:
        return Shortlist(
            query=query.source,
            query_face=0,
            query_faces=0,
            in_archive=query.in_archive,
            candidates=(),
            evidence=scorer.name,
            error=query.error or "no face found",
        )
    if face is None:
        b = query.faces.box
        k = int(np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
    elif not 1 <= face <= n:
        raise ConfigError(f"--face {face}: the query {query.source} has {n} face(s)")
    else:
        k = face - 1
    one = query.faces.take([k])
    p = score_all(scorer, one, bank, top=top)
    # Only a query the archive holds (``in_archive``) has stored faces of its own content;
    # for any other the 1M-string comparison is skipped.
    keep = bank.sha256 != query.sha256 if query.in_archive else np.ones(len(bank), dtype=bool)
    if excluded_photos:
        keep &= ~np.isin(bank.photo, list(excluded_photos))
    p = np.where(keep, p, -np.inf)
    total = int(np.isfinite(p).sum())  # past PREFILTER_FROM, faces not scored are -inf too
    m = min(offset + top, total)
    if m == 0:
        best = np.zeros(0, dtype=np.int64)
    else:
        # The m best in O(N), widened to every face tied with the m-th, then ordered: highest
        # first, ties by photo id then face, so the list never depends on the run.
        part = np.argpartition(-p, m - 1)[:m] if m < len(p) else np.arange(len(p))
        best = np.flatnonzero(p >= p[part].min())
        best = best[np.lexsort((bank.face[best], bank.photo[best], -p[best]))][:m]
    cands = []
    for r, i in enumerate(best[offset:], start=offset):
        prob = float(p[i])
        why = scorer.explain(one, bank.take([i]), prob)
        cands.append(
            Candidate(
                rank=r + 1,
                photo=str(bank.photo[i]),
                face=int(bank.face[i]),
                probability=prob,
                verdict=why.verdict,
                person=str(bank.person[i]),
                reasons=why.reasons,
                evidence=why.evidence,
            )
        )
    return Shortlist(
        query=query.source,
        query_face=k + 1,
        query_faces=n,
        in_archive=query.in_archive,
        candidates=tuple(cands),
        evidence=scorer.name,
        query_box=tuple(float(v) for v in one.box[0]),
        query_markers=tuple((float(x), float(y)) for x, y in one.markers[0]),
        offset=offset,
        total=total,
    )


PREFILTER_FROM = 100_000  # faces: from here on "both" scores only the nearest by appearance
PREFILTER_KEEP = 2_000  # faces scored in full after the appearance prefilter (at least 20 x top)


def score_all(scorer: Scorer, one: FaceBank, bank: FaceBank, *, top: int) -> FloatArray:
    """(N,) P(same) of the query face against every stored face (-inf: not scored).

    Up to ``PREFILTER_FROM`` faces, and for any evidence but "both", every face is scored in
    one vectorised call. Past it, "both" (whose geometry part, a PLDA score per pair, costs
    about 50 us a pair) first ranks all faces by descriptor distance (one (N, 128) matrix
    product) and scores in full only the ``PREFILTER_KEEP`` nearest and the faces without a
    descriptor: a face far in appearance cannot reach the top of the fused probability,
    whose appearance weight dominates (docs/archive.md).
    """
    n = len(bank)
    has = bank.has_descriptor
    if scorer.name != "both" or n <= PREFILTER_FROM or np.isnan(one.descriptor[0, 0]):
        return scorer.against(one, bank)
    d2 = descriptor_distance2(one.descriptor[0], bank.descriptor, bank.descriptor_norm2)
    d2 = np.where(has, d2, np.inf)
    keep = min(max(PREFILTER_KEEP, 20 * top), n)
    near = np.argpartition(d2, keep - 1)[:keep]
    rows = np.union1d(near, np.flatnonzero(~has))
    p = np.full(n, -np.inf)
    p[rows] = scorer.against(one, bank.take(rows))
    return p


def different_from(conn: sqlite3.Connection, photo_ids: tuple[str, ...]) -> frozenset[str]:
    """Photos whose latest decision with any of ``photo_ids`` is "different"."""
    ids = set(photo_ids)
    out = set()
    for (a, b), d in decisions.latest(conn).items():
        if d == "different" and (a in ids or b in ids):
            out.add(b if a in ids else a)
    return frozenset(out - ids)


def search(
    db_path: str | os.PathLike[str],
    query_photo_path: str | os.PathLike[str],
    *,
    top: int = 10,
    offset: int = 0,
    evidence: str | None = None,
    face: int | None = None,
    scorer: Scorer | None = None,
    extract: Extract = extract_record,
) -> Shortlist:
    """The ``top`` archive faces most likely to show the person in the query photo, after
    the ``offset`` best."""
    return search_many(
        db_path,
        [query_photo_path],
        top=top,
        offset=offset,
        evidence=evidence,
        face=face,
        scorer=scorer,
        extract=extract,
    )[0]


def search_many(
    db_path: str | os.PathLike[str],
    queries: list[str | os.PathLike[str]],
    *,
    top: int = 10,
    offset: int = 0,
    evidence: str | None = None,
    face: int | None = None,
    scorer: Scorer | None = None,
    extract: Extract = extract_record,
) -> list[Shortlist]:
    """``search`` for each query photo (folders: every photo inside, recursively, sorted),
    loading the archive's faces once."""
    s = scorer or default_scorer(evidence)
    files = expand_queries(queries)
    with opened(db_path) as conn:
        bank = store.cached_bank(conn, db_path)
        out = []
        for f in files:
            q = query_faces(conn, f, extract=extract)
            out.append(
                rank(
                    q,
                    bank,
                    s,
                    top=top,
                    offset=offset,
                    face=face,
                    excluded_photos=different_from(conn, q.in_archive),
                )
            )
    return out


def read_query(
    db_path: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    extract: Extract = extract_record,
) -> Query:
    """The faces of the photo at ``path``, measured once, so that every page of its ranking
    (``search_query``) can be had without measuring it again."""
    with opened(db_path) as conn:
        return query_faces(conn, path, extract=extract)


def search_query(
    db_path: str | os.PathLike[str],
    query: Query,
    *,
    top: int = 10,
    offset: int = 0,
    evidence: str | None = None,
    face: int | None = None,
    scorer: Scorer | None = None,
) -> Shortlist:
    """``search`` for a query already measured by ``read_query`` (with the decisions as they
    are now)."""
    s = scorer or default_scorer(evidence)
    with opened(db_path) as conn:
        bank = store.cached_bank(conn, db_path)
        excluded = different_from(conn, query.in_archive)
    return rank(query, bank, s, top=top, offset=offset, face=face, excluded_photos=excluded)


def expand_queries(items: list[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, folders replaced by the photos inside (recursively, sorted)."""
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(
                p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
            )
            if not found:
                raise DataError(f"{item}: no photos in this folder ({', '.join(PHOTO_SUFFIXES)})")
            files += found
        elif not item.is_file():
            raise DataError(f"{item}: {'not a file' if item.exists() else 'file not found'}")
        else:
            files.append(item)
    return files
