"""``ffmatch select``: choose the representation by ranking cosine similarities (Table 2)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ffmatch.cli.app import app
from ffmatch.cli.common import out, print_json
from ffmatch.paper.selection import ORDER, RULES, CosineTable, read_cosine_csv, select


@app.command("select")
def select_cmd(
    data: str = typer.Option(
        "paper",
        "--data",
        "-d",
        help="Dataset name (paper, paper-workbook) or landmark file "
        "whose photos form sets of A, B, C.",
    ),
    similarities: Path | None = typer.Option(
        None,
        "--similarities",
        help="A table shaped like the paper's Table 2 (cosine distances) instead of landmark data.",
    ),
    rule: str = typer.Option("paper", "--rule", help=f"Ranking rule: {', '.join(RULES)}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Choose the representation by ranking cosine similarities (Table 2).

    Example: ffmatch select --similarities table2_cosine_similarity.csv --rule paper --json
    """
    from ffmatch.core.sources import load_photos
    from ffmatch.paper.selection import cosine_table

    table: CosineTable = (
        read_cosine_csv(similarities) if similarities else cosine_table(load_photos(data))
    )
    result = select(table, rule)
    if as_json:
        print_json(
            {"rule": result.rule, "weights": dict(result.weights), "selected": result.selected}
        )
        return
    grid = Table(title=f"Selection by rank weighting, rule {rule!r}")
    grid.add_column("set")
    for rep in ORDER:
        grid.add_column(rep, justify="right")
    for k, s in enumerate(table.sets):
        grid.add_row(str(s), *(str(result.per_set[rep][k]) for rep in ORDER))
    grid.add_section()
    grid.add_row("sum", *(f"[bold]{result.weights[rep]}" for rep in ORDER))
    out.print(grid)
    out.print(f"selected: [bold]{result.selected}[/bold]")
