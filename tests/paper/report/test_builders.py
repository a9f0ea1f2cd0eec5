"""The reproduce report, built from typed metrics read back from the stored golden run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ffmatch.core.serial import from_document, to_document
from ffmatch.paper.pipeline.results import ReproduceMetrics
from ffmatch.paper.report.builders import build, meaning, paper_table
from ffmatch.paper.report.document import Paragraph, Table
from ffmatch.paper.report.provenance import Provenance, git_commit

GOLDEN = Path(__file__).parents[2] / "data" / "golden" / "reproduce-tiny-metrics.json"


@pytest.fixture(scope="module")
def metrics() -> ReproduceMetrics:
    return from_document(ReproduceMetrics, json.loads(GOLDEN.read_text(encoding="utf-8")))


def test_metrics_json_reads_back_to_the_same_document(metrics: ReproduceMetrics) -> None:
    stored = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(to_document(metrics))) == stored


def test_each_protocol_stands_beside_its_own_baseline(metrics: ReproduceMetrics) -> None:
    table = paper_table(metrics)
    assert table.header[2:] == (
        "ffmatch, paper protocol",
        "its majority baseline",
        "ffmatch, grouped protocol",
        "its majority baseline",
    )
    paper_base = metrics.protocols["paper"].majority_baseline.cv["accuracy"].mean
    grouped_base = metrics.protocols["grouped"].majority_baseline.cv["accuracy"].mean
    cv_row = table.rows[0]
    assert cv_row[3] == f"{100 * paper_base:.1f}%"
    assert cv_row[5] == f"{100 * grouped_base:.1f}%"


def test_the_reading_comes_from_the_run_not_the_papers_table(metrics: ReproduceMetrics) -> None:
    text = meaning(metrics)
    assert "the paper's 66.7% after pruning" in text  # the paper's own data: compared
    other = dataclasses.replace(metrics, dataset="muct", n_pairs=5000)
    text = meaning(other)
    assert "after pruning is" not in text
    assert "77.8%" not in text
    blocks = build(other, {}, "ffmatch reproduce --data muct")
    assert "36" not in " ".join(b.text for b in blocks if isinstance(b, Paragraph))


def test_report_names_software_and_date(metrics: ReproduceMetrics) -> None:
    stamp = Provenance(
        ffmatch="9.9", commit="abc", python="3.11.7", torch="2.13.0", date="2026-01-01"
    )
    blocks = build(metrics, {"grouped": {"ga_fitness": "figures/ga_fitness.png"}}, "cmd", stamp)
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert any("ffmatch 9.9 (commit abc), Python 3.11.7, PyTorch 2.13.0" in t for t in texts)
    assert sum(isinstance(b, Table) for b in blocks) >= 5


def test_no_commit_outside_a_git_checkout(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None
