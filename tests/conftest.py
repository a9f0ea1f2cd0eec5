"""Shared fixtures: the full data sets (skipped where absent, never in CI), tiny data, tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.markers import N_MARKERS
from ffmatch.core.table import PhotoTable

pytest_plugins = ["pytester"]  # tests/test_data_home.py runs pytest on a tiny test


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    """Train with one thread, as the CLI does by default (``train_many``, both engines; and
    torch for the tests that run it directly): the tests' networks are tiny, and two
    intra-op threads stall for seconds when the CPU is shared."""
    import torch

    from ffmatch.paper.nn.train import set_threads, training_threads

    before = training_threads(), torch.get_num_threads()
    set_threads(1)
    torch.set_num_threads(1)
    yield
    set_threads(before[0])
    torch.set_num_threads(before[1])


TEST_DATA = Path(__file__).parent / "data"
"""Tiny data sets that ship with the tests (tests/data/README.md says where each came from)."""


def data_home() -> Path:
    """The full data sets: ``$FFMATCH_DATA``, else ``../shared/data`` beside the checkout."""
    default = Path(__file__).parents[1] / ".." / "shared" / "data"
    return Path(os.environ.get("FFMATCH_DATA", default))


def need_data(*parts: str) -> Path:
    """A file or folder of the full data sets, or skip the test where the data home lacks it.

    CI sets ``FFMATCH_REQUIRE_DATA=1``: there a missing file fails the test instead, so no test
    of the full data sets is skipped unnoticed.
    """
    path = data_home().joinpath(*parts)
    if path.exists():
        return path
    why = f"{path} not found: this test needs the full data sets (set FFMATCH_DATA)"
    if os.environ.get("FFMATCH_REQUIRE_DATA") == "1":
        pytest.fail(f"{why}; FFMATCH_REQUIRE_DATA=1 forbids skipping it")
    pytest.skip(why)


@pytest.fixture(scope="session")
def paper_workbook() -> Path:
    """The paper's workbook (1.3 MB), from the data home."""
    return need_data("paper", "facial-features.xlsx")


@pytest.fixture(scope="session")
def muct_file() -> Path:
    """MUCT's 68-point landmarks, all 276 people, from the data home."""
    return need_data("muct", "muct68-opencv.csv.gz")


@pytest.fixture(scope="session")
def shared_photos() -> Path:
    """The folder of face photos (tests/data/photos holds a few small ones), from the data home."""
    return need_data("photos")


@pytest.fixture(scope="session")
def orl_faces() -> Path:
    """The ORL / AT&T faces (not redistributable, so never copied here), from the data home."""
    return need_data("faces-orl")


@pytest.fixture(scope="session")
def muct_first24() -> Path:
    """MUCT's first 24 people (000-023, no mirrors), cut from the full file; ships here."""
    return TEST_DATA / "muct" / "muct68-first24.csv.gz"


@pytest.fixture(scope="session")
def small_photos() -> Path:
    """Three small photos (obama-1, obama-5-240p, multi-two-people); ship with the tests."""
    return TEST_DATA / "photos"


@pytest.fixture(scope="session")
def table1_csv() -> Path:
    """The paper's Table 1 (the 14 markers); ships with the tests."""
    return TEST_DATA / "paper" / "table1_ffm_markers.csv"


@pytest.fixture(scope="session")
def table2_csv() -> Path:
    """The paper's Table 2 (cosine values as printed); ships with the tests."""
    return TEST_DATA / "paper" / "table2_cosine_similarity.csv"


def _make_photos(
    n_sets: int = 2, *, seed: int = 0, roles: bool = True, per_set: int = 3
) -> PhotoTable:
    """``n_sets`` sets of photos ``"<set>-<k>"`` with whole-pixel random markers (no NaN)."""
    rng = np.random.default_rng(seed)
    ids = [f"{s}-{k}" for s in range(1, n_sets + 1) for k in range(1, per_set + 1)]
    n = len(ids)
    role = [
        ("A", "B", "C")[k - 1] if roles and k <= 3 else ""
        for s in range(n_sets)
        for k in range(1, per_set + 1)
    ]
    return PhotoTable(
        photo_id=np.array(ids, dtype=str),
        person=np.array([i.split("-")[0] for i in ids], dtype=str),
        role=np.array(role, dtype=str),
        coords=rng.integers(10, 500, size=(n, N_MARKERS, 2)).astype(np.float64),
        derived=np.zeros((n, N_MARKERS), dtype=bool),
    )


@pytest.fixture
def make_photos() -> Callable[..., PhotoTable]:
    """Factory of synthetic photo tables: ``make_photos(n_sets, seed=, roles=, per_set=)``."""
    return _make_photos


@pytest.fixture
def tiny_photos() -> PhotoTable:
    """Two paper-style sets of three photos (A, B, C), integer coordinates."""
    return _make_photos(2)
