"""A small model fitted on 24 MUCT people, shared by the matching tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.core.io.muct import read_muct
from ffmatch.core.table import PhotoTable
from ffmatch.matcher.model import MatchModel
from ffmatch.matcher.train import TrainConfig, train_match_model


@pytest.fixture(scope="session")
def muct_small(muct_first24: Path) -> PhotoTable:
    """The photos of MUCT's first 24 people (all cameras; some side views lack a marker)."""
    return read_muct(muct_first24)


@pytest.fixture(scope="session")
def small_model(muct_small: PhotoTable) -> MatchModel:
    """PLDA fitted on 18 of the 24 people, calibrated on the other 6."""
    return train_match_model(
        muct_small,
        config=TrainConfig(val_fraction=0.25, n_iter=10, seed=0),
        training_data="MUCT, 24 people (test)",
    )
