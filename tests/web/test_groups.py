"""Groups: a Join or a Split sent by the page changes the next grouping (a real server)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from ffmatch.web import create_app


def _where(url: str) -> tuple[dict[str, int], dict[str, Any]]:
    """Each photo's group number, and the whole answer of ``GET /api/groups``."""
    body = httpx.get(f"{url}/api/groups", timeout=60).json()
    return {f["photo"]: g["number"] for g in body["groups"] for f in g["faces"]}, body


def _post_form(url: str, form: dict[str, str]) -> str:
    """Send one of the Groups page's forms as the browser does; the page it lands on."""
    r = httpx.post(f"{url}/decisions", data=form, follow_redirects=True, timeout=60)
    assert r.status_code == 200, r.text
    assert str(r.url) == f"{url}/groups"
    return r.text


def _sizes(html: str) -> list[int]:
    return [int(n) for n in re.findall(r">Group \d+: (\d+) faces?<", html)]


def test_join_puts_two_groups_in_one(unnamed_db: Path, serve: Any) -> None:
    url = serve(create_app(unnamed_db)).url
    before, body = _where(url)
    assert body["conflicts"] == []
    assert before["obama/obama-1.jpg"] == before["obama/obama-2.jpg"] == before["obama/obama-3.jpg"]
    assert before["biden/biden-1.jpg"] == before["biden/biden-2.jpg"]
    assert before["obama/obama-1.jpg"] != before["biden/biden-1.jpg"]
    html = _post_form(url, {"a": "obama/obama-1.jpg", "b": "biden/biden-1.jpg",
                            "decision": "same", "back": "/groups"})  # fmt: skip
    after, body = _where(url)
    # Both groups whole, in one: not just the two photos the Join named.
    joined = {p for p, n in after.items() if n == after["obama/obama-1.jpg"]}
    assert joined == {"obama/obama-1.jpg", "obama/obama-2.jpg", "obama/obama-3.jpg",
                      "biden/biden-1.jpg", "biden/biden-2.jpg"}  # fmt: skip
    assert body["conflicts"] == []
    for g in body["groups"]:  # the weakest link: a member, its closest other member, their P
        if len(g["faces"]) == 1:
            assert g["weakest"] is None
            continue
        weak = g["weakest"]
        assert weak["face"] in g["faces"]
        assert weak["closest"] in g["faces"]
        assert weak["face"] != weak["closest"]
        assert 0.0 <= weak["probability"] <= 1.0
    assert _sizes(html) == [5, 2, 1]
    assert f"reaches {body['threshold']:.2f} (evidence: both;" in html
    assert "could not be followed" not in html


def test_split_takes_a_photo_out_of_its_group(unnamed_db: Path, serve: Any) -> None:
    url = serve(create_app(unnamed_db)).url
    before, _ = _where(url)
    assert before["obama/obama-1.jpg"] == before["obama/obama-2.jpg"]
    html = _post_form(url, {"a": "obama/obama-1.jpg", "b": "obama/obama-2.jpg",
                            "decision": "different", "back": "/groups"})  # fmt: skip
    after, body = _where(url)
    assert after["obama/obama-1.jpg"] != after["obama/obama-2.jpg"]
    assert body["conflicts"] == []
    assert sorted(_sizes(html), reverse=True) == [2, 2, 2, 1, 1]
    # The other groups are as they were.
    assert after["biden/biden-1.jpg"] == after["biden/biden-2.jpg"]
    # A later "same" about the pair counts instead: they are together again.
    _post_form(url, {"a": "obama/obama-1.jpg", "b": "obama/obama-2.jpg", "decision": "same"})
    again, _ = _where(url)
    assert again["obama/obama-1.jpg"] == again["obama/obama-2.jpg"] == again["obama/obama-3.jpg"]


def test_the_split_button_of_the_page_splits_the_weakest_link(unnamed_db: Path, serve: Any) -> None:
    """The form the page itself renders for the largest group, sent as it is."""
    url = serve(create_app(unnamed_db)).url
    html = httpx.get(f"{url}/groups", timeout=60).text
    a, b = re.search(r'name="a" value="([^"]+)">\s*<input type="hidden" name="b" '
                     r'value="([^"]+)">', html).groups()  # type: ignore[union-attr]  # fmt: skip
    before, _ = _where(url)
    assert before[a] == before[b]
    _post_form(url, {"a": a, "b": b, "decision": "different", "back": "/groups"})
    after, _ = _where(url)
    assert after[a] != after[b]


def test_a_join_of_two_known_people_is_said_and_changes_nothing(
    archive_db: Path, serve: Any
) -> None:
    url = serve(create_app(archive_db)).url
    before, _ = _where(url)
    html = _post_form(url, {"a": "obama/obama-1.jpg", "b": "biden/biden-1.jpg",
                            "decision": "same", "back": "/groups"})  # fmt: skip
    after, body = _where(url)
    assert after == before  # two names the folders gave stay two people, each group whole
    assert body["conflicts"] == [
        "constraints contradict each other for faces biden/biden-1.jpg#1, biden/biden-2.jpg#1, "
        "obama/obama-1.jpg#1, obama/obama-2.jpg#1, obama/obama-3.jpg#1"
    ]
    assert "Decisions that could not be followed" in html
    assert body["conflicts"][0] in html


def test_a_split_of_one_known_name_keeps_the_two_apart_and_says_so(
    archive_db: Path, serve: Any
) -> None:
    url = serve(create_app(archive_db)).url
    html = _post_form(url, {"a": "obama/obama-1.jpg", "b": "obama/obama-2.jpg",
                            "decision": "different", "back": "/groups"})  # fmt: skip
    after, body = _where(url)
    assert after["obama/obama-1.jpg"] != after["obama/obama-2.jpg"]
    assert len(body["conflicts"]) == 1
    assert "obama/obama-1.jpg#1" in body["conflicts"][0]
    assert "obama/obama-2.jpg#1" in body["conflicts"][0]
    assert "Decisions that could not be followed" in html
