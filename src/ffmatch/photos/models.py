"""The model ``ffmatch match`` uses on photos unless ``--model`` names another.

Markers found by MediaPipe differ systematically from hand-placed ones (docs/photos.md), so a
model for photos is fitted on extracted markers: ``photo_model.ffm`` here, trained on markers
extracted from the ORL / AT&T faces (credit: AT&T Laboratories Cambridge); its file records
the training data and command. If it is missing, the general shipped model is used instead.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ffmatch.matching.model import MatchModel

log = logging.getLogger(__name__)

PHOTO_MODEL_FILE = "photo_model.ffm"


def photo_model() -> MatchModel:
    """The shipped photo model, or the general default model (with a warning) if absent."""
    from ffmatch.matching.model import default_model, load_model

    ref = resources.files("ffmatch.photos") / "files" / PHOTO_MODEL_FILE
    if not ref.is_file():
        log.warning("the photo model %s is not installed; using the default model, "
                    "trained on hand-placed markers", PHOTO_MODEL_FILE)  # fmt: skip
        return default_model()
    with resources.as_file(ref) as path:
        return load_model(path)
