"""``ffmatch serve``: the local web page over an archive database (needs the ``web`` extra).

Thin: checks the options, builds the app with ``ffmatch.web.create_app`` and hands it to
uvicorn. The page answers on this machine only (127.0.0.1) unless a token is given.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import typer

from ffmatch.cli.app import app
from ffmatch.cli.common import out
from ffmatch.core.errors import ConfigError

WEB_HINT = "the web page needs the web extra: pip install 'ffmatch[web]'"
MAX_UPLOAD_MB = 1024  # a photo, not an archive: the page reads each upload into memory


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_cmd(
    db: Path = typer.Option(..., "--db", help="The archive database made by 'ffmatch index'."),
    port: int = typer.Option(8765, "--port", help="TCP port to answer on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; any other than 127.0.0.1 needs --token."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Secret every request must carry (?token=... once in the browser, or an "
        "'Authorization: Bearer' header); 'new' makes a random one.",
    ),
    max_upload_mb: float = typer.Option(20, "--max-upload-mb", help="Largest photo accepted."),
) -> None:
    """Open the archive in your browser: Compare, Search, Groups and Archive pages.

    Example: ffmatch serve --db archive.db
    """
    if not db.is_file():
        raise ConfigError(
            f"--db {db}: no such archive; make one with 'ffmatch index PHOTOS --db {db}'"
        )
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port: expected 1 to 65535, found {port}")
    if not 0 < max_upload_mb <= MAX_UPLOAD_MB:  # False for NaN too
        raise ConfigError(
            f"--max-upload-mb: expected a size in MB above 0 and up to {MAX_UPLOAD_MB}, "
            f"found {max_upload_mb}"
        )
    if token == "new":
        token = secrets.token_urlsafe(24)
    if not is_loopback(host) and not token:
        raise ConfigError(f"--host {host}: other computers could reach the page; add --token new")
    from ffmatch.archive.db import opened

    with opened(db):  # a file that is no archive: one line now, not an error on every page
        pass
    try:
        import uvicorn

        from ffmatch.web import create_app
    except ImportError:
        raise ConfigError(WEB_HINT) from None
    web_app = create_app(db, token=token, max_upload_mb=max_upload_mb)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    out.print(f"ffmatch: serving {db} at {address} (Ctrl-C stops)", markup=False,
              highlight=False, soft_wrap=True)  # fmt: skip
    uvicorn.run(web_app, host=host, port=port, log_level="warning")
