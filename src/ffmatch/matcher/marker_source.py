"""What placed a table's markers, and the refusal to score them with a model fitted on others.

MediaPipe's markers differ systematically from hand-placed ones (docs/photos.md): the model
fitted on MUCT's hand-placed markers scores two photos of one ORL person 0.000 on extracted
markers, silently. So a model file records the source of its training markers
(``MatchModel.marker_source``) and ``predict``/``match`` refuse markers of another source.
"""

from __future__ import annotations

from ffmatch.core.errors import ModelError
from ffmatch.core.table import PhotoTable

MEDIAPIPE = "mediapipe"
MUCT_MANUAL = "muct-manual"
MARKER_SOURCES: dict[str, str] = {
    MEDIAPIPE: "markers found by MediaPipe's face mesh (ffmatch landmarks extract)",
    MUCT_MANUAL: "hand-placed MUCT markers",
}
MODEL_FOR: dict[str, str] = {
    MEDIAPIPE: "the shipped photo model (leave out --model: it is chosen for such markers)",
    MUCT_MANUAL: "the shipped default model (leave out --model)",
}


def table_marker_source(table: PhotoTable) -> str:
    """``mediapipe`` for tables written by ``landmarks extract`` (they carry the per-face
    quality columns), ``muct-manual`` for MUCT's own names, else ``""`` (unknown)."""
    from ffmatch.core.io.muct import NAME

    if table.quality is not None:
        return MEDIAPIPE
    if len(table) and all(NAME.fullmatch(str(p)) for p in table.photo_id):
        return MUCT_MANUAL
    return ""


def check_marker_source(model_source: str, data_source: str, *, model: str, data: str) -> None:
    """ModelError (one line naming the model to use) when both sources are known and differ."""
    if not model_source or not data_source or model_source == data_source:
        return
    described = MARKER_SOURCES.get(data_source, data_source)
    fitted = MARKER_SOURCES.get(model_source, model_source)
    use = MODEL_FOR.get(data_source, f"a model fitted on {described}")
    raise ModelError(
        f"{model} was fitted on {fitted}, but {data} holds {described}; they differ "
        f"systematically, so its scores would be wrong: use {use}"
    )
