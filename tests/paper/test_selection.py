"""The paper's selection rule, against its own Table 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.paper.selection import (
    CosineTable,
    ab_weights,
    cosine_distance,
    read_cosine_csv,
    select,
)


@pytest.fixture
def table2(table2_csv: Path) -> CosineTable:
    return read_cosine_csv(table2_csv)


def test_table2_paper_rule_gives_the_papers_ffm_and_proportion_weights(
    table2: CosineTable,
) -> None:
    sel = select(table2, "paper")
    assert sel.weights["ffms"] == 22
    assert sel.weights["proportions"] == 19
    # the rounded table ties set 10's distances, so Distances gets 19, not the paper's 21
    assert sel.weights["distances"] == 19
    assert sel.selected == "ffms"


def test_table2_corrected_rule_ranks_similarity(table2: CosineTable) -> None:
    sel = select(table2, "corrected")
    assert sel.weights == {"distances": 23, "proportions": 28, "ffms": 26}
    assert sel.selected == "proportions"


def test_ties_count_against_ab() -> None:
    values = np.array([[0.1, 0.1, 0.1], [0.3, 0.2, 0.1], [0.1, 0.2, 0.3], [0.2, 0.2, 0.1]])
    np.testing.assert_array_equal(ab_weights(values, "paper"), [1, 3, 1, 2])
    np.testing.assert_array_equal(ab_weights(values, "corrected"), [1, 1, 3, 1])


def test_cosine_distance_is_one_minus_similarity() -> None:
    u = np.array([[1.0, 0.0], [1.0, 1.0]])
    v = np.array([[0.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(cosine_distance(u, v), [1.0, 0.0], atol=1e-12)


def test_unknown_rule() -> None:
    with pytest.raises(ConfigError, match="unknown selection rule 'best'"):
        ab_weights(np.zeros((1, 3)), "best")


def test_bad_cell_names_row_and_column(tmp_path: Path, table2_csv: Path) -> None:
    text = table2_csv.read_text().splitlines()
    text[3] = text[3].replace("0.001", "n/a", 1)
    bad = tmp_path / "t2.csv"
    bad.write_text("\n".join(text))
    with pytest.raises(DataError, match=r"t2.csv: row 4, column distances_ab: expected a number"):
        read_cosine_csv(bad)


def test_missing_column(tmp_path: Path) -> None:
    bad = tmp_path / "t2.csv"
    bad.write_text("group,distances_ab\n1,0.1\n")
    with pytest.raises(DataError, match="missing column 'distances_bc'"):
        read_cosine_csv(bad)
