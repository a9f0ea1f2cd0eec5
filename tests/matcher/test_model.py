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
    with pytest.raises(ModelError, match="unexpected array 'a'; a model holds between"):
        load_model(tmp_path / "other.npz")
    np.savez(tmp_path / "other.npz", mean=np.zeros(2))
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


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def _tampered(tmp_path: Path, model: MatchModel, name: str, edit, *, reseal: bool = True) -> Path:
    """A copy of ``model``'s file with ``edit(arrays)`` applied (and the checksum renewed)."""
    import json

    from ffmatch.matcher.model import checksum

    save_model(model, tmp_path / "good.ffm")
    arrays = _arrays(tmp_path / "good.ffm")
    edit(arrays)
    header = json.loads(str(arrays["header"]))
    if reseal:
        header["checksum"] = checksum({k: v for k, v in arrays.items() if k != "header"})
    arrays["header"] = np.array(json.dumps(header))
    out = tmp_path / name
    with out.open("wb") as fh:
        np.savez(fh, **arrays)
    return out


def _set(key: str, value) -> object:
    def edit(arrays: dict[str, np.ndarray]) -> None:
        arrays[key] = value(arrays[key]) if callable(value) else value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("mean", lambda a: np.where(np.arange(len(a)) == 3, np.nan, a)),
         r"'mean': expected finite numbers, found NaN"),
        (_set("within", np.zeros((28, 28))), r"'within': expected a positive-definite"),
        (_set("between", lambda a: a + np.triu(a, 1)), "'between': expected a symmetric"),
        (_set("mean", lambda a: a[:5]), r"'mean': expected shape \(28,\), found \(5,\)"),
        (_set("ratio_within_sd", lambda a: -a), "'ratio_within_sd': expected spreads >= 0"),
        (lambda arrays: arrays.pop("between"), "missing parameters between"),
        (_set("offsets", np.zeros((1, 3))), r"'offsets': expected shape \(1, 28\), found \(1, 3\)"),
    ],
)  # fmt: skip
def test_damaged_arrays_are_refused_naming_what_is_wrong(
    small_model: MatchModel, tmp_path: Path, edit, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        load_model(_tampered(tmp_path, small_model, "bad.ffm", edit))


def test_a_nan_calibration_or_threshold_is_refused(small_model: MatchModel, tmp_path: Path) -> None:
    def header_edit(old: str, new: str):
        def edit(arrays: dict[str, np.ndarray]) -> None:
            arrays["header"] = np.array(str(arrays["header"]).replace(old, new, 1))

        return edit

    slope = f'"slope": {small_model.calibration.slope}'
    path = _tampered(tmp_path, small_model, "nan.ffm", header_edit(slope, '"slope": NaN'))
    with pytest.raises(ModelError, match="calibration: expected a finite, positive slope"):
        load_model(path)
    thr = f'"threshold": {small_model.threshold}'
    path = _tampered(tmp_path, small_model, "thr.ffm", header_edit(thr, '"threshold": NaN'))
    with pytest.raises(ModelError, match=r"threshold: expected a probability in \[0, 1\]"):
        load_model(path)


def test_the_checksum_tells_a_damaged_file_from_another_model(
    small_model: MatchModel, tmp_path: Path
) -> None:
    edit = _set("mean", lambda a: a + 1e-3)
    with pytest.raises(ModelError, match=r"do not match the checksum.*damaged or was edited"):
        load_model(_tampered(tmp_path, small_model, "edited.ffm", edit, reseal=False))
    other = load_model(_tampered(tmp_path, small_model, "other.ffm", edit))
    assert other.checksum != small_model.checksum
    assert load_model(tmp_path / "good.ffm").checksum == small_model.checksum
    drop = _tampered(tmp_path, small_model, "old.ffm", lambda a: None, reseal=False)
    arrays = _arrays(drop)
    arrays["header"] = np.array(str(arrays["header"]).replace('"checksum"', '"x"'))
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelError, match="no checksum of its arrays"):
        load_model(tmp_path / "old.npz")


def test_sizes_and_types_are_checked_before_arrays_are_read(
    small_model: MatchModel, tmp_path: Path
) -> None:
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(ModelError, match=r"plain.npy: not a readable \.npz archive.*; not an"):
        load_model(tmp_path / "plain.npy")
    with pytest.raises(ModelError, match="expected a model file, found a folder"):
        load_model(tmp_path)
    extra = _tampered(tmp_path, small_model, "extra.ffm", _set("extra", np.zeros(4)))
    with pytest.raises(ModelError, match="unexpected array 'extra'"):
        load_model(extra)
    ints = _tampered(tmp_path, small_model, "ints.ffm", _set("mean", lambda a: a.astype(int)))
    with pytest.raises(ModelError, match="array 'mean': expected float64"):
        load_model(ints)
    # a header claiming 2**40 floats: refused from the header, nothing allocated
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**20)}
    )
    with zipfile.ZipFile(tmp_path / "bomb.ffm", "w") as zf:
        zf.writestr("mean.npy", buf.getvalue())
    with pytest.raises(ModelError, match="would take 8796093022208 bytes; expected at most"):
        load_model(tmp_path / "bomb.ffm")
    obj = tmp_path / "obj.ffm"
    with zipfile.ZipFile(obj, "w") as zf:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "|O", "fortran_order": False, "shape": (1,)}
        )
        zf.writestr("mean.npy", buf.getvalue())
    with pytest.raises(ModelError, match="holds Python objects"):
        load_model(obj)


def test_the_shipped_models_carry_their_checksum() -> None:
    from ffmatch.matcher.photos.models import photo_model

    for model in (default_model(), photo_model()):
        assert len(model.checksum) == 64
