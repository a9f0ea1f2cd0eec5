"""The Typer application, global options and error handling."""

from __future__ import annotations

import logging
import sys

import typer

from ffmatch.errors import FFMatchError

app = typer.Typer(
    name="ffmatch",
    help=(
        "Decide whether two photos show the same person from 14 facial feature markers.\n\n"
        "Example: ffmatch reproduce --out runs/paper"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on errors."),
) -> None:
    """Decide whether two photos show the same person from 14 facial feature markers."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    _state["debug"] = debug


def main() -> None:
    """Console entry point: run the app, reporting ffmatch errors as one line, exit 2."""
    from ffmatch.cli import commands  # noqa: F401  (registers the commands)

    try:
        app(standalone_mode=False)
    except FFMatchError as err:
        if _state["debug"]:
            raise
        typer.echo(f"ffmatch: error: {err}", err=True)
        sys.exit(2)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
