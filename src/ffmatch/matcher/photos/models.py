"""The model ``ffmatch match`` uses on photos unless ``--model`` names another.

Markers found by MediaPipe differ systematically from hand-placed ones (docs/photos.md): the
general default model, fitted on MUCT's hand-placed markers, scores ROC-AUC 0.60 on photos.
So the photo model, ``files/photo_model.ffm``, is fitted on extracted markers: those of the
ORL / AT&T faces (credit: AT&T Laboratories Cambridge) with turned copies; the file records
its training data and the command that made it.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from ffmatch.core.errors import ModelError

if TYPE_CHECKING:
    from ffmatch.matcher.model import MatchModel

PHOTO_MODEL_FILE = "photo_model.ffm"


def photo_model() -> MatchModel:
    """The shipped photo model; ModelError if the installation lacks it."""
    from ffmatch.matcher.model import load_model

    ref = resources.files("ffmatch.matcher.photos") / "files" / PHOTO_MODEL_FILE
    if not ref.is_file():
        raise ModelError(
            f"the photo model {PHOTO_MODEL_FILE} is missing from this installation of "
            "ffmatch (package data); reinstall ffmatch, or pass --model FILE"
        )
    with resources.as_file(ref) as path:
        return load_model(path)
