"""``ffmatch data``: show, convert, fetch errors."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from ffmatch.cli.app import run


def test_convert_to_tidy_and_back_to_the_papers_wide_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tidy, wide = tmp_path / "photos.csv", tmp_path / "wide.csv"
    assert run(["data", "convert", "paper", "--to", "tidy", "--out", str(tidy)]) == 0
    assert run(["data", "convert", str(tidy), "--to", "wide", "--out", str(wide)]) == 0
    shipped = resources.files("ffmatch.core.datasets") / "files" / "paper_ffms.csv"
    assert wide.read_bytes() == shipped.read_bytes()
    capsys.readouterr()
    assert run(["data", "show", str(tidy), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["photos"] == 36
    assert summary["pairs"] == 36
    assert summary["matching_pairs"] == 12


def test_convert_to_distances_has_183_columns_and_a_name(tmp_path: Path) -> None:
    target = tmp_path / "d.csv"
    assert run(["data", "convert", "paper", "--to", "distances", "--out", str(target)]) == 0
    header = target.read_text().splitlines()[0].split(",")
    assert len(header) == 184  # the pair name, 182 distances, outputs


def test_unknown_format_and_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["data", "convert", "paper", "--to", "xlsx", "--out", str(tmp_path / "x")]) == 2
    assert "--to: expected one of tidy, wide, distances, found 'xlsx'" in capsys.readouterr().err
    assert run(["data", "fetch", "imagenet"]) == 2
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err
    assert run(["data", "show", str(tmp_path / "none.csv")]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err


def test_convert_never_writes_over_its_input_and_checks_the_output_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ffmatch.cli.app import run

    table = tmp_path / "t.csv"
    assert run(["data", "convert", "paper", "--to", "tidy", "--out", str(table)]) == 0
    before = table.read_bytes()
    capsys.readouterr()
    assert run(["data", "convert", str(table), "--to", "tidy", "--out", str(table)]) == 2
    assert "t.csv: is also this command's input" in capsys.readouterr().err
    assert table.read_bytes() == before
    assert run(["data", "convert", "paper", "--to", "tidy", "--out", str(tmp_path)]) == 2
    assert "is a folder; expected a file name" in capsys.readouterr().err
    deep = tmp_path / "new" / "deeper" / "t.csv"
    assert run(["data", "convert", "paper", "--to", "wide", "--out", str(deep)]) == 0
    assert deep.is_file()
