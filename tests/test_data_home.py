"""Tests of the full data sets skip where the data home lacks them, and fail when CI asks."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).parent / "conftest.py"
USES_THE_WORKBOOK = "def test_reads(paper_workbook):\n    assert paper_workbook.is_file()\n"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest run with our conftest, one test of the workbook and an empty data home."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_inner=USES_THE_WORKBOOK)
    monkeypatch.setenv("FFMATCH_DATA", str(pytester.path / "empty-home"))
    monkeypatch.delenv("FFMATCH_REQUIRE_DATA", raising=False)
    return pytester


def test_missing_data_skips_and_says_where_it_looked(inner: pytest.Pytester) -> None:
    result = inner.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*empty-home*facial-features.xlsx not found: this test needs*"])


def test_missing_data_fails_when_ci_requires_it(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FFMATCH_REQUIRE_DATA", "1")
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*FFMATCH_REQUIRE_DATA=1 forbids skipping it*"])


def test_data_found_runs_the_test(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    home = inner.path / "home"
    (home / "paper").mkdir(parents=True)
    (home / "paper" / "facial-features.xlsx").write_bytes(b"")
    monkeypatch.setenv("FFMATCH_DATA", str(home))
    monkeypatch.setenv("FFMATCH_REQUIRE_DATA", "1")
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
