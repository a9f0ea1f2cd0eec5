"""The embedded paper data equal the workbook's FFMs sheet; the errata explain its distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ffmatch.core.datasets import PAPER_ERRATA, Erratum, load_paper, with_errata
from ffmatch.core.errors import DataError
from ffmatch.core.io.wide import pair_distances
from ffmatch.core.table import PairTable


@pytest.fixture(scope="module")
def sheets(paper_workbook: Path) -> dict[str, pd.DataFrame]:
    """Both sheets read by pandas: a reference independent of ffmatch's reader."""
    return pd.read_excel(paper_workbook, sheet_name=["FFMs", "distances"])


def _wide(pairs: PairTable) -> np.ndarray:
    c = pairs.photos.coords
    return np.concatenate(
        [c[pairs.first].reshape(len(pairs), -1), c[pairs.second].reshape(len(pairs), -1)], axis=1
    )


def test_embedded_table_equals_the_ffms_sheet_exactly(sheets: dict[str, pd.DataFrame]) -> None:
    sheet = sheets["FFMs"]
    pairs = load_paper()
    assert list(sheet.columns[1:-1]) == [
        f"{k}{a}-{x}" for k in (1, 2)
        for a in ("rtex", "rten", "lten", "ltex", "nas", "sn", "rtal", "ltal", "ls", "sto", "li",
                  "sm", "pg", "me")
        for x in "xy"
    ]  # fmt: skip
    assert pairs.name.tolist() == sheet["image pairs"].tolist()
    assert pairs.label.tolist() == sheet["Outcome"].tolist()
    np.testing.assert_array_equal(_wide(pairs), sheet.iloc[:, 1:-1].to_numpy(dtype=float))


def test_embedded_file_is_compact() -> None:
    from importlib import resources

    size = (resources.files("ffmatch.core.datasets") / "files" / "paper_ffms.csv").read_bytes()
    assert 5_000 < len(size) < 20_000


def test_computed_variant_reproduces_the_distances_sheet(sheets: dict[str, pd.DataFrame]) -> None:
    sheet = sheets["distances"].iloc[:, 1:183].to_numpy(dtype=float)
    computed, published = load_paper(variant="computed"), load_paper()
    ours = pair_distances(_wide(computed).reshape(36, 2, 14, 2))
    np.testing.assert_allclose(ours, sheet, rtol=1e-9, atol=0)
    assert not np.allclose(pair_distances(_wide(published).reshape(36, 2, 14, 2)), sheet)
    assert computed.label.tolist() == published.label.tolist()


def test_computed_variant_reproduces_table_2_ffms_of_sets_5_6_8(table2_csv: Path) -> None:
    table2 = pd.read_csv(table2_csv)
    printed = table2.set_index("group")[["ffms_ab", "ffms_bc", "ffms_ac"]]

    def cosine_distances(pairs: PairTable, group: int) -> list[float]:
        x = _wide(pairs)[3 * (group - 1) : 3 * group].reshape(3, 2, 28)
        a, b = x[:, 0], x[:, 1]
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        return np.round(1 - cos, 3).tolist()  # rows A&B, B&C, C&A: Table 2's order

    for group in (5, 6, 8):
        assert (
            cosine_distances(load_paper(variant="computed"), group) == printed.loc[group].tolist()
        )
        assert cosine_distances(load_paper(), group) != printed.loc[group].tolist()


def test_errata_refuse_a_table_that_does_not_hold_the_published_value() -> None:
    pairs = load_paper()
    wrong = (Erratum(photo_id="1-1", marker="rtex", published=(1, 2), computed=(3, 4)),)
    with pytest.raises(
        DataError,
        match=r"photo '1-1', marker rtex: expected the published "
        r"\(1, 2\), found \(140\.0, 127\.0\)",
    ):
        with_errata(pairs, wrong)
    with pytest.raises(DataError, match=r"unknown photo id '99-1'"):
        with_errata(
            pairs, (Erratum(photo_id="99-1", marker="rtex", published=(0, 0), computed=(0, 0)),)
        )
    assert len(PAPER_ERRATA) == 4


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="variant: expected 'published' or 'computed'"):
        load_paper(variant="fixed")  # type: ignore[arg-type]
