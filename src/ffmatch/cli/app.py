"""The Typer application, global options and error handling."""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from ffmatch.core.errors import FFMatchError

app = typer.Typer(
    name="ffmatch",
    help=(
        "Decide whether two photos show the same person from 14 facial feature markers.\n\n"
        "Example: ffmatch reproduce --out runs/paper"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

_state: dict[str, Any] = {"debug": False}


def _print_version(value: bool) -> None:
    """``--version``: print the version and stop, before any command runs."""
    if value:
        from ffmatch import __version__

        typer.echo(f"ffmatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on errors."),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        max=256,  # options.MAX_THREADS: far more crashes PyTorch's thread pool
        help="Training threads; results do not depend on them. Default: every CPU for the "
        "compiled engine, which trains networks side by side; one for --engine stacked, "
        "whose tiny matrix products gain little from more and stall when the CPU is shared.",
        show_default=False,
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the ffmatch version and exit.",
    ),
) -> None:
    """Decide whether two photos show the same person from 14 facial feature markers.

    Example: ffmatch reproduce --out runs/paper
    """
    level = (
        logging.WARNING
        if quiet or not verbose
        else (logging.INFO if verbose == 1 else logging.DEBUG)
    )
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    _state["debug"] = debug
    _state["quiet"] = quiet
    _state["threads"] = threads


def command_line() -> str:
    """The command as the user typed it, for reports."""
    import shlex

    return shlex.join(["ffmatch", *_state.get("argv", [])])


def prepare_training(engine: str, device: str = "cpu", *, default: int | None = None) -> None:
    """Before a command trains with ``engine`` on ``device``: apply ``--threads`` and load the
    compiled loop, saying so when that takes a while (a machine's first run compiles it).

    Threads without ``--threads``: ``default`` when given, else one for the stacked engine
    and the compiled engine's own default (every CPU).
    """
    from ffmatch.cli.common import notice_if_slow
    from ffmatch.paper.nn.train import prepare_engine, set_threads

    threads = _state.get("threads")
    if threads is None:
        threads = default if default is not None else (1 if engine == "stacked" else None)
    set_threads(threads)
    with notice_if_slow(
        "Preparing the training loop: the first run on a machine compiles it (10-20 s); "
        "later runs load it from the cache.",
        quiet=is_quiet(),
    ):
        prepare_engine(engine=engine, device=device)


def is_quiet() -> bool:
    """Whether ``-q`` was given (progress bars hidden)."""
    return bool(_state.get("quiet"))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv``; ffmatch errors become one line on stderr and status 2."""
    from ffmatch.cli import commands  # noqa: F401  (registers the commands)

    _state["debug"] = False
    _state["argv"] = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=argv, prog_name="ffmatch", standalone_mode=False)
    except FFMatchError as err:
        if _state["debug"]:
            raise
        sys.stderr.write(f"ffmatch: error: {err}\n")
        return 2
    except NoArgsIsHelpError as err:  # a bare command group: its help, as Typer shows it
        err.show()
        return err.exit_code
    except UsageError as err:  # a bad option or value: one line, as for bad data
        # Typer vendors click from 0.29 on and exports no public name for these exceptions.
        where = err.ctx.command_path if err.ctx else "ffmatch"
        message = " ".join(err.format_message().split())
        sys.stderr.write(f"ffmatch: error: {where}: {message} (see --help)\n")
        return 2
    except ClickException as err:
        sys.stderr.write(f"ffmatch: error: {' '.join(err.format_message().split())}\n")
        return err.exit_code
    except typer.Abort:
        sys.stderr.write("ffmatch: interrupted\n")
        return 130
    except OSError as err:  # the file system said no (permission, full disk): name the path
        if _state["debug"]:
            raise
        where = f"{err.filename}: " if err.filename else ""
        sys.stderr.write(f"ffmatch: error: {where}{err.strerror or err}\n")
        return 2
    except SystemExit as ex:  # a command may still end this way (typer.Exit is caught above)
        return ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
    return code if isinstance(code, int) else 0


def main() -> None:
    """Console entry point."""
    sys.exit(run())
