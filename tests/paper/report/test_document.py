"""One report, two renderings: Markdown and self-contained HTML say the same thing."""

from __future__ import annotations

import base64
from pathlib import Path

from ffmatch.paper.report.document import (
    Code,
    Figure,
    Heading,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _blocks() -> list:  # type: ignore[type-arg]
    return [
        Heading(text="Results", level=1),
        Paragraph(text="The *paper's* number is **66.7%** <exactly>."),
        Table(header=("model", "accuracy"), rows=(("majority", "66.7%"),), caption="cv"),
        Figure(path="figures/a.png", caption="Fig. 1-2"),
        Code(text="ffmatch reproduce --out runs/paper"),
    ]


def test_markdown_keeps_the_structure() -> None:
    md = to_markdown(_blocks())
    assert md.startswith("# Results\n")
    assert "| majority | 66.7% |" in md
    assert "![Fig. 1-2](figures/a.png)" in md
    assert "```\nffmatch reproduce --out runs/paper\n```" in md


def test_html_embeds_figures_and_escapes_text(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_bytes(PNG)
    page = to_html(_blocks(), title="t", base=tmp_path)
    assert "data:image/png;base64," + base64.b64encode(PNG).decode() in page
    assert "<i>paper&#x27;s</i>" in page
    assert "<b>66.7%</b>" in page
    assert "&lt;exactly&gt;" in page
    assert "<td>majority</td><td>66.7%</td>" in page
