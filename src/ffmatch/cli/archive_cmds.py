"""``ffmatch index``, ``search``, ``decide`` and ``group``: the archive commands.

Thin: each parses its options, calls one function of ``ffmatch.archive`` and prints what
it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ffmatch.cli.app import app, is_quiet
from ffmatch.cli.common import err, out, print_json

_DB = typer.Option(..., "--db", help="The archive file (SQLite), e.g. archive.db.")
_EVIDENCE = typer.Option(
    None,
    "--evidence",
    help="geometry (the 14 markers), appearance, or both (fused). [default: both where the "
    "appearance model is installed, else geometry]",
)
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")


@contextmanager
def _bar(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar with ETA on stderr, one task per phase (hashing, extracting)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    ) as progress:
        tasks: dict[str, object] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)  # type: ignore[arg-type]

        yield update


def _check_outputs(
    db: Path, out_file: Path | None, html_file: Path | None, *, inputs: Sequence[Path] = ()
) -> None:
    """The report files checked before the work: never the archive, an input or each other."""
    from ffmatch.core.io.output import check_output_file

    if out_file is not None:
        check_output_file(out_file, inputs=[db, *inputs])
    if html_file is not None:
        given = [db, *inputs] + ([out_file] if out_file is not None else [])
        check_output_file(html_file, inputs=given, option="--html")


@contextmanager
def _replacing(*paths: Path | None) -> Iterator[list[Path | None]]:
    """Where to write the report files given (None: not asked for); they replace earlier
    ones only once all are written (``replacing_files``)."""
    from ffmatch.core.io.output import replacing_files

    given = [p for p in paths if p is not None]
    with replacing_files(given) as staged:
        new = iter(staged)
        yield [None if p is None else next(new) for p in paths]


@app.command("index")
def index_cmd(
    photo_dir: Path = typer.Argument(..., help="The folder of photos (searched recursively)."),
    db: Path = _DB,
    labels: Path | None = typer.Option(
        None, "--labels", help="CSV with columns photo,person (photo: path relative to PHOTO_DIR)."
    ),
    labels_from_folders: bool = typer.Option(
        False, "--labels-from-folders", help="Each photo's person is the folder it sits in."
    ),
    workers: int = typer.Option(
        0, "--workers", help="Start a local Dask cluster of N worker processes (0: this process)."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); its workers must "
        "see PHOTO_DIR at the same path.",
    ),
    json_out: bool = _JSON,
) -> None:
    """Index every photo under PHOTO_DIR into an archive: faces, markers, descriptors.

    Incremental: a rerun extracts only new or changed photos and forgets removed ones.
    Photos that fail keep a row with the reason (listed on stderr).

    Example: ffmatch index photos/ --db archive.db --labels-from-folders
    """
    from ffmatch.archive import index_folder
    from ffmatch.archive.reports import document
    from ffmatch.cli.options import MAX_JOBS, check_range

    check_range("--workers", workers, 0, MAX_JOBS)
    with _bar(is_quiet()) as update:
        report = index_folder(
            photo_dir,
            db,
            labels=labels,
            labels_from_folder=labels_from_folders,
            workers=workers,
            scheduler=scheduler,
            progress=update,
        )
    for pid, reason in report.failed:
        err.print(f"{pid}: {reason}", markup=False, highlight=False, soft_wrap=True)
    for pid in report.removed:
        err.print(f"{pid}: removed from PHOTO_DIR; forgotten", markup=False, highlight=False)
    if json_out:
        print_json(document("index", report))
        return
    out.print(
        f"{report.db_path}: {report.found} files, {report.extracted} extracted, {report.copied} "
        f"copied (same content), {report.unchanged} unchanged, {len(report.removed)} removed, "
        f"{len(report.failed)} without a face; {report.faces} faces in the archive",
        markup=False,
        highlight=False,
    )


@app.command("search")
def search_cmd(
    queries: list[Path] = typer.Argument(..., help="Query photos, or folders of them."),
    db: Path = _DB,
    top: int = typer.Option(10, "--top", "-k", help="Candidates per query."),
    out_file: Path | None = typer.Option(
        None, "--out", "-o", help="CSV: query, rank, candidate, face, probability, verdict, person."
    ),
    html_file: Path | None = typer.Option(
        None, "--html", help="Self-contained contact sheet: each query beside its candidates."
    ),
    face: int | None = typer.Option(
        None, "--face", help="In query photos of several people, search face N (1 = leftmost)."
    ),
    evidence: str | None = _EVIDENCE,
    json_out: bool = _JSON,
) -> None:
    """Search the archive with photos: a ranked shortlist of likely the same person.

    A query already in the archive (same content) is said so and left out of its own
    shortlist; photos decided "different" from it never come back.

    Example: ffmatch search unknown.jpg --db archive.db --top 5 --out list.csv --html list.html
    """
    from ffmatch.archive import search_many
    from ffmatch.archive.reports import document, shortlist_rows, write_shortlists
    from ffmatch.archive.sheets import shortlist_html

    _check_outputs(db, out_file, html_file, inputs=queries)
    lists = search_many(db, list(queries), top=top, evidence=evidence, face=face)
    with _replacing(out_file, html_file) as (new_csv, new_html):
        if new_csv is not None:
            write_shortlists(lists, new_csv)
        if new_html is not None:
            shortlist_html(db, lists, new_html)
    for s in lists:
        if s.in_archive:
            err.print(
                f"{s.query}: already in the archive as {', '.join(s.in_archive)} (left out "
                "of its own shortlist)",
                markup=False,
                highlight=False,
            )
        if s.error:
            err.print(f"{s.query}: {s.error}", markup=False, highlight=False)
    if json_out:
        print_json(document("search", lists))
        return
    if out_file is None:
        for row in shortlist_rows(lists):
            out.print(",".join(row), markup=False, highlight=False)
    else:
        out.print(f"wrote {out_file}", markup=False, highlight=False)


@app.command("decide")
def decide_cmd(
    photo_a: str = typer.Argument(
        ..., help="Archive id of one photo (path relative to PHOTO_DIR)."
    ),
    photo_b: str = typer.Argument(..., help="Archive id of the other."),
    decision: str = typer.Argument(..., help="same, different or unsure."),
    db: Path = _DB,
    note: str | None = typer.Option(None, "--note", help="Why, in a few words."),
    who: str | None = typer.Option(None, "--who", help="Who decides [default: the user name]."),
    json_out: bool = _JSON,
) -> None:
    """Record a person's decision about two archive photos (kept with who and when).

    "different": the two never come back as candidates for each other; "same": grouping
    keeps them together.

    Example: ffmatch decide s1/1.pgm s1/7.pgm same --db archive.db --note "same scar"
    """
    from ffmatch.archive import record_decision
    from ffmatch.archive.reports import document

    d = record_decision(db, photo_a, photo_b, decision, note=note, who=who)
    if json_out:
        print_json(document("decision", d))
        return
    out.print(
        f"{d.a} and {d.b}: {d.decision} (by {d.who} at {d.decided_at})",
        markup=False,
        highlight=False,
    )


@app.command("group")
def group_cmd(
    db: Path = _DB,
    out_file: Path = typer.Option(..., "--out", "-o", help="CSV: photo, face, group, person."),
    html_file: Path | None = typer.Option(
        None, "--html", help="Contact sheet: a strip of faces per group, weakest link marked."
    ),
    evidence: str | None = _EVIDENCE,
    threshold: float | None = typer.Option(
        None, "--threshold", help="Cut pairs at this P(same) [default: the 'same person' band]."
    ),
    json_out: bool = _JSON,
) -> None:
    """Group every face of the archive into likely-same-person sets, largest first.

    Decisions and known labels are honoured: "same" and one label join, "different" and two
    labels keep apart.

    Example: ffmatch group --db archive.db --out groups.csv --html groups.html
    """
    from ffmatch.archive import group
    from ffmatch.archive.reports import document, write_groups
    from ffmatch.archive.sheets import groups_html
    from ffmatch.core.errors import ConfigError

    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError(f"--threshold: expected a probability in (0, 1), found {threshold}")
    _check_outputs(db, out_file, html_file)
    grouping = group(db, evidence=evidence, threshold=threshold)
    with _replacing(out_file, html_file) as (new_csv, new_html):
        assert new_csv is not None  # --out is required
        write_groups(grouping, new_csv)
        if new_html is not None:
            groups_html(db, grouping, new_html)
    for c in grouping.conflicts:
        err.print(c, markup=False, highlight=False)
    if json_out:
        print_json(document("group", grouping))
        return
    multi = sum(g.size > 1 for g in grouping.groups)
    out.print(
        f"{grouping.faces} faces in {len(grouping.groups)} groups ({multi} of two or more); "
        f"wrote {out_file}",
        markup=False,
        highlight=False,
    )
