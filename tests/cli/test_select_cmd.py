"""``ffmatch select`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ffmatch.cli.app import run


def test_table2_paper_rule_json(table2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table2 = table2_csv
    assert run(["select", "--similarities", str(table2), "--rule", "paper", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["rule"] == "paper"
    assert got["weights"]["ffms"] == 22
    assert got["weights"]["proportions"] == 19
    assert got["selected"] == "ffms"


def test_missing_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["select", "--similarities", str(tmp_path / "nope.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().count("\n") == 0
    assert "nope.csv: file not found" in captured.err
    assert "Traceback" not in captured.err


def test_unknown_rule_exit_2(table2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table2 = table2_csv
    assert run(["select", "--similarities", str(table2), "--rule", "best"]) == 2
    assert "unknown selection rule 'best'" in capsys.readouterr().err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["select", "--help"]) == 0
    assert "Example: ffmatch select" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "the file is empty"), ("group,ffms_ab\n", "header only, no data rows")],
)
def test_empty_or_header_only_similarities_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "t2.csv"
    path.write_text(content)
    assert run(["select", "--similarities", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"t2.csv: {message}" in err
    assert err.count("\n") == 1
