"""The verdict: bands, decisions, doubts, the vectorised gallery score, the model file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError, DataError, ModelError
from ffmatch.core.geometry import distance_ratios
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.matcher import verdict as verdict_module
from ffmatch.matcher.aligned import TEMPLATE
from ffmatch.matcher.photos.models import photo_model
from ffmatch.matcher.verdict import (
    FaceEvidence,
    FaceEvidenceArray,
    FusionModel,
    Logistic,
    bands,
    compare_faces,
    decide,
    doubts,
    expression_mask,
    fit_logistic,
    load_fusion_model,
    save_fusion_model,
    score_against,
)


def _face(
    seed: int, *, person: int = 0, descriptor: bool = True, **quality: object
) -> FaceEvidence:
    """A frontal face: the template shape of ``person`` (a fixed offset) plus a little noise,
    100 px across the eyes; a descriptor near the person's own point."""
    person_rng = np.random.default_rng(1000 + person)
    rng = np.random.default_rng(seed)
    shape = (
        TEMPLATE + person_rng.normal(0, 0.01, TEMPLATE.shape) + rng.normal(0, 0.002, TEMPLATE.shape)
    )
    centre = person_rng.normal(0, 0.1, 128)
    d = (centre + rng.normal(0, 0.02, 128)).astype(np.float32) if descriptor else None
    values: dict[str, object] = {"eye_distance": 80.0, **quality}
    return FaceEvidence(markers=200 + shape * 190, descriptor=d, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def model() -> FusionModel:
    """The shipped photo model as geometry, with hand-set fusions (weights of the right sign)."""
    geo = photo_model()
    faces = FaceEvidenceArray.stack([_face(k, person=k % 5) for k in range(30)])
    r = distance_ratios(faces.markers)
    fusions = {
        "geometry": Logistic(intercept=0.0, geometry=0.5, appearance=0.0, same=0.9,
                             different=0.1),
        "appearance": Logistic(intercept=6.0, geometry=0.0, appearance=-10.0, same=0.9,
                               different=0.1),
        "both": Logistic(intercept=6.0, geometry=0.2, appearance=-10.0, same=0.9,
                         different=0.1),
    }  # fmt: skip
    return FusionModel(geometry=geo, fusions=fusions, geometry_range=(-30.0, 30.0),
                       ratio_range=np.stack([r.min(0) / 1.25, r.max(0) * 1.25]),
                       min_eye_distance=20.0, max_yaw_difference=20.0,
                       max_pitch_difference=15.0, training_data="test")  # fmt: skip


def test_bands_hold_the_error_rates() -> None:
    labels = np.array([1] * 100 + [0] * 100)
    p = np.concatenate([np.linspace(0.3, 1.0, 100), np.linspace(0.0, 0.7, 100)])
    different, same = bands(labels, p, error_rate=0.01)
    assert (p[labels == 1] <= different).sum() == 1  # 1 of 100 same-person pairs
    assert (p[labels == 0] >= same).sum() == 1
    assert different <= 0.5 <= same


def test_bands_never_cross_one_half() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0])
    p = np.array([0.9, 0.95, 0.99, 0.01, 0.02, 0.05])  # separable: no errors either way
    assert bands(labels, p, error_rate=0.1) == (0.5, 0.5)


def test_bands_reject_bad_input() -> None:
    with pytest.raises(ConfigError, match=r"error_rate: expected a share in \(0, 0.5\)"):
        bands([1, 0], [0.9, 0.1], error_rate=0.5)
    with pytest.raises(DataError, match="need same-person and different-person pairs"):
        bands([1, 1], [0.9, 0.1])


def test_decide(model: FusionModel) -> None:
    assert decide(model, 0.95) == "same"
    assert decide(model, 0.05) == "different"
    assert decide(model, 0.5) == "inconclusive"
    assert decide(model, 0.99, ["the face is small"]) == "inconclusive"
    assert decide(model, float("nan")) == "inconclusive"
    with pytest.raises(ConfigError, match="--evidence: expected one of geometry, appearance, both"):
        decide(model, 0.5, evidence="looks")  # type: ignore[arg-type]


def test_same_and_different_people(model: FusionModel) -> None:
    same = compare_faces(model, _face(1, person=2), _face(2, person=2))
    other = compare_faces(model, _face(1, person=2), _face(3, person=4))
    assert same.verdict == "same"
    assert other.verdict == "different"
    assert same.probability > 0.9 > 0.1 > other.probability
    assert same.measurements[0].words  # in words, with the code beside
    assert "-" in same.measurements[0].code


def test_score_against_is_the_pairwise_probability(
    model: FusionModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = _face(0, person=1, smiling=True)
    faces = [_face(k, person=k % 3, mouth_open=k == 4) for k in range(1, 8)]
    faces.append(_face(99, person=1, descriptor=False))  # no descriptor: geometry alone
    gallery = FaceEvidenceArray.stack(faces)
    expected = [compare_faces(model, query, f, evidence="both" if f.descriptor is not None
                              else "geometry").probability for f in faces]  # fmt: skip
    got = score_against(model, query, gallery, evidence="both")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    described = [f for f in faces if f.descriptor is not None]
    by_looks = score_against(
        model, query, FaceEvidenceArray.stack(described), evidence="appearance"
    )
    np.testing.assert_allclose(
        by_looks,
        [compare_faces(model, query, f, evidence="appearance").probability for f in described],
        rtol=1e-12,
    )
    monkeypatch.setattr(verdict_module, "CHUNK", 3)  # chunked the same
    np.testing.assert_allclose(score_against(model, query, gallery), got, rtol=1e-12)


def test_score_against_needs_the_query_descriptor(model: FusionModel) -> None:
    gallery = FaceEvidenceArray.stack([_face(1)])
    with pytest.raises(ConfigError, match="needs the query's appearance descriptor"):
        score_against(model, _face(0, descriptor=False), gallery, evidence="appearance")
    assert score_against(model, _face(0, descriptor=False), gallery, evidence="geometry").shape == (
        1,
    )


def test_expression_leaves_out_the_markers_it_moves() -> None:
    x = FaceEvidenceArray.stack([_face(0, smiling=True), _face(1, mouth_open=True), _face(2)])
    y = FaceEvidenceArray.stack([_face(3), _face(4), _face(5)])
    mask = expression_mask(x, y)
    left_out = [{WIDE_ORDER[k] for k in np.flatnonzero(row)} for row in mask]
    assert left_out == [{"rtal", "ltal", "ls", "sto", "li"}, {"sto", "li", "sm", "pg", "me"},
                        set()]  # fmt: skip


def test_doubts_widen_the_verdict(model: FusionModel) -> None:
    small = compare_faces(model, _face(1, person=2, eye_distance=12.0), _face(2, person=2))
    assert small.verdict == "inconclusive"
    assert "the face in the first photo is small (12 px between the eyes" in small.reasons[0]
    bad = _face(1, person=2)
    swapped = bad.markers.copy()
    i, j = WIDE_ORDER.index("rtex"), WIDE_ORDER.index("ltex")
    swapped[[i, j]] = swapped[[j, i]]
    broken = compare_faces(model, dataclasses.replace(bad, markers=swapped), _face(2, person=2))
    assert any("markers out of anatomical order" in r for r in broken.reasons)
    turned = compare_faces(model, _face(1, person=2, yaw=30.0), _face(2, person=2),
                           evidence="geometry")  # fmt: skip
    assert any("heads are turned differently" in r for r in turned.reasons)
    smile = compare_faces(model, _face(1, person=2, smiling=True), _face(2, person=2))
    assert smile.reasons == ()  # with appearance, an expression is only noted
    assert "only the first photo smiles" in smile.notes[0]
    assert all(m.code not in ("rtal-ltal",) for m in smile.differing(91))


def test_disagreement_is_a_doubt(model: FusionModel) -> None:
    found = doubts(model, _face(1), _face(2), evidence="both", geometry_p=0.99,
                   appearance_p=0.01)  # fmt: skip
    assert found.reasons == (
        "geometry and appearance disagree strongly (P = 0.99 from the markers, 0.01 from "
        "appearance)",
    )


def test_fit_logistic_weighs_distance_against_sameness() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([1] * 50 + [0] * 200)
    a = np.where(labels == 1, rng.normal(0.35, 0.08, 250), rng.normal(0.85, 0.08, 250))
    g = np.where(labels == 1, rng.normal(3, 2, 250), rng.normal(-3, 2, 250))
    _, wg, wa = fit_logistic(g, a, labels, evidence="both")
    assert wa < 0 < wg
    assert fit_logistic(g, a, labels, evidence="appearance")[1] == 0.0


def test_model_file_round_trip(model: FusionModel, tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    save_fusion_model(model, path)
    assert (tmp_path / "verdict.geometry.ffm").is_file()
    back = load_fusion_model(path)
    assert back.fusions == model.fusions
    np.testing.assert_array_equal(back.ratio_range, model.ratio_range)
    assert back.marker_source == "mediapipe"


def test_model_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such verdict model file"):
        load_fusion_model(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ModelError, match="not a verdict model file"):
        load_fusion_model(bad)
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelError, match="format is not 'ffmatch-verdict'"):
        load_fusion_model(bad)
    bad.write_text(json.dumps({"format": "ffmatch-verdict", "version": 99}))
    with pytest.raises(ModelError, match="verdict model version 99"):
        load_fusion_model(bad)
    bad.write_text(json.dumps({"format": "ffmatch-verdict", "version": 1}))
    with pytest.raises(ModelError, match="lacks or garbles a field"):
        load_fusion_model(bad)


def test_face_array_shapes_are_checked() -> None:
    good = FaceEvidenceArray.stack([_face(0), _face(1)])
    with pytest.raises(DataError, match=r"descriptors: expected shape \(2, 128\)"):
        dataclasses.replace(good, descriptors=np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(DataError, match=r"yaw: expected shape \(2,\)"):
        dataclasses.replace(good, yaw=np.zeros(3))


def test_bands_must_be_ordered() -> None:
    with pytest.raises(ModelError, match="expected 0 <= different <= same <= 1"):
        Logistic(intercept=0, geometry=0, appearance=0, same=0.2, different=0.8)


def test_doubted_markers_leave_appearance_to_decide(model: FusionModel) -> None:
    turned = compare_faces(model, _face(1, person=2, yaw=30.0), _face(2, person=2))
    assert turned.evidence == "appearance"
    assert turned.verdict == "same"
    assert turned.probability == turned.appearance_probability
    assert turned.notes == (
        "the heads are turned differently (yaw +30 vs +0, pitch +0 vs +0 degrees): the markers "
        "were not used",
    )
