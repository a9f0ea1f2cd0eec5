"""Shared fixtures: the shared data folder (never skipped) and tiny photo tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.markers import N_MARKERS
from ffmatch.core.table import PhotoTable


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Train with one thread, as the CLI does by default: the tests' networks are tiny, and two
    intra-op threads stall for seconds when the CPU is shared."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The data home: FFMATCH_DATA, else ../shared/data beside the checkout (never skipped)."""
    default = Path(__file__).parents[1] / ".." / "shared" / "data"
    root = Path(os.environ.get("FFMATCH_DATA", default))
    if not (root / "paper").is_dir():
        pytest.fail(f"test data not found at {root}: set FFMATCH_DATA to the shared data folder")
    return root


@pytest.fixture(scope="session")
def paper_workbook(shared_data: Path) -> Path:
    """The paper's workbook; a missing file fails the tests that use it."""
    path = shared_data / "paper" / "facial-features.xlsx"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the shared data folder is incomplete")
    return path


@pytest.fixture(scope="session")
def muct_file(shared_data: Path) -> Path:
    """MUCT's 68-point landmarks; a missing file fails the tests that use it."""
    path = shared_data / "muct" / "muct68-opencv.csv.gz"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the shared data folder is incomplete")
    return path


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
