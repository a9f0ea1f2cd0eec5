"""MatchModel: invariance, save/load round trip, file errors, evidence, the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffmatch.core.errors import ModelError
from ffmatch.core.table import PhotoTable
from ffmatch.matcher.model import MatchModel, default_model, load_model, save_model


def _moved(coords: np.ndarray, angle: float, scale: float, shift: tuple[float, float]):
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return coords @ rot.T * scale + np.array(shift)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    angle=st.floats(-np.pi, np.pi),
    scale=st.floats(0.1, 10.0),
    shift=st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)),
)
def test_probability_is_invariant_to_position_size_and_rotation(
    small_model: MatchModel, muct_small: PhotoTable, angle: float, scale: float, shift
) -> None:
    x, y = muct_small.coords[:40], muct_small.coords[40:80]  # some lack a marker
    base = small_model.probability(x, y)
    moved = small_model.probability(_moved(x, angle, scale, shift), y)
    np.testing.assert_allclose(moved, base, atol=1e-9)


def test_same_person_scores_higher(small_model: MatchModel, muct_small: PhotoTable) -> None:
    p = muct_small.person
    same = np.flatnonzero(p[:-1] == p[1:])[:50]
    diff = np.flatnonzero(p[:-1] != p[1:])
    c = muct_small.coords
    assert (
        small_model.probability(c[same], c[same + 1]).mean()
        > small_model.probability(c[diff], c[diff + 1]).mean() + 0.2
    )


def test_save_and_load_give_the_same_model(small_model: MatchModel, muct_small: PhotoTable,
                                           tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "m.ffm"
    save_model(small_model, path)
    loaded = load_model(path)
    c = muct_small.coords
    np.testing.assert_array_equal(loaded.probability(c[:9], c[9:18]),
                                  small_model.probability(c[:9], c[9:18]))  # fmt: skip
    assert loaded.threshold == small_model.threshold
    assert loaded.metrics == small_model.metrics
    assert loaded.training_data == "MUCT, 24 people (test)"
    assert path.stat().st_size < 200_000


def test_load_errors_say_what_is_wrong(small_model: MatchModel, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "absent.ffm")
    junk = tmp_path / "junk.ffm"
    junk.write_text("not a model")
    with pytest.raises(ModelError, match="not an ffmatch model file"):
        load_model(junk)
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ModelError, match="no header entry"):
        load_model(tmp_path / "other.npz")
    good = tmp_path / "m.ffm"
    save_model(small_model, good)
    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["header"] = np.array(str(arrays["header"]).replace('"version": 1', '"version": 99'))
    np.savez(tmp_path / "future.ffm.npz", **arrays)
    with pytest.raises(ModelError, match="version 99; this ffmatch reads version 1"):
        load_model(tmp_path / "future.ffm.npz")


def test_evidence_is_sorted_and_scaled_by_the_within_person_spread(
    small_model: MatchModel, muct_small: PhotoTable
) -> None:
    x, y = muct_small.coords[0], muct_small.coords[30]
    ev = small_model.evidence(x, y)
    assert len(ev) == 90  # 91 ratios less the eye width over itself
    scores = [e.score for e in ev]
    assert scores == sorted(scores, reverse=True)
    top = ev[0]
    assert top.difference == pytest.approx(top.value_y - top.value_x)
    assert top.score == pytest.approx(abs(top.difference) / top.typical)
    assert " / eye width" in top.name
    # evidence too is scale-free
    assert small_model.evidence(x * 3 + 7, y)[0].score == pytest.approx(top.score)


def test_the_shipped_model_loads_without_muct_and_is_small() -> None:
    model = default_model()
    assert model.kind == "plda"
    assert 0.0 < model.threshold < 1.0
    assert model.metrics["roc_auc"] > 0.9
    assert "MUCT" in model.training_data
    rng = np.random.default_rng(0)
    x = rng.normal(100, 20, size=(3, 14, 2))
    assert model.probability(x, x + rng.normal(0, 1, size=x.shape)).shape == (3,)


def test_pairs_without_three_common_markers_get_no_probability(
    small_model: MatchModel, muct_small: PhotoTable
) -> None:
    x, y = muct_small.coords[:2].copy(), muct_small.coords[2:4].copy()
    x[0, 2:] = np.nan  # two markers left in the first pair
    p = small_model.probability(x, y)
    assert np.isnan(p[0])
    assert 0.0 <= p[1] <= 1.0
    assert not small_model.decide(x, y)[0]
