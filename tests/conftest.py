"""Fixtures for the feature tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The data home: FFMATCH_DATA, else ../shared/data beside the checkout (never skipped)."""
    default = Path(__file__).parents[1] / ".." / "shared" / "data"
    root = Path(os.environ.get("FFMATCH_DATA", default))
    if not (root / "paper").is_dir():
        pytest.fail(f"test data not found at {root}: set FFMATCH_DATA to the shared data folder")
    return root
