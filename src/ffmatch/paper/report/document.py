"""A tiny document model rendered to Markdown and to self-contained HTML.

Reports are built once as a list of blocks (headings, paragraphs, tables, figures) and
rendered twice, so ``report.md`` and ``report.html`` always say the same thing. Written by
hand because no maintained library renders one structure to both without a Markdown parser.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ffmatch.core.io.atomic import atomic_write


@dataclass(frozen=True, kw_only=True, slots=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Paragraph:
    text: str  # plain text; ``**bold**`` and ``*italic*`` are rendered in HTML too


@dataclass(frozen=True, kw_only=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Figure:
    path: str  # relative to the report's folder
    caption: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Code:
    text: str


Block = Heading | Paragraph | Table | Figure | Code


def _md_table(t: Table) -> list[str]:
    lines = []
    if t.caption:
        lines += [f"*{t.caption}*", ""]
    lines.append("| " + " | ".join(t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in t.rows]
    return lines


def to_markdown(blocks: Sequence[Block]) -> str:
    """The blocks as GitHub-flavoured Markdown."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, Paragraph):
            out.append(b.text)
        elif isinstance(b, Table):
            out += _md_table(b)
        elif isinstance(b, Figure):
            out.append(f"![{b.caption}]({b.path})")
            out.append("")
            out.append(f"*{b.caption}*")
        else:
            out += ["```", b.text, "```"]
        out.append("")
    return "\n".join(out)


_ITALIC = re.compile(r"\*([^*]+)\*")


def _italic(escaped: str) -> str:
    return _ITALIC.sub(r"<i>\1</i>", escaped)


def _inline(text: str) -> str:
    """Escape ``text``; ``**bold**`` and ``*italic*`` as in the Markdown twin."""
    parts = html.escape(text).split("**")
    return "".join(f"<b>{_italic(p)}</b>" if i % 2 else _italic(p) for i, p in enumerate(parts))


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{border-bottom:2px solid #ddd;padding-bottom:.3em}
h2{margin-top:1.8em;border-bottom:1px solid #eee}
table{border-collapse:collapse;margin:1em 0;font-size:.95em}
th,td{border:1px solid #ccc;padding:.35em .7em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}
caption{caption-side:top;text-align:left;font-style:italic;padding-bottom:.3em}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-style:italic;color:#555}pre{background:#f6f8fa;padding:.8em;overflow-x:auto}
"""


def to_html(blocks: Sequence[Block], *, title: str, base: Path) -> str:
    """The blocks as one self-contained HTML page; figures under ``base`` are embedded."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
    ]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Table):
            cap = f"<caption>{_inline(b.caption)}</caption>" if b.caption else ""
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b.rows
            )
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Figure):
            data = base64.b64encode((base / b.path).read_bytes()).decode("ascii")
            out.append(
                f'<figure><img alt="{html.escape(b.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{_inline(b.caption)}'
                "</figcaption></figure>"
            )
        else:
            out.append(f"<pre>{html.escape(b.text)}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def write_reports(blocks: Sequence[Block], folder: Path, *, title: str, html_too: bool) -> None:
    """Write ``report.md`` (and ``report.html``) into ``folder``, atomically."""
    with atomic_write(folder / "report.md") as fh:
        fh.write(to_markdown(blocks))
    if html_too:
        with atomic_write(folder / "report.html") as fh:
            fh.write(to_html(blocks, title=title, base=folder))
