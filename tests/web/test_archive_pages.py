"""Search, decisions, Groups and Archive over a real archive; files only by archive id."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ffmatch.archive import photo_path
from ffmatch.web import create_app

QUERY = "obama/obama-1.jpg"


@pytest.fixture
def client(archive_db: Path) -> TestClient:
    return TestClient(create_app(archive_db))


def _upload(db: Path, photo_id: str) -> bytes:
    return photo_path(db, photo_id).read_bytes()


def test_api_search_ranks_the_archive(client: TestClient, archive_db: Path) -> None:
    r = client.post("/api/search", files={"photo": ("q.jpg", _upload(archive_db, QUERY))},
                    data={"top": "3"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query_in_archive"] == QUERY
    cands = body["candidates"]
    assert len(cands) == 3
    assert QUERY not in [c["photo"] for c in cands]  # left out of its own shortlist
    assert set(cands[0]) == {"photo", "face", "probability", "verdict", "person", "rank",
                             "evidence"}  # fmt: skip
    assert [c["rank"] for c in cands] == [1, 2, 3]
    assert {c["evidence"] for c in cands} <= {"geometry", "appearance", "both"}
    assert (body["total"], body["offset"], body["limit"], body["next_offset"]) == (7, 0, 3, 3)
    assert [c["probability"] for c in cands] == sorted((c["probability"] for c in cands),
                                                       reverse=True)  # fmt: skip
    assert all(c["person"] == c["photo"].split("/")[0] for c in cands)  # labels from folders


@pytest.mark.parametrize("top", ["0", "51"])
def test_search_top_is_bounded(client: TestClient, archive_db: Path, top: str) -> None:
    r = client.post("/api/search", files={"photo": ("q.jpg", _upload(archive_db, QUERY))},
                    data={"top": top})  # fmt: skip
    assert r.status_code == 422
    assert r.json() == {"detail": f"top: expected a number from 1 to 50, found {top}"}


def test_a_decision_is_kept_and_the_candidate_no_longer_offered(
    client: TestClient, archive_db: Path
) -> None:
    other = "biden/biden-1.jpg"
    page = client.get("/search", params={"photo": QUERY, "top": "10"}).text
    assert f'data-photo="{other}"' in page
    body = {"a": QUERY, "b": other, "decision": "different", "note": "moustache"}
    r = client.post("/api/decisions", json=body)
    assert r.status_code == 201
    assert r.json()["decision"] == "different"
    listed = client.get("/api/decisions").json()
    assert [(d["a"], d["b"], d["decision"], d["note"], d["who"]) for d in listed] == [
        (other, QUERY, "different", "moustache", "web page")  # the archive sorts the pair
    ]
    page = client.get("/search", params={"photo": QUERY, "top": "10"}).text
    assert f'data-photo="{other}"' not in page
    assert 'data-photo="obama/obama-2.jpg"' in page
    assert "moustache" in page  # the decision is listed under the shortlist
    # A new app on the same file (a restart) still has it.
    again = TestClient(create_app(archive_db)).get("/api/decisions").json()
    assert [d["note"] for d in again] == ["moustache"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [({"a": QUERY, "b": "biden/biden-1.jpg", "decision": "maybe"}, 422,
      "decision: expected one of same, different, unsure, found 'maybe'"),
     ({"a": QUERY, "b": "../etc/passwd", "decision": "same"}, 404,
      "no photo '../etc/passwd' in the archive")],
)  # fmt: skip
def test_bad_decisions_are_refused(
    client: TestClient, body: dict[str, str], status: int, message: str
) -> None:
    r = client.post("/api/decisions", json=body)
    assert r.status_code == status
    assert r.json() == {"detail": message}
    assert client.get("/api/decisions").json() == []


@pytest.mark.parametrize(
    ("send", "message"),
    [({"content": b"{half", "headers": {"content-type": "application/json"}},
      "request body: not valid JSON"),
     ({"json": {"a": QUERY, "decision": "same"}}, "b: missing (a required field)"),
     ({"json": {"a": QUERY, "b": 7, "decision": "same"}}, "b: input should be a valid string")],
)  # fmt: skip
def test_malformed_decisions_get_one_line(
    client: TestClient, send: dict[str, Any], message: str
) -> None:
    r = client.post("/api/decisions", **send)
    assert r.status_code == 422
    assert r.json() == {"detail": message}


def test_search_form_with_an_archive_photo_moves_to_an_address_that_reloads(
    client: TestClient, archive_db: Path
) -> None:
    r = client.post("/search", files={"photo": ("q.jpg", _upload(archive_db, QUERY))},
                    data={"top": "3"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/search?photo=obama%2Fobama-1.jpg&top=3&page=1"


def test_search_with_a_photo_not_in_the_archive_shows_it_and_offers_no_marks(
    client: TestClient, shared_photos: Path, archive_db: Path
) -> None:
    r = client.post("/search", files={"photo": ("new.jpg", (shared_photos / "obama-4.jpg")
                                                .read_bytes())})  # fmt: skip
    assert r.status_code == 200
    assert "This photo is not in the archive" in r.text
    assert "data-decide" not in r.text
    assert 'class="candidate"' in r.text
    # The page holds the measured upload (never the file) at an address that pages.
    key = re.fullmatch(r"/search\?upload=([0-9a-f]{64})&top=10&page=1", r.url.raw_path.decode())
    assert key is not None, r.url
    face, photo = f"/uploads/{key[1]}/face.jpg", f"/uploads/{key[1]}/photo.jpg"
    assert f'src="{face}"' in r.text  # the query's face, beside each candidate's
    assert f'href="{photo}"' in r.text  # its whole photo, one click away
    from PIL import Image

    with Image.open(io.BytesIO(client.get(face).content)) as im:
        assert im.format == "JPEG"
        assert max(im.size) <= 160
    with Image.open(io.BytesIO(client.get(photo).content)) as im:
        assert im.format == "JPEG"
        assert max(im.size) > 160
    # A restarted page no longer holds it, and says what to do.
    again = TestClient(create_app(archive_db)).get(r.url.raw_path.decode())
    assert again.status_code == 404
    assert "search with it again" in again.text


def test_a_query_without_a_face_is_said_so(client: TestClient) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 90, 60)).save(buf, format="PNG")
    r = client.post("/api/search", files={"photo": ("wall.png", buf.getvalue())})
    assert r.status_code == 422
    assert r.json() == {"detail": "wall.png: no face found"}


def test_decision_form_goes_back_only_to_this_site(client: TestClient) -> None:
    form = {"a": QUERY, "b": "obama/obama-2.jpg", "decision": "unsure", "back": "//evil.example/"}
    r = client.post("/decisions", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/groups"


def test_groups_page_lists_groups_largest_first_with_the_weakest_marked(
    client: TestClient,
) -> None:
    html = client.get("/groups").text
    sizes = [int(n) for n in re.findall(r">Group \d+: (\d+) faces?<", html)]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) == 8  # every face of the archive in exactly one group
    assert html.count('class="weak"') == sum(1 for n in sizes if n > 1)
    if len(sizes) > 1:
        assert "Join two groups" in html
    # Each split names two different photos: the weakest member and the one most tied.
    splits = re.findall(r'name="a" value="([^"]+)">\s*<input type="hidden" name="b" '
                        r'value="([^"]+)">', html)  # fmt: skip
    assert len(splits) == sum(1 for n in sizes if n > 1)
    assert all(a != b for a, b in splits)


def test_archive_page_shows_counts_failures_and_when(client: TestClient) -> None:
    html = client.get("/archive").text
    assert '<th scope="row">photos</th><td>9</td>' in html
    assert '<th scope="row">known people</th><td>4</td>' in html
    assert "<td>notes.jpg</td><td>unreadable image" in html
    assert "last indexed 20" in html  # an ISO date


def test_photos_and_faces_are_served_by_archive_id(client: TestClient, archive_db: Path) -> None:
    r = client.get(f"/photos/{QUERY}")
    assert r.status_code == 200
    assert r.content == _upload(archive_db, QUERY)
    r = client.get(f"/faces/1/{QUERY}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert client.get(f"/faces/2/{QUERY}").status_code == 404
    assert client.get("/photos/notes.jpg").status_code == 200  # indexed, though it failed
    assert client.get("/faces/1/notes.jpg").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/photos/../pyproject.toml",
        "/photos/obama/../../archive.db",
        "/photos/%2e%2e/%2e%2e/etc/passwd",
        "/photos/..%2f..%2fetc%2fpasswd",
        "/photos/%252e%252e%252fetc%252fpasswd",
        "/photos//etc/passwd",
        "/photos/%2Fetc%2Fpasswd",
        "/photos/photos/obama/obama-1.jpg",
        "/faces/1/../../../etc/passwd",
        "/faces/1/%2Fetc%2Fpasswd",
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
     "/static/../../../../etc/passwd", "/faces/1/../../../../../etc/passwd",
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


def test_the_database_stays_whole(client: TestClient, archive_db: Path) -> None:
    for k in range(3):
        r = client.post("/api/decisions", json={"a": QUERY, "b": "obama/obama-2.jpg",
                                                "decision": "same", "note": str(k)})  # fmt: skip
        assert r.status_code == 201
    with sqlite3.connect(archive_db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
