"""What an archive holds: counts, failed photos with their reasons, when it was indexed."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ffmatch.archive.db import SCHEMA_VERSION, get_meta, opened


@dataclass(frozen=True, kw_only=True, slots=True)
class FailedPhoto:
    """A photo indexed without a face, and why."""

    photo: str
    status: str  # no_face or failed
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ArchiveSummary:
    """Counts and state of one archive."""

    db_path: str
    photo_dir: str
    schema_version: int
    photos: int  # rows, failed ones included
    photos_with_faces: int
    faces: int
    faces_with_descriptor: int
    people: int  # distinct known labels
    labelled_photos: int
    decisions: int
    failed: tuple[FailedPhoto, ...]  # sorted by id
    created_at: str
    indexed_at: str  # last index run, UTC ISO 8601 ("" if never finished)

    @property
    def counts(self) -> dict[str, int]:
        """The counts by name, in the order a page lists them."""
        return {
            "photos": self.photos,
            "photos with faces": self.photos_with_faces,
            "faces": self.faces,
            "faces with an appearance descriptor": self.faces_with_descriptor,
            "known people": self.people,
            "labelled photos": self.labelled_photos,
            "decisions": self.decisions,
        }


def archive_summary(db_path: str | os.PathLike[str]) -> ArchiveSummary:
    """Counts, failed photos with reasons, and when the archive was created and indexed."""
    with opened(db_path) as conn:

        def count(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        failed = conn.execute(
            "SELECT id, status, error FROM photos WHERE status != 'ok' ORDER BY id"
        ).fetchall()
        return ArchiveSummary(
            db_path=str(db_path),
            photo_dir=get_meta(conn, "photo_dir") or "",
            schema_version=SCHEMA_VERSION,
            photos=count("SELECT count(*) FROM photos"),
            photos_with_faces=count("SELECT count(*) FROM photos WHERE status = 'ok'"),
            faces=count("SELECT count(*) FROM faces"),
            faces_with_descriptor=count("SELECT count(*) FROM faces WHERE descriptor IS NOT NULL"),
            people=count("SELECT count(DISTINCT person) FROM labels"),
            labelled_photos=count("SELECT count(*) FROM labels"),
            decisions=count("SELECT count(*) FROM decisions"),
            failed=tuple(FailedPhoto(photo=r[0], status=r[1], reason=r[2]) for r in failed),
            created_at=get_meta(conn, "created_at") or "",
            indexed_at=get_meta(conn, "indexed_at") or "",
        )
