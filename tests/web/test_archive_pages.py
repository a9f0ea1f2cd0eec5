"""Search, decisions, Groups and Archive over an archive; files only by archive id."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ffmatch.web import create_app


@pytest.fixture
def client(archive_db: Path) -> TestClient:
    return TestClient(create_app(archive_db))


def _photo(archive_db: Path, photo_id: str) -> bytes:
    return (archive_db.parent / "photos" / photo_id).read_bytes()


def test_api_search_ranks_the_archive(client: TestClient, archive_db: Path) -> None:
    r = client.post("/api/search", files={"photo": ("q.png", _photo(archive_db, "ann/1.png"))},
                    data={"top": "2"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query_in_archive"] == "ann/1.png"
    assert [c["photo"] for c in body["candidates"]] == ["ann/2.png", "bob/1.png"]
    assert set(body["candidates"][0]) == {"photo", "face", "probability", "verdict", "person"}
    assert body["candidates"][0]["person"] == "Ann"


@pytest.mark.parametrize("top", ["0", "51"])
def test_search_top_is_bounded(client: TestClient, archive_db: Path, top: str) -> None:
    r = client.post("/api/search", files={"photo": ("q.png", _photo(archive_db, "ann/1.png"))},
                    data={"top": top})  # fmt: skip
    assert r.status_code == 422
    assert r.json() == {"detail": f"top: expected a number from 1 to 50, found {top}"}


def test_a_decision_is_kept_and_the_candidate_no_longer_offered(client: TestClient) -> None:
    body = {"a": "ann/1.png", "b": "bob/1.png", "decision": "different", "note": "moustache"}
    r = client.post("/api/decisions", json=body)
    assert r.status_code == 201
    assert r.json()["decision"] == "different"
    listed = client.get("/api/decisions").json()
    assert [(d["a"], d["b"], d["decision"], d["note"]) for d in listed] == [
        ("ann/1.png", "bob/1.png", "different", "moustache")
    ]
    page = client.get("/search", params={"photo": "ann/1.png"}).text
    assert 'data-photo="bob/1.png"' not in page
    assert 'data-photo="ann/2.png"' in page
    assert "moustache" in page  # the decision is listed under the shortlist


@pytest.mark.parametrize(
    ("body", "message"),
    [({"a": "ann/1.png", "b": "bob/1.png", "decision": "maybe"},
      "decision: expected one of same, different, unsure, found 'maybe'"),
     ({"a": "ann/1.png", "b": "../etc/passwd", "decision": "same"},
      "no photo '../etc/passwd' in the archive")],
)  # fmt: skip
def test_bad_decisions_are_refused(client: TestClient, body: dict[str, str], message: str) -> None:
    r = client.post("/api/decisions", json=body)
    assert r.status_code in (404, 422)
    assert r.json() == {"detail": message}
    assert client.get("/api/decisions").json() == []


def test_search_form_with_an_archive_photo_moves_to_an_address_that_reloads(
    client: TestClient, archive_db: Path
) -> None:
    r = client.post("/search", files={"photo": ("q.png", _photo(archive_db, "bob/1.png"))},
                    data={"top": "3"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/search?photo=bob%2F1.png&top=3"


def test_search_with_a_photo_not_in_the_archive_shows_it_and_offers_no_marks(
    client: TestClient,
) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (30, 30), (1, 2, 3)).save(buf, format="PNG")
    r = client.post("/search", files={"photo": ("new.png", buf.getvalue())})
    assert r.status_code == 200
    assert "This photo is not in the archive" in r.text
    assert "data-decide" not in r.text
    assert 'src="data:image/jpeg;base64,' in r.text  # the query, shown beside each candidate


def test_decision_form_goes_back_only_to_this_site(client: TestClient) -> None:
    form = {"a": "ann/1.png", "b": "cy/1.png", "decision": "unsure", "back": "//evil.example/"}
    r = client.post("/decisions", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/groups"


def test_groups_page_marks_the_weakest_link_and_offers_split_and_join(client: TestClient) -> None:
    html = client.get("/groups").text
    assert html.index("Group 1: 2 faces") < html.index("Group 2: 1 face")
    assert html.count('class="weak"') == 2
    assert "Weakest link: <strong>ann/1.png</strong> and <strong>ann/2.png</strong>" in html
    assert "Split: different people" in html
    assert "Join two groups" in html


def test_archive_page_shows_counts_failures_and_when(client: TestClient) -> None:
    html = client.get("/archive").text
    assert '<th scope="row">photos</th><td>5</td>' in html
    assert "broken.jpg</td><td>not an image Pillow can read" in html
    assert "2026-11-29 22:00 UTC" in html


def test_photos_and_faces_are_served_by_archive_id(client: TestClient, archive_db: Path) -> None:
    r = client.get("/photos/ann/1.png")
    assert r.status_code == 200
    assert r.content == _photo(archive_db, "ann/1.png")
    r = client.get("/faces/0/ann/1.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert client.get("/faces/1/ann/1.png").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/photos/../pyproject.toml",
        "/photos/ann/../../archive.db",
        "/photos/%2e%2e/%2e%2e/etc/passwd",
        "/photos/..%2f..%2fetc%2fpasswd",
        "/photos/%252e%252e%252fetc%252fpasswd",
        "/photos//etc/passwd",
        "/photos/%2Fetc%2Fpasswd",
        "/photos/photos/ann/1.png",
        "/faces/0/../../../etc/passwd",
        "/faces/0/%2Fetc%2Fpasswd",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static//etc/passwd",
    ],
)
def test_nothing_outside_the_archive_is_served(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert b"root:" not in r.content
    assert b"create_app" not in r.content


@pytest.mark.parametrize(
    "path",
    ["/photos/../../../../etc/passwd", "/photos/..%2F..%2F..%2Fetc%2Fpasswd",
     "/static/../../../../etc/passwd", "/faces/0/../../../../../etc/passwd",
     "/photos//etc/passwd", "/photos/C:%5CWindows%5Cwin.ini"],
)  # fmt: skip
def test_raw_paths_on_a_real_server_answer_404(archive_db: Path, serve: Any, path: str) -> None:
    """Sent byte for byte (no client tidies the ``..`` away) to uvicorn on loopback."""
    import http.client

    server = serve(create_app(archive_db))
    host, port = server.url.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    con.putrequest("GET", path, skip_host=True)
    con.putheader("Host", f"127.0.0.1:{port}")
    con.endheaders()
    r = con.getresponse()
    body = r.read()
    con.close()
    assert r.status == 404
    assert b"root:" not in body
