"""Models remember what placed their markers; markers of another source are refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ffmatch.core.errors import ModelError
from ffmatch.core.table import QUALITY_COLUMNS, PhotoTable
from ffmatch.matcher.marker_source import check_marker_source, table_marker_source
from ffmatch.matcher.model import default_model
from ffmatch.matcher.photos.models import photo_model


def test_shipped_models_record_their_markers() -> None:
    assert default_model().marker_source == "muct-manual"
    assert photo_model().marker_source == "mediapipe"


def test_table_source(tiny_photos: PhotoTable) -> None:
    assert table_marker_source(tiny_photos) == ""  # unknown: nothing is refused
    extracted = dataclasses.replace(
        tiny_photos, quality=np.zeros((len(tiny_photos), len(QUALITY_COLUMNS)))
    )
    assert table_marker_source(extracted) == "mediapipe"


def test_other_source_is_refused_naming_the_model_to_use() -> None:
    with pytest.raises(
        ModelError,
        match=r"^model.ffm was fitted on hand-placed MUCT markers, but ffm.csv holds markers "
        r"found by MediaPipe's face mesh .*: use the shipped photo model",
    ):
        check_marker_source("muct-manual", "mediapipe", model="model.ffm", data="ffm.csv")
    check_marker_source("mediapipe", "mediapipe", model="m", data="d")
    check_marker_source("", "mediapipe", model="m", data="d")  # unrecorded: not refused
