"""The FFM schema against the paper's Table 1."""

from __future__ import annotations

import csv
from pathlib import Path

from ffmatch.core.markers import MARKER_PAIRS, MARKERS, N_DISTANCES, WIDE_ORDER, coordinate_columns


def test_markers_are_table1_in_order(table1_csv: Path) -> None:
    with table1_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(m.name, m.abbreviation, m.kind) for m in MARKERS] == [
        (r["marker"], r["abbreviation"], r["kind"]) for r in rows
    ]


def test_wide_order_is_a_permutation_of_table1() -> None:
    assert sorted(WIDE_ORDER) == sorted(m.abbreviation for m in MARKERS)
    assert WIDE_ORDER[:4] == ("rtex", "rten", "lten", "ltex")


def test_91_pairs_and_56_coordinate_columns() -> None:
    assert N_DISTANCES == len(MARKER_PAIRS) == 91
    assert len(coordinate_columns("1")) + len(coordinate_columns("2")) == 56
    assert coordinate_columns("1")[:2] == ["1rtex-x", "1rtex-y"]
