"""The representations and the selection rule on the paper's own data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.datasets import load_paper
from ffmatch.core.io.workbook import read_workbook_distances
from ffmatch.paper.representations import pair_features
from ffmatch.paper.selection import cosine_table, select


@pytest.fixture(scope="module")
def workbook_distances(paper_workbook: Path) -> np.ndarray:
    return read_workbook_distances(paper_workbook)


def test_distances_equal_the_workbook_sheet(workbook_distances: np.ndarray) -> None:
    # the sheet was computed from the coordinates with the four errata applied
    got = pair_features(load_paper(variant="computed"), "distances")
    np.testing.assert_allclose(got, workbook_distances, rtol=0, atol=1e-9)


def test_published_coordinates_differ_only_at_the_errata(workbook_distances: np.ndarray) -> None:
    got = pair_features(load_paper(), "distances")
    bad_rows = np.flatnonzero(np.abs(got - workbook_distances).max(axis=1) > 1e-9)
    # photos 5-1, 6-1, 8-2 and 8-3 each sit in two rows (sets 5, 6 and 8)
    assert set(bad_rows) == {12, 14, 15, 17, 21, 22, 23}


def test_ffms_are_the_workbook_columns() -> None:
    pairs = load_paper()
    x = pair_features(pairs, "ffms")
    assert x.shape == (36, 56)
    np.testing.assert_array_equal(x[:, :28], pairs.photos.coords[pairs.first].reshape(36, 28))


def test_set_one_cosine_distances_match_table2() -> None:
    table = cosine_table(load_paper().photos)
    np.testing.assert_allclose(table.values["ffms"][0], [0.029, 0.035, 0.001], atol=5e-4)


@pytest.mark.parametrize(
    ("variant", "rule", "selected"),
    [
        ("published", "paper", "ffms"),
        ("published", "corrected", "distances"),
        ("computed", "paper", "ffms"),
    ],
)
def test_selection_on_the_workbook(variant: str, rule: str, selected: str) -> None:
    sel = select(cosine_table(load_paper(variant=variant).photos), rule)  # type: ignore[arg-type]
    assert sel.selected == selected
