"""Self-contained HTML contact sheets: shortlists (query beside each candidate) and groups.

Faces are cropped from the photos and embedded as data URIs, so one file can be mailed or
archived. Each candidate's evidence figure (both faces with their 14 markers, the distances
behind the verdict drawn in red where they differ and green where they agree) is one click
away in a ``<details>`` element.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ffmatch.archive import store
from ffmatch.archive.db import opened
from ffmatch.archive.group import Grouping
from ffmatch.archive.photos import crop_jpeg, photo_path
from ffmatch.archive.search import Shortlist
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.table import FloatArray

FIGURE_SIDE = 260  # px: each face's side in an evidence figure
DIFFER, AGREE, MARKER = (214, 39, 40), (44, 160, 44), (255, 221, 0)

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h2{margin:1.4em 0 .4em;font-size:1.1em}
.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.card{border:1px solid #ccc;border-radius:6px;padding:6px;width:180px;font-size:12px}
.card img{display:block;width:160px;height:160px;object-fit:contain;background:#eee}
.query{border-color:#1f77b4;border-width:2px}
.same{color:#2ca02c;font-weight:bold}.different{color:#d62728}.inconclusive{color:#b8860b}
.weak{border-color:#d62728;border-width:3px}
details img{width:auto;height:auto;max-width:560px}
ul{padding-left:1.1em;margin:.3em 0}
small{color:#666}
"""


def _uri(jpeg_or_png: bytes, kind: str = "jpeg") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(jpeg_or_png).decode('ascii')}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>{body}</body></html>\n"
    )


def _write(path: str | os.PathLike[str], text: str) -> Path:
    p = Path(path)
    with atomic_write(p, "w", encoding="utf-8") as fh:
        fh.write(text)
    return p


_PAIR = re.compile(r"^(\w+)-(\w+) / |\[(\w+)-(\w+)\]")  # "rtex-ltex / eye width" or "[rtex-ltex]"


def evidence_figure(
    path_a: str | os.PathLike[str],
    box_a: Sequence[float],
    markers_a: FloatArray,
    path_b: str | os.PathLike[str],
    box_b: Sequence[float],
    markers_b: FloatArray,
    reasons: Sequence[str],
) -> bytes:
    """PNG: both faces side by side with their markers and the distances named in ``reasons``
    (red: differs, green: agrees)."""
    from PIL import Image, ImageDraw

    from ffmatch.core.markers import WIDE_ORDER
    from ffmatch.matcher.photos.image import read_photo

    panels = []
    for path, box, m in ((path_a, box_a, markers_a), (path_b, box_b, markers_b)):
        x0, y0, x1, y1 = box
        half = max(x1 - x0, y1 - y0) * 0.7
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        left, top = cx - half, cy - half
        scale = FIGURE_SIDE / (2 * half)
        im = (
            Image.fromarray(read_photo(path))
            .crop((round(left), round(top), round(left + 2 * half), round(top + 2 * half)))
            .resize((FIGURE_SIDE, FIGURE_SIDE))
        )
        draw = ImageDraw.Draw(im)
        pts = (np.asarray(m) - [left, top]) * scale  # (14, 2) in the panel's pixels
        for reason in reasons:
            found = _PAIR.search(reason)
            ends = () if found is None else [e for e in found.groups() if e]
            if len(ends) != 2 or not set(ends) <= set(WIDE_ORDER):
                continue
            i, j = WIDE_ORDER.index(ends[0]), WIDE_ORDER.index(ends[1])
            colour = DIFFER if " differs " in reason else AGREE
            draw.line([tuple(pts[i]), tuple(pts[j])], fill=colour, width=3)
        for x, y in pts:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=MARKER, outline=(0, 0, 0))
        panels.append(im)
    sheet = Image.new("RGB", (2 * FIGURE_SIDE + 10, FIGURE_SIDE), (255, 255, 255))
    sheet.paste(panels[0], (0, 0))
    sheet.paste(panels[1], (FIGURE_SIDE + 10, 0))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def shortlist_html(
    db_path: str | os.PathLike[str], shortlists: Sequence[Shortlist], path: str | os.PathLike[str]
) -> Path:
    """The contact sheet of ``ffmatch search --html``: each query beside its candidates."""
    parts: list[str] = []
    with opened(db_path) as conn:
        for s in shortlists:
            parts.append(f"<h2>{_e(s.query)}</h2>")
            if s.in_archive:
                parts.append(
                    f"<p>Already in the archive as {_e(', '.join(s.in_archive))} "
                    "(left out of its own shortlist).</p>"
                )
            if not s.candidates:
                parts.append(f"<p>No candidates: {_e(s.error or 'the archive has no faces')}.</p>")
                continue
            q_crop = _uri(crop_jpeg(s.query, s.query_box))
            cards = [
                f'<div class="card query"><img src="{q_crop}" alt="query"><b>query</b>'
                f"<br>face {s.query_face} of {s.query_faces}</div>"
            ]
            for c in s.candidates:
                faces = store.load_bank_of(conn, c.photo)
                k = faces.index_of(c.photo, c.face)
                file = photo_path(db_path, c.photo)
                crop = _uri(crop_jpeg(file, tuple(faces.box[k])))
                fig = _uri(
                    evidence_figure(
                        s.query,
                        s.query_box,
                        np.asarray(s.query_markers),
                        file,
                        faces.box[k],
                        faces.markers[k],
                        c.reasons,
                    ),
                    "png",
                )
                why = "".join(f"<li>{_e(r)}</li>" for r in c.reasons[:4])
                cards.append(
                    f'<div class="card"><img src="{crop}" alt="{_e(c.photo)}">'
                    f"<b>{c.rank}. {_e(c.photo)}</b> <small>face {c.face}</small><br>"
                    f'P(same) {c.probability:.2f} <span class="{c.verdict}">{c.verdict}</span>'
                    f" <small>(evidence: {_e(c.evidence)})</small>"
                    f"{'<br>person: ' + _e(c.person) if c.person else ''}<ul>{why}</ul>"
                    f'<details><summary>evidence figure</summary><img src="{fig}" '
                    f'alt="evidence"></details></div>'
                )
            parts.append(f'<div class="row">{"".join(cards)}</div>')
    evidence = shortlists[0].evidence if shortlists else ""
    return _write(path, _page(f"ffmatch search ({evidence} evidence)", "".join(parts)))


MAX_SHEET_FACES = 2_000  # faces drawn on a groups sheet (each is a JPEG inside the file)


def groups_html(
    db_path: str | os.PathLike[str],
    grouping: Grouping,
    path: str | os.PathLike[str],
    *,
    max_faces: int = MAX_SHEET_FACES,
) -> Path:
    """The contact sheet of ``ffmatch group --html``: a strip of faces per group, largest
    first, the weakest link of each group framed in red; faces alone at the end. Past
    ``max_faces`` faces the sheet stops and says how many groups the CSV has beyond it."""
    with opened(db_path) as conn:
        bank = store.cached_bank(conn, db_path)
    root = photo_path  # files are looked up by archive id only

    def card(photo: str, face: int, note: str, weak: bool) -> str:
        k = bank.index_of(photo, face)
        crop = _uri(crop_jpeg(root(db_path, photo), tuple(bank.box[k])))
        return (
            f'<div class="card{" weak" if weak else ""}"><img src="{crop}" alt="{_e(photo)}">'
            f"<b>{_e(photo)}</b> <small>face {face}</small><br>{note}</div>"
        )

    parts = [
        f"<p>{grouping.faces} faces, {len(grouping.groups)} groups; pairs cut at P(same) "
        f"{grouping.threshold:.2f} ({grouping.evidence} evidence, {grouping.method}). "
        "Red frame: the member least tied to its group (review it first).</p>"
    ]
    for c in grouping.conflicts:
        parts.append(f"<p class=different>{_e(c)}</p>")
    alone = []
    drawn = 0
    for k, g in enumerate(grouping.groups):
        if drawn + g.size > max_faces:
            rest = len(grouping.groups) - k
            parts.append(
                f"<p>{rest} more groups (of {g.size} faces or fewer) are in the CSV; "
                f"this sheet shows the first {drawn} faces.</p>"
            )
            break
        drawn += g.size
        if g.size == 1:
            m = g.members[0]
            alone.append(card(m.photo, m.face, _e(m.person), False))
            continue
        people = sorted({m.person for m in g.members} - {""})
        parts.append(
            f"<h2>Group {g.number}: {g.size} faces"
            f"{' (' + _e(', '.join(people)) + ')' if people else ''}</h2>"
        )
        weak = None if g.weakest is None else g.weakest[0]
        if g.weakest is not None:
            a, b, p = g.weakest
            parts.append(
                f"<p>Weakest link: {_e(a.photo)} (face {a.face}), most alike "
                f"{_e(b.photo)} (face {b.face}) at P(same) {p:.2f}.</p>"
            )
        cards = [
            card(
                m.photo,
                m.face,
                f"mean P(same) {m.link:.2f}{' - weakest link' if m == weak else ''}"
                f"{'<br>' + _e(m.person) if m.person else ''}",
                m == weak,
            )
            for m in g.members
        ]
        parts.append(f'<div class="row">{"".join(cards)}</div>')
    if alone:
        parts.append(
            f"<h2>Alone: {len(alone)} faces</h2><details><summary>show</summary>"
            f'<div class="row">{"".join(alone)}</div></details>'
        )
    return _write(path, _page("ffmatch group", "".join(parts)))
