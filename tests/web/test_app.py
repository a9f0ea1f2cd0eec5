"""The page's Compare route, its JSON API, and the guards: token, loopback, upload limits."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ffmatch.core.errors import DataError
from ffmatch.web import create_app


def _png(side: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (120, 90, 60)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(tmp_path / "archive.db", max_upload_mb=1))


def test_compare_api_gives_probability_verdict_reasons_and_evidence(
    client: TestClient, shared_photos: Path
) -> None:
    files = {"a": ("one.jpg", (shared_photos / "obama-1.jpg").read_bytes()),
             "b": ("two.jpg", (shared_photos / "obama-2.jpg").read_bytes())}  # fmt: skip
    r = client.post("/api/compare", files=files)
    assert r.status_code == 200, r.text
    body = r.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert body["verdict"] in ("same", "inconclusive", "different")
    assert body["reasons"]
    assert body["measurements"]
    assert body["evidence"] in ("geometry", "appearance", "both")


def test_compare_page_shows_verdict_faces_and_figure(
    client: TestClient, shared_photos: Path
) -> None:
    files = {"a": ("one.jpg", (shared_photos / "obama-1.jpg").read_bytes()),
             "b": ("two.jpg", (shared_photos / "biden-1.jpg").read_bytes())}  # fmt: skip
    r = client.post("/compare", files=files)
    assert r.status_code == 200
    assert 'class="verdict"' in r.text
    assert r.text.count('src="data:image/') == 5  # 2 faces, 2 whole photos, the figure
    assert "Probability that both show the same person" in r.text
    # Side by side: each face cropped (a square around it); its whole photo one click away.
    crops = re.findall(r'<img class="crop" src="data:image/jpeg;base64,([^"]+)"', r.text)
    wholes = re.findall(r'<summary>Whole photo [AB]</summary>\s*<img src="data:image/jpeg;'
                        r'base64,([^"]+)"', r.text)  # fmt: skip
    assert len(crops) == len(wholes) == 2
    for crop, whole, name in zip(crops, wholes, ("obama-1.jpg", "biden-1.jpg"), strict=True):
        with Image.open(io.BytesIO(base64.b64decode(crop))) as im:
            assert im.width == im.height <= 320
        with Image.open(io.BytesIO(base64.b64decode(whole))) as im, \
                Image.open(shared_photos / name) as original:  # fmt: skip
            assert im.width / im.height == pytest.approx(original.width / original.height, rel=0.02)


def test_a_broken_image_gets_one_clear_line_on_the_page(client: TestClient) -> None:
    files = {"a": ("fine.png", _png()), "b": ("scan.jpg", b"\xff\xd8\xff\xe0 not really")}
    r = client.post("/compare", files=files)
    assert r.status_code == 422
    assert "scan.jpg: broken image (Truncated File Read)" in r.text
    assert "Traceback" not in r.text
    assert "ffmatch-web-" not in r.text  # the saved copy's temporary path is not shown


def test_api_names_the_upload_that_is_not_an_image(client: TestClient) -> None:
    r = client.post("/api/compare", files={"a": ("notes.txt", b"hello"), "b": ("x.png", _png())})
    assert r.status_code == 422
    assert r.json() == {"detail": "notes.txt: not an image Pillow can read (expected JPEG, PNG, "
                                  "PGM, ...)"}  # fmt: skip


def test_an_empty_upload_is_refused(client: TestClient) -> None:
    r = client.post("/api/compare", files={"a": ("empty.jpg", b""), "b": ("x.png", _png())})
    assert r.status_code == 422
    assert "empty.jpg" in r.json()["detail"]


def test_a_photo_without_a_face_is_said_so(client: TestClient) -> None:
    r = client.post("/api/compare", files={"a": ("wall.png", _png(200)), "b": ("x.png", _png(200))})
    assert r.status_code == 422
    assert r.json()["detail"] == "wall.png: no face found"


def test_an_upload_over_the_limit_gets_413(client: TestClient) -> None:
    big = b"\x00" * (1024 * 1024 + 10)  # the client's limit is 1 MB a photo
    r = client.post("/api/compare", files={"a": ("big.jpg", big), "b": ("x.png", _png())})
    assert r.status_code == 413
    assert "limit is 1 MB a photo" in r.text


def test_a_body_over_the_limit_is_refused_while_it_streams(tmp_path: Path, serve: Any) -> None:
    server = serve(create_app(tmp_path / "a.db", max_upload_mb=1))

    def chunks():  # no Content-Length: the guard counts the bytes as they arrive
        yield (b'--x\r\nContent-Disposition: form-data; name="a"; filename="big.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n")  # fmt: skip
        for _ in range(8):
            yield b"\x00" * (512 * 1024)

    r = httpx.post(f"{server.url}/api/compare", content=chunks(),
                   headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert r.status_code == 413


def test_the_limit_is_configurable_and_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="max_upload_mb: expected a positive size in MB, found 0"):
        create_app(tmp_path / "a.db", max_upload_mb=0)


def test_interactive_docs_are_off_and_the_schema_lists_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/compare", "/api/search", "/api/decisions"} <= set(paths)
    assert set(paths["/api/decisions"]) == {"get", "post"}


def test_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/search"):
        html = client.get(path).text
        assert "http://" not in html
        assert "https://" not in html
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_without_a_token_only_loopback_host_names_are_answered(tmp_path: Path) -> None:
    c = TestClient(create_app(tmp_path / "a.db"), base_url="http://evil.example:8765")
    r = c.get("/")
    assert r.status_code == 403
    assert "answers on 127.0.0.1 only, not evil.example" in r.text
    c = TestClient(create_app(tmp_path / "a.db"), base_url="http://127.0.0.1:8765")
    assert c.get("/").status_code == 200


def test_posts_from_another_site_are_refused(client: TestClient) -> None:
    r = client.post("/api/decisions", json={"a": "x", "b": "y", "decision": "same"},
                    headers={"origin": "http://evil.example"})  # fmt: skip
    assert r.status_code == 403


def test_with_a_token_requests_without_it_get_401(tmp_path: Path) -> None:
    c = TestClient(create_app(tmp_path / "a.db", token="s3cret"),
                   base_url="http://192.168.1.5:8765")  # fmt: skip
    r = c.get("/")
    assert r.status_code == 401
    assert "needs its token" in r.text
    assert c.get("/api/decisions", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/openapi.json", headers={"authorization": "Bearer s3cret"}).status_code == 200
    # The browser's first visit carries ?token=; the cookie it gets serves the next requests.
    assert c.get("/?token=s3cret").status_code == 200
    assert c.get("/search").status_code == 200
