"""The shipped photo model: present, fitted on extracted markers, named."""

from __future__ import annotations

from ffmatch.matcher.photos.models import photo_model


def test_photo_model_is_shipped_and_names_its_training_data() -> None:
    model = photo_model()
    assert "ORL" in model.training_data
    assert "AT&T Laboratories Cambridge" in model.training_data
    assert "turned copies" in model.training_data
    assert 0.0 < model.threshold < 1.0
    assert "landmarks extract" in model.training_data or "command" in model.config
