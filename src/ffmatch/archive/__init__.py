"""The archive: index a whole photo collection once, search it with a photo, group it by
person, and keep every human decision (one SQLite file; docs/archive.md).

The public functions below are what the CLI and the web page call.
"""

from ffmatch.archive.decisions import Decision, list_decisions, record_decision
from ffmatch.archive.group import Group, Grouping, GroupMember, group
from ffmatch.archive.index import IndexReport, index_folder
from ffmatch.archive.photos import crop_jpeg, face_crop, photo_path
from ffmatch.archive.search import (
    Candidate,
    Query,
    Shortlist,
    read_query,
    search,
    search_many,
    search_query,
)
from ffmatch.archive.summary import ArchiveSummary, archive_summary

__all__ = [
    "ArchiveSummary",
    "Candidate",
    "Decision",
    "Group",
    "GroupMember",
    "Grouping",
    "IndexReport",
    "Query",
    "Shortlist",
    "archive_summary",
    "crop_jpeg",
    "face_crop",
    "group",
    "index_folder",
    "list_decisions",
    "photo_path",
    "read_query",
    "record_decision",
    "search",
    "search_many",
    "search_query",
]
