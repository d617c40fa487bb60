"""Fragment or page, decided in one place: every answer that could go either way varies on HX-Request,
and an action's htmx answer is the part of the page its form's `answer` names."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from tests.factories import HX, REAL_SEED, csrf_token
from webapp.models import APPROVED, Article, db
from webapp.services import merging, moderation
from webapp.services.seed_import import import_paths

OTHER_SEED = """---
category: news
title: "Another story entirely"
publishedDateTime: 2023-10-20T09:00:00Z
webUrl: "https://other.example/story"
provider:
  name: Other
---
"""


@dataclass
class Articles:
    id: int
    other_id: int


@pytest.fixture
def articles(app, tmp_path):
    """The real seed's article, and another one beside it."""
    (tmp_path / "other.md").write_text(OTHER_SEED, encoding="utf-8")
    import_paths([str(REAL_SEED), str(tmp_path)], max_bytes=2**21)
    ids = dict(db.session.execute(select(Article.identity, Article.id)).all())
    return Articles(id=ids[REAL_SEED.stem], other_id=ids["other"])


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def decided(articles, user) -> dict:
    """Approve the article first (for the routes that need a decision to act on)."""
    return moderation.decide(articles.id, user, APPROVED, 1)


@dataclass
class Case:
    method: str
    path: str  # with {id}, {other} and {event} to fill in
    form: dict = field(default_factory=dict)
    before: Callable | None = None  # what to do first, as the logged-in user
    statuses: tuple[int, int] = (200, 200)  # for htmx, for a browser


PART = (200, 302)
CHANGE = (200, 303)

# Every route that answers htmx with a fragment, and a browser with a page or a redirect.
EITHER_WAY = {
    "queue": Case("GET", "/"),
    "filtered queue": Case("GET", "/?status=all&sort=heat"),
    "article": Case("GET", "/articles/{id}"),
    "row": Case("GET", "/articles/{id}/row", statuses=PART),
    "history": Case("GET", "/articles/{id}/history", statuses=PART),
    "related": Case("GET", "/articles/{id}/related", statuses=PART),
    "recent decisions": Case("GET", "/decisions/recent"),
    "stats": Case("GET", "/stats"),
    "audit log": Case("GET", "/audit"),
    "approve": Case("POST", "/articles/{id}/approve", {"version": 1}, statuses=CHANGE),
    "reject": Case("POST", "/articles/{id}/reject", {"version": 1, "reason": "no"}, statuses=CHANGE),
    "reopen": Case("POST", "/articles/{id}/reopen", {"version": 2}, decided, CHANGE),
    "heat": Case("POST", "/articles/{id}/heat", {"version": 1, "heat": "5"}, statuses=CHANGE),
    "merge": Case("POST", "/articles/{id}/merge", {"version": 1, "position": ["2", "3"]}, statuses=CHANGE),
    "unmerge": Case(
        "POST",
        "/articles/{id}/unmerge",
        {"version": 2, "canonical": "2"},
        lambda articles, user: merging.merge(articles.id, user, 1, [2, 3], 2),
        CHANGE,
    ),
    "mark as duplicate": Case("POST", "/articles/{id}/duplicate-of/{other}", {"version": 1}, statuses=CHANGE),
    "absorb": Case("POST", "/articles/{other}/absorb/{id}", {"version": 1}, statuses=CHANGE),
    "undo": Case("POST", "/events/{event}/undo", before=decided, statuses=CHANGE),
    "bulk": Case("POST", "/queue/bulk", {"verdict": "approve", "article": "{id}:1"}, statuses=CHANGE),
    "conflict": Case("POST", "/articles/{id}/approve", {"version": 9}, statuses=(409, 409)),
    "invalid heat": Case("POST", "/articles/{id}/heat", {"version": 1, "heat": "hot"}, statuses=(422, 422)),
}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "browser"])
@pytest.mark.parametrize("name", EITHER_WAY)
def test_every_answer_that_could_go_either_way_varies_on_hx_request(client, login, articles, name, htmx):
    case = EITHER_WAY[name]
    user = login("ana", "admin")
    event = case.before(articles, user) if case.before else None
    fill = {"id": articles.id, "other": articles.other_id, "event": event["id"] if event else None}
    url = case.path.format(**fill)
    headers = HX if htmx else {}
    if case.method == "GET":
        response = client.get(url, headers=headers)
    else:
        form = {
            key: value.format(**fill) if isinstance(value, str) else value for key, value in case.form.items()
        }
        response = client.post(url, data={"csrf_token": csrf_token(client, "/"), **form}, headers=headers)
    assert response.status_code == case.statuses[0 if htmx else 1]
    assert "HX-Request" in response.vary
    if response.status_code not in (302, 303):
        assert (soup(response).find("html") is None) == htmx


@pytest.mark.parametrize("part", ["row", "history", "related"])
def test_parts_of_the_article_send_a_browser_to_its_page(client, login, articles, part):
    login()
    response = client.get(f"/articles/{articles.id}/{part}")
    assert response.status_code == 302 and response.location == f"/articles/{articles.id}"
    fragment = client.get(f"/articles/{articles.id}/{part}", headers=HX)
    assert fragment.status_code == 200 and soup(fragment).find("html") is None


def test_a_missing_article_has_no_row(client, login):
    login()
    assert client.get("/articles/999/row", headers=HX).status_code == 404


@pytest.mark.parametrize(
    "answer, root, oob, events",
    [
        ("moderation", "div#moderation-{id}", {"history-{id}", "article-{id}"}, set()),
        ("panel", "section#panel", {"article-{id}"}, set()),
        ("row", "tr#article-{id}", set(), {"panel-stale-{id}"}),
        ("none", None, {"article-{id}"}, {"panel-stale-{id}"}),
    ],
)
def test_an_action_answers_htmx_with_the_part_its_form_names_and_the_rest_out_of_band(
    client, login, articles, answer, root, oob, events
):
    login()
    response = client.post(
        f"/articles/{articles.id}/approve",
        data={"csrf_token": csrf_token(client, "/"), "version": 1, "answer": answer},
        headers=HX,
    )
    assert response.status_code == 200
    answer_html = soup(response)
    parts = [tag for tag in answer_html.children if tag.name and not tag.has_attr("hx-swap-oob")]
    swapped = [tag for tag in parts if tag.name != "template"]
    if root is None:
        assert swapped == []
    else:
        assert len(swapped) == 1 and swapped[0] == answer_html.select_one(root.format(id=articles.id))
    out_of_band = {tag["id"] for tag in answer_html.find_all(attrs={"hx-swap-oob": "true"})}
    expected_oob = {part.format(id=articles.id) for part in oob} | {"notice", "recent", "queue-counts"}
    assert out_of_band == expected_oob
    expected = {event.format(id=articles.id) for event in events}
    assert set(json.loads(response.headers.get("HX-Trigger", "{}"))) == expected


def test_without_an_answer_field_an_action_answers_with_the_moderation_block(client, login, articles):
    login()
    response = client.post(
        f"/articles/{articles.id}/heat",
        data={"csrf_token": csrf_token(client, "/"), "version": 1, "heat": "7"},
        headers=HX,
    )
    assert soup(response).select_one(f"div#moderation-{articles.id}")


def test_a_form_names_the_part_that_sent_it(client, login, articles):
    login()
    panel = soup(client.get(f"/articles/{articles.id}", headers=HX))

    def answers(selector):
        return {field["value"] for field in panel.select(f"{selector} input[name=answer]")}

    assert answers(f"#moderation-{articles.id} form") == {"moderation"}
    assert answers(f"#related-{articles.id} form") == {"panel"}
    assert panel.select_one(".possible-duplicates") is None or answers(".possible-duplicates form") == {
        "panel"
    }
    assert not panel.select("input[name=from]")
    for form in panel.select("form[method=post]"):
        assert [field["name"] for field in form.select("input[type=hidden]")][:3] == [
            "csrf_token",
            "version",
            "answer",
        ]
