"""Configurations to and from TOML."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.paper.pipeline.config import RunConfig, load_run_config, write_run_config


def test_round_trip_keeps_every_value_none_included(tmp_path: Path) -> None:
    config = RunConfig()
    layout = dataclasses.replace(config.ga.layout, second_layer_ratio=None)
    config = dataclasses.replace(config, seed=7, ga=dataclasses.replace(config.ga, layout=layout))
    write_run_config(config, tmp_path / "c.toml")
    assert load_run_config(tmp_path / "c.toml") == config


def test_unknown_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[pruning]\ncentering = 'mean'\n")
    with pytest.raises(ConfigError, match="unknown key 'centering'; did you mean 'centring'"):
        load_run_config(path)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[mlp]\nepochs = 'many'\n")
    with pytest.raises(ConfigError, match=r"mlp.epochs: expected int, found 'many'"):
        load_run_config(path)


def test_literal_choices_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[eval]\nprotocol = 'leaky'\n")
    with pytest.raises(ConfigError, match=r"eval\.protocol: expected one of 'paper', 'grouped'"):
        load_run_config(path)


def test_range_checks_of_the_dataclasses_apply(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[ga]\nmutation_prob = 1.5\n")
    with pytest.raises(ConfigError, match="mutation_prob must be a probability"):
        load_run_config(path)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("seed = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_run_config(path)
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_run_config(tmp_path / "none.toml")


def test_comments_follow_their_keys_and_read_back(tmp_path: Path) -> None:
    from ffmatch.core.configio import load_toml, write_toml
    from ffmatch.paper.pipeline.config import RunConfig

    path = tmp_path / "config.toml"
    write_toml(RunConfig(), path, {"eval.n_splits": "folds used: grouped 9", "seed": "one"})
    text = path.read_text(encoding="utf-8")
    assert "n_splits = 10  # folds used: grouped 9\n" in text
    assert "seed = 0  # one\n" in text
    assert load_toml(RunConfig, path) == RunConfig()
