"""Distinctiveness pruning on constructed networks: what fires, what is cut, what is kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.pruning import PruningConfig, prune, prune_weights, unit_angles

Build = Callable[..., MLPWeights]  # the conftest fixture's type

E = np.eye(3)


def pair_list(result) -> list[tuple[int, int, int, str]]:  # type: ignore[no-untyped-def]
    return [(p.layer, p.unit_a, p.unit_b, p.action) for p in result.report.pairs]


def test_identical_relu_units_merge_with_outputs_unchanged(
    build: Build, x_train: np.ndarray, x_new: np.ndarray
) -> None:
    rng = np.random.default_rng(5)
    w = rng.normal(size=(3, 3))
    net = build(np.column_stack([w, w[:, 1]]), np.array([0.1, -0.2, 0.3, -0.2]))  # 3 clones 1
    result = prune(net, x_train, config=PruningConfig())
    assert pair_list(result) == [(0, 1, 3, "merged")]
    assert result.report.pairs[0].angle == pytest.approx(0.0, abs=1e-4)  # arccos near 1: ~1e-6
    assert result.weights.hidden == (3, 4)
    for x in (x_train, x_new):  # identical units: exact on every input, not only training
        np.testing.assert_allclose(result.weights.logits(x), net.logits(x), atol=1e-6)


def test_scaled_clone_merges_exactly_with_affine_fold_but_not_with_gedeons(
    build: Build, x_train: np.ndarray
) -> None:
    w = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 1.0], [-1.0, 0.0, -2.0]])  # unit 2 = 2 * unit 0
    net = build(w, np.array([0.2, 0.0, 0.4]))
    affine = prune(net, x_train, config=PruningConfig())
    assert pair_list(affine) == [(0, 0, 2, "merged")]
    assert affine.report.pairs[0].scale == pytest.approx(2.0)
    np.testing.assert_array_equal(affine.weights.weights[0], w[:, :2])  # the higher unit goes
    np.testing.assert_allclose(affine.weights.logits(x_train), net.logits(x_train), atol=1e-6)
    gedeon = prune(net, x_train, config=PruningConfig(merge="gedeon"))
    assert pair_list(gedeon) == [(0, 0, 2, "merged")]
    assert np.abs(gedeon.weights.logits(x_train) - net.logits(x_train)).max() > 1e-3


def complementary_net(build: Build) -> MLPWeights:
    # Units 0 and 1 move opposite (always active thanks to the +10 bias); 2 and 3 follow x1, x2.
    w = np.column_stack([E[0], -E[0], E[1], E[2]])
    return build(w, np.full(4, 10.0))


def test_complementary_units_are_both_removed(build: Build, x_train: np.ndarray) -> None:
    result = prune(complementary_net(build), x_train, config=PruningConfig())
    assert pair_list(result) == [(0, 0, 1, "removed_both")]
    assert result.report.pairs[0].angle == pytest.approx(180.0, abs=1e-4)
    assert result.weights.hidden == (2, 4)
    np.testing.assert_array_equal(result.weights.weights[0], np.column_stack([E[1], E[2]]))


def test_complementary_removal_folds_means_into_the_next_bias(
    build: Build, x_train: np.ndarray
) -> None:
    # With equal outgoing weights the pair's sum (20) is constant, so removal is exact.
    net = complementary_net(build)
    w2 = net.weights[1].copy()
    w2[1] = w2[0]
    net = dataclasses.replace(net, weights=(net.weights[0], w2, net.weights[2]))
    result = prune(net, x_train, config=PruningConfig())
    np.testing.assert_allclose(result.weights.logits(x_train), net.logits(x_train), atol=1e-6)


def test_centring_none_never_fires_the_complementary_rule(
    build: Build, x_train: np.ndarray
) -> None:
    result = prune(complementary_net(build), x_train, config=PruningConfig(centring="none"))
    assert all(p.action == "merged" for p in result.report.pairs)
    assert np.nanmax(result.angles[0]) <= 90.0


def test_mean_centring_fires_both_rules_on_one_network(build: Build, x_train: np.ndarray) -> None:
    w = np.column_stack([E[0], -E[0], E[1], E[1], E[2]])  # opposite pair, then a clone pair
    net = build(w, np.full(5, 10.0))
    result = prune(net, x_train, config=PruningConfig())
    assert pair_list(result) == [(0, 2, 3, "merged"), (0, 0, 1, "removed_both")]
    assert result.weights.hidden == (2, 4)


def test_dead_and_constant_units_are_removed_with_outputs_unchanged(
    build: Build, x_train: np.ndarray, x_new: np.ndarray
) -> None:
    w = np.column_stack([E[0], np.zeros(3), E[1], np.zeros(3)])
    net = build(w, np.array([0.0, -1.0, 0.0, 2.0]))  # unit 1 never fires, unit 3 is always 2
    result = prune(net, x_train, config=PruningConfig())
    assert [(d.layer, d.unit, d.mean) for d in result.report.dead] == [(0, 1, 0.0), (0, 3, 2.0)]
    assert result.report.dead[0].norm == 0.0
    assert result.weights.hidden == (2, 4)
    for x in (x_train, x_new):
        np.testing.assert_allclose(result.weights.logits(x), net.logits(x), atol=1e-6)


def test_dead_unit_is_removed_under_every_centring(build: Build, x_train: np.ndarray) -> None:
    w = np.column_stack([E[0], np.zeros(3), E[1]])
    net = build(w, np.array([0.0, -1.0, 0.0]))
    for centring in ("none", "mean", "half"):
        result = prune(net, x_train, config=PruningConfig(centring=centring))
        assert [d.unit for d in result.report.dead] == [1], centring


def test_reported_angles_are_the_units_angles_with_dead_units_left_out(
    build: Build, x_train: np.ndarray
) -> None:
    # Pruning reuses its mean-centred vectors for the angles; the matrix it reports must be
    # the one unit_angles gives, with the dead unit's row and column NaN, under every centring.
    w = np.column_stack([E[0], np.zeros(3), E[1], E[0] + E[1]])
    net = build(w, np.array([0.0, -1.0, 0.0, 0.5]))
    acts = net.hidden_activations(x_train)[0]
    for centring in ("none", "mean", "half"):
        result = prune(net, x_train, config=PruningConfig(centring=centring))
        expected = unit_angles(acts, centring=centring)
        expected[1, :] = expected[:, 1] = np.nan
        np.testing.assert_array_equal(result.angles[0], expected, err_msg=centring)


def test_raising_similar_deg_merges_more(build: Build, x_train: np.ndarray) -> None:
    net = build(np.random.default_rng(6).normal(size=(3, 12)), np.zeros(12))
    merged = [
        prune(net, x_train, config=PruningConfig(similar_deg=t)).report.n_merged
        for t in (0.0, 15.0, 45.0, 90.0)
    ]
    assert merged[0] == 0
    assert merged == sorted(merged)
    assert merged[-1] > merged[1]


def test_lowering_complementary_deg_removes_more(build: Build, x_train: np.ndarray) -> None:
    net = build(np.random.default_rng(6).normal(size=(3, 12)), np.full(12, 0.5))
    removed = [
        prune(
            net, x_train, config=PruningConfig(similar_deg=0.0, complementary_deg=t)
        ).report.n_complementary
        for t in (180.0, 165.0, 120.0, 90.0)
    ]
    assert removed[0] == 0
    assert removed == sorted(removed)
    assert removed[-1] > 0


def test_pairs_follow_the_documented_order(build: Build, x_train: np.ndarray) -> None:
    # Units 0, 1, 2 are clones: (0, 1) merges, then (0, 2); (1, 2) is skipped (1 is gone).
    w = np.column_stack([E[0], E[0], E[0], E[1]])
    result = prune(build(w, np.zeros(4)), x_train, config=PruningConfig())
    assert pair_list(result) == [(0, 0, 1, "merged"), (0, 0, 2, "merged")]


def test_pruning_is_deterministic(build: Build, x_train: np.ndarray) -> None:
    net = build(np.random.default_rng(7).normal(size=(3, 10)), np.full(10, 0.3))
    config = PruningConfig(similar_deg=40.0, complementary_deg=120.0, layers="all")
    a, b = prune(net, x_train, config=config), prune(net, x_train, config=config)
    assert a.report == b.report
    for wa, wb in zip(
        a.weights.weights + a.weights.biases, b.weights.weights + b.weights.biases, strict=True
    ):
        np.testing.assert_array_equal(wa, wb)


def test_layers_all_prunes_the_second_layer_too(build: Build, x_train: np.ndarray) -> None:
    net = build(np.column_stack([E[0], E[1], E[2]]), np.zeros(3))
    w2 = net.weights[1].copy()
    w2[:, 3] = w2[:, 0]  # second-layer unit 3 clones unit 0
    net = MLPWeights(weights=(net.weights[0], w2, net.weights[2]), biases=net.biases)
    first = prune(net, x_train, config=PruningConfig())
    assert first.weights.hidden == (3, 4)
    every = prune(net, x_train, config=PruningConfig(layers="all"))
    assert every.weights.hidden == (3, 3)
    assert (1, 0, 3, "merged") in pair_list(every)
    assert len(every.angles) == 2
    np.testing.assert_allclose(every.weights.logits(x_train), net.logits(x_train), atol=1e-6)


def test_parameter_counts_before_and_after(build: Build, x_train: np.ndarray) -> None:
    rng = np.random.default_rng(8)
    w = rng.normal(size=(3, 4))
    net = build(np.column_stack([w, w[:, 0]]), np.zeros(5), hidden2=6)  # 3-5-6-2
    result = prune(net, x_train, config=PruningConfig())
    r = result.report
    assert r.params_before == (3 * 5 + 5) + (5 * 6 + 6) + (6 * 2 + 2)
    assert r.params_after == (3 * 4 + 4) + (4 * 6 + 6) + (6 * 2 + 2)
    assert r.params_after == result.weights.n_params
    assert (r.units_before, r.units_after) == ((5, 6), (4, 6))


def test_a_layer_keeps_its_last_unit_when_all_are_dead(build: Build, x_train: np.ndarray) -> None:
    net = build(np.zeros((3, 3)), np.array([-1.0, 3.0, 1.0]))  # constant 0, 3, 1
    result = prune(net, x_train, config=PruningConfig())
    assert result.weights.hidden == (1, 4)
    assert [(k.layer, k.unit) for k in result.report.kept_last] == [(0, 1)]  # largest norm
    np.testing.assert_allclose(result.weights.logits(x_train), net.logits(x_train), atol=1e-6)


def test_a_complementary_last_pair_keeps_the_larger_unit(build: Build, x_train: np.ndarray) -> None:
    net = build(np.column_stack([E[0], -2 * E[0]]), np.array([10.0, 20.0]))
    result = prune(net, x_train, config=PruningConfig())
    assert pair_list(result) == [(0, 0, 1, "removed_one")]
    assert [k.unit for k in result.report.kept_last] == [1]
    assert result.weights.hidden == (1, 4)


def test_float32_weights_stay_float32(build: Build, x_train: np.ndarray) -> None:
    net = build(np.column_stack([E[0], E[0], E[1]]), np.zeros(3))
    net32 = MLPWeights(
        weights=tuple(w.astype(np.float32) for w in net.weights),
        biases=tuple(b.astype(np.float32) for b in net.biases),
    )
    result = prune(net32, x_train, config=PruningConfig())
    assert {a.dtype for a in result.weights.weights + result.weights.biases} == {
        np.dtype(np.float32)
    }
    np.testing.assert_allclose(result.weights.logits(x_train), net32.logits(x_train), atol=1e-5)


def test_input_network_is_not_modified(build: Build, x_train: np.ndarray) -> None:
    net = build(np.column_stack([E[0], E[0], np.zeros(3)]), np.array([0.0, 0.0, 1.0]))
    before = [a.copy() for a in net.weights + net.biases]
    prune(net, x_train, config=PruningConfig(layers="all"))
    for a, b in zip(before, net.weights + net.biases, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"similar_deg": -1.0}, r"pruning\.similar_deg: expected degrees in \[0, 180\], found -1"),
        ({"complementary_deg": 200.0}, r"complementary_deg: expected degrees in .* found 200"),
        ({"similar_deg": 100.0, "complementary_deg": 90.0}, r"must not exceed complementary_deg"),
        ({"centring": "zero"}, r"centring: expected one of none, mean, half, found 'zero'"),
        ({"dead_tol": -1e-3}, r"pruning\.dead_tol: expected a number >= 0, found -0\.001"),
        ({"layers": "second"}, r"pruning\.layers: expected 'first' or 'all', found 'second'"),
        ({"merge": "sum"}, r"pruning\.merge: expected 'affine' or 'gedeon', found 'sum'"),
    ],
)
def test_bad_config_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PruningConfig(**kwargs)  # type: ignore[arg-type]


def test_training_inputs_of_the_wrong_width_are_a_data_error(build: Build) -> None:
    net = build(np.eye(3), np.zeros(3))
    with pytest.raises(DataError, match=r"x_train: expected an \(n >= 2, 3\) array, found shape"):
        prune(net, np.zeros((10, 4)), config=PruningConfig())


def test_non_finite_training_inputs_are_a_data_error(build: Build, x_train: np.ndarray) -> None:
    x = x_train.copy()
    x[4, 2] = np.nan
    with pytest.raises(DataError, match=r"x_train: row 5, column 3: expected a finite number"):
        prune(build(np.eye(3), np.zeros(3)), x, config=PruningConfig())


def whitened(x: np.ndarray) -> np.ndarray:
    """Centred inputs with orthonormal columns, so unit angles equal angles between weights."""
    q, _ = np.linalg.qr(x - x.mean(axis=0))
    return q * np.sqrt(len(x))


def directions(*degrees: float) -> np.ndarray:
    """Unit vectors in the (x0, x1) plane at the given angles, as weight columns (3, k)."""
    t = np.radians(degrees)
    return np.vstack([np.cos(t), np.sin(t), np.zeros_like(t)])


def test_similar_pairs_merge_by_ascending_angle(build: Build, x_train: np.ndarray) -> None:
    # Angles: (0, 1) 10, (0, 2) 13, (1, 2) 3 degrees. Ascending: (1, 2) first, then (0, 1).
    w = np.column_stack([directions(0.0, 10.0, 13.0), E[2]])
    result = prune(build(w, np.full(4, 10.0)), whitened(x_train), config=PruningConfig())
    assert result.angles[0][0, 1] == pytest.approx(10.0)
    assert pair_list(result) == [(0, 1, 2, "merged"), (0, 0, 1, "merged")]


def test_complementary_pairs_go_by_descending_angle(build: Build, x_train: np.ndarray) -> None:
    # Angles: (0, 1) 170, (0, 2) 175, (1, 2) 15 degrees. Descending: (0, 2) goes, (0, 1) no longer
    # can.
    w = np.column_stack([directions(0.0, 190.0, 175.0), E[2]])
    config = PruningConfig(similar_deg=0.0)
    result = prune(build(w, np.full(4, 10.0)), whitened(x_train), config=config)
    assert result.angles[0][0, 2] == pytest.approx(175.0)
    assert pair_list(result) == [(0, 0, 2, "removed_both")]
    assert result.weights.hidden == (2, 4)


def test_config_round_trips_through_the_toml_mapping() -> None:
    from ffmatch.core.configio import from_mapping, to_mapping

    config = from_mapping(PruningConfig, {"similar_deg": 20, "centring": "half", "layers": "all"})
    assert config == PruningConfig(similar_deg=20.0, centring="half", layers="all")
    assert from_mapping(PruningConfig, to_mapping(config)) == config
    with pytest.raises(ConfigError, match="did you mean 'centring'"):
        from_mapping(PruningConfig, {"centering": "mean"})


@pytest.mark.parametrize("shape", [(0, 5), (1, 5), (40, 1), (40, 2), (70, 34), (300, 3)])
def test_dead_units_fold_into_the_bias_in_the_order_a_loop_adds_them(
    shape: tuple[int, int],
) -> None:
    # Pruning adds every dead unit's share to the next bias in one numpy call; the sums must
    # round as the loop of `+=` it replaced, so pruned networks keep their bits.
    from ffmatch.paper.pruning.prune import _add_rows_in_order

    rng = np.random.default_rng(7)
    start = rng.normal(size=shape[1])
    rows = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
    expected = start.copy()
    for row in rows:
        expected += row
    np.testing.assert_array_equal(_add_rows_in_order(start, rows), expected)


@pytest.mark.parametrize("layers", ["first", "all"])
@pytest.mark.parametrize("merge", ["affine", "gedeon"])
@pytest.mark.parametrize("centring", ["none", "mean", "half"])
def test_prune_weights_returns_the_network_prune_returns_bit_for_bit(
    build: Build, x_train: np.ndarray, centring: str, merge: str, layers: str
) -> None:
    # The GA's lean path builds no records; the network it returns must be the same bits.
    # This one has a dead unit, clones, an opposite pair and noise, in float32 as trained.
    rng = np.random.default_rng(11)
    w = np.column_stack([E[0], -E[0], E[1], 2 * E[1], np.zeros(3), rng.normal(size=(3, 5))])
    net = build(w, np.array([0.1, 0.2, 0.0, 0.3, -1.0, *rng.normal(size=5)]), hidden2=7)
    net = MLPWeights(
        weights=tuple(a.astype(np.float32) for a in net.weights),
        biases=tuple(a.astype(np.float32) for a in net.biases),
    )
    config = PruningConfig(
        similar_deg=40.0, complementary_deg=120.0, centring=centring, merge=merge, layers=layers
    )
    full = prune(net, x_train, config=config)
    assert full.report.pairs  # the pair rules and the dead rule had work to do
    assert full.report.dead
    lean = prune_weights(net, x_train, config=config)
    assert lean.sizes == full.weights.sizes
    for a, b in zip(
        lean.weights + lean.biases, full.weights.weights + full.weights.biases, strict=True
    ):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_prune_weights_rejects_bad_inputs_as_prune_does(build: Build) -> None:
    with pytest.raises(DataError, match=r"x_train: expected an \(n >= 2, 3\) array"):
        prune_weights(build(np.eye(3), np.zeros(3)), np.zeros((10, 4)), config=PruningConfig())
