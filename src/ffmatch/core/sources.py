"""Resolve a ``--data`` argument (a dataset name or a file) into a validated pair table.

Names: ``paper`` (the 36 pair rows embedded in the package), ``paper-computed`` (the same with
the four markers corrected that the paper's distances and Table 2 were computed from; see
docs/data-formats.md), ``paper-workbook`` (the original workbook, fetched into the data
home), ``muct`` (MUCT's landmarks, fetched; pairs drawn at the paper's 1:2 ratio).
A file is read by its kind: ``.xlsx`` as the paper's workbook; a CSV whose
header has ``photo_id`` as a tidy landmark table; one with ``Outcome`` as the paper's wide FFM
table; one starting ``name,tag`` as MUCT landmarks.
"""

from __future__ import annotations

from pathlib import Path

from ffmatch.core.errors import DataError
from ffmatch.core.table import PairTable, PhotoTable, check_faces

DATASETS = ("paper", "paper-computed", "paper-workbook", "muct")


def file_kind(path: Path) -> str:
    """What a landmark file is, from its name and header: ``workbook``, ``muct``, ``tidy``
    or ``wide``; DataError (one line, from ``read_header``) for anything else."""
    from ffmatch.core.io._cells import read_header

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "workbook"
    header = read_header(path)
    if header[:2] == ["name", "tag"]:
        return "muct"
    if "photo_id" in header:
        return "tidy"
    if "Outcome" in header:
        return "wide"
    shown = ",".join(header)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise DataError(
        f"{path}: unrecognised header {shown!r}; expected a tidy landmark table (photo_id, "
        "person, rtex_x, ...), the paper's wide table (..., Outcome) or MUCT landmarks "
        "(name,tag,...)"
    )


def load_photos(spec: str) -> PhotoTable:
    """The photos of a dataset name or landmark file (see the module docstring)."""
    from ffmatch.core import datasets
    from ffmatch.core.io.muct import read_muct
    from ffmatch.core.io.tidy import read_tidy

    if spec in ("paper", "paper-computed", "paper-workbook"):
        return load_pairs(spec).photos
    if spec == "muct":
        return datasets.load_muct()
    path = _existing(spec)
    kind = file_kind(path)
    if kind == "muct":
        return check_faces(read_muct(path))
    if kind == "tidy":
        return read_tidy(path)
    return _file_pairs(path, kind).photos


def load_pairs(spec: str, *, seed: int = 0, impostor_ratio: float = 2.0) -> PairTable:
    """The pair table of a dataset name or file (see the module docstring)."""
    from ffmatch.core import datasets
    from ffmatch.core.io.workbook import read_workbook
    from ffmatch.core.pairs import paper_pairs, person_pairs

    if spec == "paper":
        return datasets.load_paper()
    if spec == "paper-computed":
        return datasets.load_paper(variant="computed")
    if spec == "paper-workbook":
        return read_workbook(datasets.fetch_paper_workbook())
    if spec == "muct":
        return person_pairs(datasets.load_muct(), impostor_ratio=impostor_ratio, seed=seed)
    path = _existing(spec)
    kind = file_kind(path)
    if kind in ("workbook", "wide"):
        return _file_pairs(path, kind)
    photos = load_photos(spec)  # a photo table: muct or tidy, never back here
    if set(photos.role) >= {"A", "B", "C"}:
        return paper_pairs(photos)
    return person_pairs(photos, impostor_ratio=impostor_ratio, seed=seed)


def _file_pairs(path: Path, kind: str) -> PairTable:
    """The pairs of a file that holds pairs (the paper's workbook or wide table)."""
    from ffmatch.core.io.wide import read_wide_ffms
    from ffmatch.core.io.workbook import read_workbook

    pairs = read_workbook(path) if kind == "workbook" else read_wide_ffms(path)
    check_faces(pairs.photos)
    return pairs


def _existing(spec: str) -> Path:
    path = Path(spec)
    if path.is_dir():
        raise DataError(f"{spec}: expected a landmark file, found a folder")
    if not path.is_file():
        raise DataError(
            f"{spec}: no such file; expected a landmark file or one of {', '.join(DATASETS)}"
        )
    return path
