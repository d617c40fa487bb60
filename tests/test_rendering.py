"""An action's htmx answer is the part of the page its form's `answer` names."""

import json
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from webapp.models import Article, db
from webapp.services.seed_import import import_paths

from .conftest import REAL_SEED, csrf_token

HX = {"HX-Request": "true"}
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


@pytest.mark.parametrize(
    "answer, root, events",
    [
        ("moderation", "div#moderation-{id}", {"rows-stale", "history-stale-{id}", "related-stale-{id}"}),
        ("panel", "section#panel", {"rows-stale"}),
        ("row", "tr#article-{id}", {"panel-stale-{id}"}),
        ("none", None, {"rows-stale", "panel-stale-{id}"}),
    ],
)
def test_an_action_answers_htmx_with_the_part_its_form_names(client, login, articles, answer, root, events):
    login()
    response = client.post(
        f"/articles/{articles.id}/approve",
        data={"csrf_token": csrf_token(client, "/"), "version": 1, "answer": answer},
        headers=HX,
    )
    assert response.status_code == 200
    parts = [tag for tag in soup(response).children if tag.name]
    if root is None:
        assert parts == []
    else:
        assert len(parts) == 1 and parts[0] == soup(response).select_one(root.format(id=articles.id))
    expected = {event.format(id=articles.id) for event in events} | {"decisions-changed", "notice-changed"}
    assert set(json.loads(response.headers["HX-Trigger"])) == expected


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
