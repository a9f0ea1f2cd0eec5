"""``ffmatch data``: fetch datasets into the data home, show and convert landmark tables."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ffmatch.cli.app import app
from ffmatch.cli.common import out, print_json
from ffmatch.core.errors import ConfigError

data_app = typer.Typer(
    help="Fetch datasets, show and convert landmark tables.\n\n"
    "Example: ffmatch data convert paper --to tidy --out paper_photos.csv",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

FETCHABLE = ("paper-workbook", "muct")
FORMATS = ("tidy", "wide", "distances")


@data_app.command("fetch")
def fetch_cmd(
    name: str = typer.Argument(..., help=f"Dataset to fetch: {', '.join(FETCHABLE)}."),
    data_home: Path | None = typer.Option(
        None, "--data-home", help="Data home (default: $FFMATCH_DATA, then the user cache)."
    ),
) -> None:
    """Find a dataset in the data home or download it (checksum verified, cached atomically).

    Example: ffmatch data fetch muct
    """
    from ffmatch.core.datasets import fetch_muct, fetch_paper_workbook

    if name not in FETCHABLE:
        raise ConfigError(f"unknown dataset {name!r}; expected one of {', '.join(FETCHABLE)}")
    path = (
        fetch_paper_workbook(data_home=data_home)
        if name == "paper-workbook"
        else fetch_muct(data_home=data_home)
    )
    out.print(str(path))


@data_app.command("show")
def show_cmd(
    data: str = typer.Argument(
        "paper", help="Dataset name (paper, paper-computed, paper-workbook, muct) or file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Summarise a landmark table: photos, people or sets, pairs, missing markers.

    Example: ffmatch data show paper
    """
    import numpy as np

    from ffmatch.core.sources import load_pairs

    pairs = load_pairs(data)
    photos = pairs.photos
    summary = {
        "source": photos.source,
        "photos": len(photos),
        "people_or_sets": len(np.unique(photos.person)),
        "pairs": len(pairs),
        "matching_pairs": int(pairs.label.sum()),
        "photos_with_missing_markers": int(photos.missing.any(axis=1).sum()),
        "derived_markers": int(photos.derived.sum()),
    }
    if as_json:
        print_json(summary)
        return
    grid = Table(title=f"{data}")
    grid.add_column("")
    grid.add_column("", justify="right")
    for key, value in summary.items():
        grid.add_row(key.replace("_", " "), str(value))
    out.print(grid)


@data_app.command("convert")
def convert_cmd(
    data: str = typer.Argument(..., help="Dataset name or landmark file to read."),
    to: str = typer.Option(..., "--to", help=f"Output format: {', '.join(FORMATS)}."),
    out_file: Path = typer.Option(..., "--out", "-o", help="CSV file to write (atomically)."),
) -> None:
    """Convert between the tidy landmark CSV and the paper's wide FFM and distance tables.

    Example: ffmatch data convert paper --to distances --out paper_distances.csv
    """
    from ffmatch.core.io.output import check_output_file
    from ffmatch.core.io.tidy import write_tidy
    from ffmatch.core.io.wide import distance_table, write_wide_distances, write_wide_ffms
    from ffmatch.core.sources import load_pairs, load_photos

    if to not in FORMATS:
        raise ConfigError(f"--to: expected one of {', '.join(FORMATS)}, found {to!r}")
    check_output_file(out_file, inputs=[data])
    if to == "tidy":
        write_tidy(load_photos(data), out_file)
    elif to == "wide":
        write_wide_ffms(load_pairs(data), out_file)
    else:
        write_wide_distances(distance_table(load_pairs(data)), out_file)
    out.print(f"wrote {out_file}")
