"""Search pages through the whole ranking (API: limit and offset; page: Previous and Next),
and shows the two faces side by side as crops, each whole photo one link away."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ffmatch.archive import photo_path
from ffmatch.web import create_app

QUERY = "obama/obama-1.jpg"  # the archive holds 8 faces: 7 candidates besides the query


@pytest.fixture
def client(archive_db: Path) -> TestClient:
    return TestClient(create_app(archive_db))


def _search(client: TestClient, db: Path, **form: str) -> Any:
    photo = photo_path(db, QUERY).read_bytes()
    return client.post("/api/search", files={"photo": ("q.jpg", photo)}, data=form)


def test_limit_and_offset_page_through_the_whole_ranking(
    client: TestClient, archive_db: Path
) -> None:
    whole = _search(client, archive_db, limit="50").json()
    assert (whole["total"], whole["next_offset"]) == (7, None)
    assert [c["rank"] for c in whole["candidates"]] == list(range(1, 8))
    pages, offset = [], 0
    while offset is not None:
        body = _search(client, archive_db, limit="3", offset=str(offset)).json()
        assert (body["total"], body["offset"], body["limit"]) == (7, offset, 3)
        pages.append(body["candidates"])
        offset = body["next_offset"]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [c for p in pages for c in p] == whole["candidates"]  # same order, nothing twice
    past = _search(client, archive_db, limit="3", offset="7").json()
    assert (past["candidates"], past["total"], past["next_offset"]) == ([], 7, None)
    # top, the former name of limit, still works.
    assert _search(client, archive_db, top="2").json()["candidates"] == whole["candidates"][:2]


@pytest.mark.parametrize(
    ("form", "message"),
    [({"limit": "0"}, "limit: expected a number from 1 to 50, found 0"),
     ({"limit": "51"}, "limit: expected a number from 1 to 50, found 51"),
     ({"limit": "ten"}, "limit: expected a whole number, found 'ten'"),
     ({"offset": "-1"}, "offset: expected 0 or more, found -1"),
     ({"offset": "2.5"}, "offset: expected a whole number, found '2.5'"),
     ({"limit": "3", "top": "4"},
      "limit 3 and top 4: top is the former name of limit; give one of them")],
)  # fmt: skip
def test_bad_limits_and_offsets_get_one_line(
    client: TestClient, archive_db: Path, form: dict[str, str], message: str
) -> None:
    r = _search(client, archive_db, **form)
    assert r.status_code == 422
    assert r.json() == {"detail": message}


def _ranks(html: str) -> list[str]:
    return re.findall(r'class="candidate" data-photo="([^"]+)"', html)


def test_previous_and_next_links_page_through_the_shortlist(
    client: TestClient, archive_db: Path
) -> None:
    whole = [c["photo"] for c in _search(client, archive_db, limit="50").json()["candidates"]]
    address = "/search?photo=obama%2Fobama-1.jpg&top=3&page="
    href = address.replace("&", "&amp;")  # as HTML writes it
    first = client.get(address + "1").text
    assert _ranks(first) == whole[:3]
    assert "Candidates 1 to 3 of 7, page 1 of 3" in first
    assert f'href="{href}2" rel="next"' in first
    assert 'rel="prev"' not in first
    second = client.get(address + "2").text
    assert _ranks(second) == whole[3:6]
    assert '<ol class="candidates" start="4">' in second
    assert f'href="{href}1" rel="prev"' in second
    assert f'href="{href}3" rel="next"' in second
    # Each decision made on page 2 comes back to page 2.
    assert f'name="back" value="{href}2"' in second
    last = client.get(address + "3").text
    assert _ranks(last) == whole[6:]
    assert 'rel="next"' not in last
    assert client.get(address + "4").text.count('class="candidate"') == 0  # past the end: empty
    # The links are labelled: two page navigations, each named.
    assert second.count('<nav class="pager" aria-label="Shortlist pages') == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [("page=0", "page: expected a page number from 1, found 0"),
     ("page=two", "page: expected a whole number, found &#39;two&#39;"),
     ("top=0", "top: expected a number from 1 to 50, found 0")],
)  # fmt: skip
def test_bad_pages_get_one_line_on_the_page(client: TestClient, query: str, message: str) -> None:
    r = client.get(f"/search?photo=obama%2Fobama-1.jpg&{query}")
    assert r.status_code == 422
    assert f'<p class="error" role="alert">{message}</p>' in r.text


def test_each_candidate_says_the_evidence_its_verdict_used(client: TestClient) -> None:
    """Markers that cannot be used (a turned head, implausible markers) leave appearance
    alone: the page says so beside that verdict, and "both" where both were weighed."""
    html = client.get("/search", params={"photo": QUERY, "top": "7"}).text
    items = html.split("</ol>")[0].split('<li class="candidate"')[1:]
    assert len(items) == 7
    said = []
    for item in items:
        evidence = re.search(r'<span class="evidence">\(evidence: (\w+)\)</span>', item)
        assert evidence is not None
        unused = "the markers were not used" in item
        assert evidence[1] == ("appearance" if unused else "both")
        said.append(evidence[1])
    assert set(said) == {"appearance", "both"}  # this archive has both kinds


def test_side_by_side_shows_both_faces_cropped_and_each_whole_photo_one_link_away(
    client: TestClient,
) -> None:
    html = client.get("/search", params={"photo": QUERY, "top": "3"}).text
    pairs = re.findall(r'<div class="pair faces">(.*?)</div>', html, flags=re.S)
    assert len(pairs) == 3
    for pair, cand in zip(pairs, _ranks(html), strict=True):
        images = re.findall(r'<img [^>]*src="([^"]+)"', pair)
        face = re.search(r'data-photo="' + re.escape(cand) + r'" data-face="(\d+)"', html)
        assert face is not None
        assert images == [f"/faces/1/{QUERY}", f"/faces/{face[1]}/{cand}"]  # crops only
        links = re.findall(r'<a href="([^"]+)" aria-label="Whole photo of [^"]+">whole photo', pair)
        assert links == [f"/photos/{QUERY}", f"/photos/{cand}"]
        for url in (*images, *links):
            assert client.get(url).status_code == 200


def test_an_uploaded_photo_pages_like_an_archive_photo(
    client: TestClient, shared_photos: Path
) -> None:
    """A photo the archive does not hold: its pages come from the measured query the page
    keeps, in the same order as the API's ``offset``."""
    photo = (shared_photos / "obama-4.jpg").read_bytes()
    api = client.post("/api/search", files={"photo": ("new.jpg", photo)},
                      data={"limit": "3", "offset": "3"}).json()  # fmt: skip
    assert api["query_in_archive"] is None
    first = client.post("/search", files={"photo": ("new.jpg", photo)}, data={"top": "3"})
    assert first.status_code == 200
    nxt = re.search(r'href="(/search\?upload=[0-9a-f]{64}&amp;top=3&amp;page=2)" rel="next"',
                    first.text)  # fmt: skip
    assert nxt is not None
    second = client.get(nxt[1].replace("&amp;", "&"))
    assert second.status_code == 200
    assert _ranks(second.text) == [c["photo"] for c in api["candidates"]]
    assert "Shortlist for new.jpg" in second.text  # the user's name for it, kept
