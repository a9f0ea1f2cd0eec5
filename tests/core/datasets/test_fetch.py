"""Fetchers against a real HTTP server on 127.0.0.1: downloads, checks, and clean failures."""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.datasets import (
    ENV_DATA,
    ENV_URL,
    Limits,
    RemoteFile,
    data_homes,
    fetch_file,
    fetch_muct,
    fetch_paper_workbook,
    get_data_home,
    load_muct,
)
from ffmatch.core.errors import FetchError
from ffmatch.core.io.muct import read_muct

BODY = b"landmarks,0,1,2\n" * 200
SMALL = RemoteFile(
    path="small/data.csv",
    url="https://example.invalid/releases/data.csv",
    sha256=hashlib.sha256(BODY).hexdigest(),
)


class _Server(ThreadingHTTPServer):
    routes: dict[str, tuple[bytes, str]]
    requests: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body, mode = self.server.routes.get(self.path, (b"", "missing"))
        if mode == "missing":
            self.send_error(404)
            return
        if mode == "trickle":  # one byte at a time, at most len(body) bytes: a slow server
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for k in range(len(body)):
                try:
                    self.wfile.write(body[k : k + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return
                time.sleep(0.02)
            return
        self.send_response(200)
        # "short": announce twice the bytes, send half of them, then hang up.
        self.send_header("Content-Length", str(2 * len(body) if mode == "short" else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _url(httpd: _Server) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/mirror"


@pytest.fixture(autouse=True)
def _no_user_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the user's data home, cache or mirror."""
    monkeypatch.delenv(ENV_DATA, raising=False)
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_download_verifies_and_caches(server: _Server, tmp_path: Path) -> None:
    server.routes["/mirror/data.csv"] = (BODY, "ok")
    home = tmp_path / "home"
    path = fetch_file(SMALL, data_home=home, base_url=_url(server))
    assert path == home / "small" / "data.csv"
    assert path.read_bytes() == BODY
    assert _everything_under(home) == ["small/data.csv"]
    assert fetch_file(SMALL, data_home=home, base_url=_url(server)) == path
    assert server.requests == ["/mirror/data.csv"]  # the second call used the cache


def test_wrong_checksum_saves_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes["/mirror/data.csv"] = (BODY + b"tampered", "ok")
    home = tmp_path / "home"
    with pytest.raises(
        FetchError,
        match=r"data.csv: the downloaded file has sha256 [0-9a-f]{64}, "
        rf"expected {SMALL.sha256}; nothing was saved; download ",
    ):
        fetch_file(SMALL, data_home=home, base_url=_url(server))
    assert _everything_under(home) == []


def test_interrupted_transfer_saves_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes["/mirror/data.csv"] = (BODY, "short")
    home = tmp_path / "home"
    with pytest.raises(
        FetchError,
        match=rf"the transfer stopped after {len(BODY)} of "
        rf"{2 * len(BODY)} bytes; nothing was saved",
    ):
        fetch_file(SMALL, data_home=home, base_url=_url(server))
    assert _everything_under(home) == []


def test_http_error_names_the_status(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"downloading it failed \(HTTP Error 404"):
        fetch_file(SMALL, data_home=tmp_path, base_url=_url(server))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_message_says_where_to_put_the_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(FetchError) as info:
        fetch_paper_workbook(data_home=home, base_url=f"http://127.0.0.1:{_closed_port()}")
    message = str(info.value)
    assert "\n" not in message
    assert "paper/facial-features.xlsx not found in " in message
    assert "downloading it failed (" in message
    assert f"and put it at {home / 'paper' / 'facial-features.xlsx'}" in message
    assert f"or set {ENV_DATA} to a folder holding paper/facial-features.xlsx" in message
    assert _everything_under(home) == []


def test_no_download_when_not_allowed(tmp_path: Path) -> None:
    with pytest.raises(
        FetchError,
        match=r"^paper/facial-features.xlsx not found in .*; download "
        r"https://raw.githubusercontent.com/JuicyGuo-W/Submission-to-ICONIP2021/"
        r"main/data/facial-features.xlsx and put it at ",
    ):
        fetch_paper_workbook(data_home=tmp_path, download_if_missing=False)


def test_paper_workbook_download_end_to_end(
    server: _Server, tmp_path: Path, paper_workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/mirror/facial-features.xlsx"] = (paper_workbook.read_bytes(), "ok")
    monkeypatch.setenv(ENV_URL, _url(server))  # the mirror comes from the environment
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "home"))
    path = fetch_paper_workbook()
    assert path == tmp_path / "home" / "paper" / "facial-features.xlsx"
    assert path.read_bytes() == paper_workbook.read_bytes()


def test_finds_files_in_the_data_home_without_network(
    paper_workbook: Path, muct_file: Path
) -> None:
    home = paper_workbook.parents[1]
    assert fetch_paper_workbook(data_home=home, download_if_missing=False) == (
        home / "paper" / "facial-features.xlsx"
    )
    assert fetch_muct(data_home=home, download_if_missing=False) == (
        home / "muct" / "muct68-opencv.csv.gz"
    )


def test_search_order_env_then_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, cache = tmp_path / "env", tmp_path / "xdg-cache" / "ffmatch"
    monkeypatch.setenv(ENV_DATA, str(env))
    assert data_homes() == [env, cache]
    assert get_data_home() == env
    assert get_data_home(tmp_path / "given") == tmp_path / "given"
    (cache / "small").mkdir(parents=True)
    (cache / "small" / "data.csv").write_bytes(BODY)
    assert fetch_file(SMALL, download_if_missing=False) == cache / "small" / "data.csv"
    (env / "small").mkdir(parents=True)
    (env / "small" / "data.csv").write_bytes(BODY)
    assert fetch_file(SMALL, download_if_missing=False) == env / "small" / "data.csv"


@pytest.fixture(scope="module")
def muct76(muct_file: Path) -> str:
    """The shared 68 points plus 8 more per photo, like MUCT's own ``muct76-opencv.csv``."""
    lines = gzip.decompress(muct_file.read_bytes()).decode().splitlines()
    extra = ",".join(f"{a}{k:02d}" for k in range(68, 76) for a in "xy")
    rows = [f"{lines[0]},{extra}"] + [f"{line}{',1' * 16}" for line in lines[1:]]
    return "\n".join(rows) + "\n"


def _archive(text: str, member: str = "muct-landmarks/muct76-opencv.csv") -> bytes:
    data = text.encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_muct_download_extracts_and_checks_the_points(
    server: _Server, tmp_path: Path, muct_file: Path, muct76: str
) -> None:
    server.routes["/mirror/muct-landmarks-v1.tar.gz"] = (_archive(muct76), "ok")
    home = tmp_path / "home"
    path = fetch_muct(data_home=home, base_url=_url(server))
    assert path == home / "muct" / "muct76-opencv.csv"
    assert _everything_under(home) == ["muct/muct76-opencv.csv"]
    photos = load_muct(data_home=home)
    np.testing.assert_array_equal(photos.coords, read_muct(muct_file).coords)


def test_muct_download_with_other_points_saves_nothing(
    server: _Server, tmp_path: Path, muct76: str
) -> None:
    header, first, rest = muct76.split("\n", 2)
    cells = first.split(",")
    cells[2] = str(int(float(cells[2])) + 1)  # the first photo's x00, one pixel off
    altered = "\n".join([header, ",".join(cells), rest])
    server.routes["/mirror/muct-landmarks-v1.tar.gz"] = (_archive(altered), "ok")
    with pytest.raises(
        FetchError,
        match=r"the downloaded data have fingerprint [0-9a-f]{64}, "
        r"expected 7e9a3628",
    ):
        fetch_muct(data_home=tmp_path / "home", base_url=_url(server))
    assert _everything_under(tmp_path / "home") == []


def test_muct_archive_without_the_member(server: _Server, tmp_path: Path) -> None:
    archive = _archive("name,tag\n", member="other/file.csv")
    server.routes["/mirror/muct-landmarks-v1.tar.gz"] = (archive, "ok")
    with pytest.raises(
        FetchError,
        match=r"the archive holds no muct-landmarks/muct76-opencv.csv"
        r"; nothing was saved; download .* extract muct-landmarks/muct76-opencv",
    ):
        fetch_muct(data_home=tmp_path / "home", base_url=_url(server))
    assert _everything_under(tmp_path / "home") == []


def test_a_slow_server_meets_the_deadline(server: _Server, tmp_path: Path) -> None:
    server.routes["/mirror/data.csv"] = (BODY, "trickle")  # 3200 bytes at 50 a second
    home = tmp_path / "home"
    with pytest.raises(FetchError, match=r"data.csv: the transfer took longer than 0.2 s"):
        fetch_file(SMALL, data_home=home, base_url=_url(server),
                   limits=Limits(timeout=5, deadline=0.2, grace=100))  # fmt: skip
    assert _everything_under(home) == []


def test_a_slow_server_falls_below_the_minimum_rate(server: _Server, tmp_path: Path) -> None:
    server.routes["/mirror/data.csv"] = (BODY, "trickle")
    home = tmp_path / "home"
    with pytest.raises(FetchError, match=r"the transfer is slower than 1e\+06 bytes/s"):
        fetch_file(SMALL, data_home=home, base_url=_url(server),
                   limits=Limits(timeout=5, grace=0.1, min_rate=1e6))  # fmt: skip
    assert _everything_under(home) == []


def test_a_file_over_its_size_limit_is_refused(server: _Server, tmp_path: Path) -> None:
    import dataclasses

    server.routes["/mirror/data.csv"] = (BODY, "ok")
    small = dataclasses.replace(SMALL, max_bytes=100)
    with pytest.raises(FetchError, match=rf"the server announces {len(BODY)} bytes; expected at "
                                         r"most 100"):  # fmt: skip
        fetch_file(small, data_home=tmp_path / "home", base_url=_url(server))
    assert _everything_under(tmp_path / "home") == []


def test_an_archive_member_over_the_limit_is_refused_unread(
    server: _Server, tmp_path: Path
) -> None:
    import dataclasses

    from ffmatch.core.datasets import MUCT_LANDMARKS

    # 2 MB of zeros pack into a few KB: judged by the member's header, never unpacked
    archive = _archive("\0" * 2_000_000, member=MUCT_LANDMARKS.member or "")
    server.routes["/mirror/muct-landmarks-v1.tar.gz"] = (archive, "ok")
    limited = dataclasses.replace(MUCT_LANDMARKS, max_bytes=1_000_000)
    with pytest.raises(FetchError, match=r"muct76-opencv.csv in the archive unpacks to 2000000 "
                                         r"bytes; expected at most 1000000"):  # fmt: skip
        fetch_file(limited, data_home=tmp_path / "home", base_url=_url(server))
    assert _everything_under(tmp_path / "home") == []


def test_sigterm_during_a_download_leaves_no_temporary_file(
    server: _Server, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    server.routes["/mirror/data.csv"] = (BODY, "trickle")
    home = tmp_path / "home"
    code = (
        "import sys; from ffmatch.core.datasets import fetch_file, RemoteFile; "
        f"fetch_file(RemoteFile(path='small/data.csv', url='x/data.csv', sha256='0' * 64), "
        f"data_home={str(home)!r}, base_url={_url(server)!r})"
    )
    src = Path(__file__).parents[3] / "src"
    child = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(src)}
    )
    try:
        for _ in range(500):  # until the temporary file appears (at most 10 s)
            if list((home / "small").glob(".data.csv.*.tmp")) if (home / "small").is_dir() else []:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the download never started")
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _everything_under(home) == []
