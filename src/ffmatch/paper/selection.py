"""Choosing the representation by ranking cosine similarities (section 2.1, Table 2).

For each set of three photos and each representation, the cosine similarity of the pairs
A&B, B&C and A&C. A&B's rank among the three earns a weight (3 highest, 2, 1 lowest); the
representation with the largest weight sum is selected.

Table 2 prints cosine *distances* (1 - similarity: set 1's FFMs give 0.029, 0.035, 0.001 from
the workbook), and the paper ranked those values highest first, which rewards the *least*
similar A&B. Two named rules:

- ``paper``: rank the printed values (cosine distances) highest first, as the paper did;
- ``corrected``: rank similarity highest first (the smallest distance earns 3).

Ties count against A&B: its weight is 1 plus the number of the other two pairs it strictly
beats. The printed Table 2 is rounded to 3 decimals, so ties occur (set 10's distances are all
0.001); that is why the rounded table gives Distances 19, where the paper (from unrounded
values) reports 21. Between representations with equal sums the first of ``PREFERENCE`` wins
(FFMs first: the paper's own choice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.table import FloatArray, PhotoTable
from ffmatch.paper.representations import PHOTO_FEATURES

Rule = Literal["paper", "corrected"]
RULES: tuple[str, ...] = get_args(Rule)
ORDER: tuple[str, ...] = ("distances", "proportions", "ffms")
"""Representations in Table 2's column order."""
PREFERENCE: tuple[str, ...] = ("ffms", "distances", "proportions")
"""Tie-break order between representations with equal weight sums."""
PAIRS = ("ab", "bc", "ac")


@dataclass(frozen=True, kw_only=True, slots=True)
class CosineTable:
    """Cosine distances (1 - similarity) per set: ``values[rep]`` is (n_sets, 3), A&B, B&C, A&C."""

    sets: npt.NDArray[np.str_]
    values: Mapping[str, FloatArray]


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    """The outcome of the selection rule: weight sums per representation and the winner."""

    rule: str
    weights: Mapping[str, int]
    selected: str
    per_set: Mapping[str, tuple[int, ...]]


def cosine_distance(u: FloatArray, v: FloatArray) -> FloatArray:
    """Row-wise 1 - cos(u, v) for (n, k) arrays."""
    num = (u * v).sum(axis=1)
    den = np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1)
    return np.asarray(1.0 - num / den)


def cosine_table(photos: PhotoTable) -> CosineTable:
    """Table 2 recomputed from landmark data whose photos form sets of A, B and C."""
    sets = np.unique(photos.person)
    rows: dict[str, list[int]] = {}
    for role in ("A", "B", "C"):
        idx = []
        for s in sets:
            hit = np.flatnonzero((photos.person == s) & (photos.role == role))
            if len(hit) != 1:
                raise DataError(
                    f"{photos.source}: set {s!r} has {len(hit)} photos with role {role}; "
                    "selection needs exactly one A, one B and one C per set"
                )
            idx.append(int(hit[0]))
        rows[role] = idx
    values: dict[str, FloatArray] = {}
    for rep in ORDER:
        feats = PHOTO_FEATURES[rep](photos.coords)
        a, b, c = (feats[rows[r]] for r in ("A", "B", "C"))
        values[rep] = np.stack(
            [cosine_distance(a, b), cosine_distance(b, c), cosine_distance(a, c)], axis=1
        )
    return CosineTable(sets=sets.astype(str), values=values)


def read_cosine_csv(path: Path) -> CosineTable:
    """Read a table shaped like ``table2_cosine_similarity.csv`` (cosine distances)."""
    from ffmatch.core.io._cells import check_row_lengths, parse_block, read_csv

    header, rows, numbers = read_csv(path)
    check_row_lengths(rows, numbers, width=len(header), source=str(path))
    needed = ["group"] + [f"{rep}_{p}" for rep in ORDER for p in PAIRS]
    missing = [c for c in needed if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column {missing[0]!r}; expected columns {', '.join(needed)}"
        )
    values: dict[str, FloatArray] = {}
    for rep in ORDER:
        cols = [f"{rep}_{p}" for p in PAIRS]
        at = [header.index(c) for c in cols]
        values[rep] = parse_block(
            [[row[k] for k in at] for row in rows], columns=cols, row_numbers=numbers,
            source=str(path),
        )  # fmt: skip
    group = header.index("group")
    return CosineTable(sets=np.array([row[group].strip() for row in rows], dtype=str),
                       values=values)  # fmt: skip


def ab_weights(values: FloatArray, rule: str) -> npt.NDArray[np.int64]:
    """Per set, A&B's weight: 1 + the number of the other two pairs it strictly beats."""
    if rule not in RULES:
        raise ConfigError(f"unknown selection rule {rule!r}; expected one of {', '.join(RULES)}")
    ab, others = values[:, :1], values[:, 1:]
    # paper: a larger printed value ranks higher; corrected: a smaller distance ranks higher.
    beats = ab > others if rule == "paper" else ab < others
    return np.asarray(1 + beats.sum(axis=1), dtype=np.int64)


def select(table: CosineTable, rule: str = "paper") -> Selection:
    """Apply the rank-weighting rule and pick the representation with the largest weight sum."""
    per_set = {rep: ab_weights(table.values[rep], rule) for rep in ORDER}
    weights = {rep: int(w.sum()) for rep, w in per_set.items()}
    best = max(weights.values())
    selected = next(rep for rep in PREFERENCE if weights[rep] == best)
    return Selection(
        rule=rule,
        weights=weights,
        selected=selected,
        per_set={rep: tuple(int(x) for x in w) for rep, w in per_set.items()},
    )
