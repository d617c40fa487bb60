"""The peer benchmark's two sides list the same articles: Flask-Admin's list view (bench/peer_admin.py)
and Copydesk's queue fragment, on the first page and on a deep page found by `deep_page_start`."""

import html
import re

import pytest

from bench import queue_db
from bench.peer import PAGES, deep_page_start, figures, format_table
from bench.peer_admin import LIST_PATH, PAGE_SIZE
from bench.wrk import WrkResult
from tests.factories import csrf_token
from webapp.models import Article, db

pytest.importorskip("flask_admin", reason="Flask-Admin is the bench extra: pip install -e '.[dev,bench]'")

HX = {"HX-Request": "true"}


def admin_titles(admin_client, page: int) -> list[str]:
    answer = admin_client.get(f"{LIST_PATH}?page={page}")
    assert answer.status_code == 200
    cells = re.findall(r'<td class="col-title">\s*(.*?)\s*</td>', answer.get_data(as_text=True), re.S)
    return [html.unescape(cell) for cell in cells]


def queue_ids(client, path: str) -> list[int]:
    answer = client.get(path, headers=HX)
    assert answer.status_code == 200
    return [int(found) for found in re.findall(r'<tr id="article-(\d+)"', answer.get_data(as_text=True))]


@pytest.fixture
def admin_client(app, migrated, monkeypatch):
    from bench.peer_admin import create_app

    assert queue_db.prepare(migrated, 3 * PAGE_SIZE, PAGE_SIZE, 1, "secret", log=lambda _message: None)
    monkeypatch.setenv("DATABASE_URL", migrated)
    admin = create_app()
    yield admin.test_client()
    with admin.app_context():
        db.session.remove()
        db.engine.dispose()


def test_flask_admin_and_the_queue_list_the_same_pending_articles_on_both_pages(
    app, client, migrated, admin_client
):
    from webapp.models import db

    form = {"username": queue_db.USERNAME, "password": queue_db.PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=form).status_code == 302
    titles = dict(db.session.execute(db.select(Article.id, Article.title)).all())

    first = queue_ids(client, "/?status=pending")
    assert len(first) == PAGE_SIZE
    assert admin_titles(admin_client, 0) == [titles[article_id] for article_id in first]

    cursor, first_id = deep_page_start(migrated, 3)
    deep = queue_ids(client, "/?status=pending&after=" + cursor.replace("+", "%2B"))
    assert len(deep) == PAGE_SIZE and deep[0] == first_id
    assert not set(deep) & set(first)
    assert admin_titles(admin_client, 2) == [titles[article_id] for article_id in deep]

    with pytest.raises(Exception, match="page 4 needs 200 pending articles"):
        deep_page_start(migrated, 4)


def test_the_flask_admin_view_is_read_only(admin_client):
    assert admin_client.get(f"{LIST_PATH}new/").status_code in (302, 403, 404)
    assert admin_client.post(f"{LIST_PATH}delete/", data={"id": "1"}).status_code in (302, 403, 404, 405)


def wrk_result(name, per_second):
    return WrkResult(name, int(per_second * 10), per_second, 5.0, 10.0)


def test_the_ratio_must_hold_in_every_round_for_a_pass():
    rounds = [
        (
            [wrk_result("ours", 900), wrk_result("ours", 900)],
            [wrk_result("theirs", 100), wrk_result("theirs", 50)],
        ),
        (
            [wrk_result("ours", 700), wrk_result("ours", 900)],
            [wrk_result("theirs", 100), wrk_result("theirs", 100)],
        ),
    ]
    first, deep = figures(rounds, 1000)
    assert first["ratio"]["runs"] == [9.0, 7.0] and first["pass"] is False  # one round under 8
    assert deep["ratio"]["runs"] == [18.0, 9.0] and deep["pass"] is True
    report = {
        "articles": 100_000,
        "deep_page": 1000,
        "gunicorn": "-w 2",
        "wrk": "-t2 -c8 -d10s --latency",
        "rounds": 2,
        "figures": [first, deep],
        "seconds": 1.0,
    }
    table = format_table(report)
    assert "page 1 7.0 FAIL" in table and "page 1,000 9.0 PASS" in table
    assert len(PAGES) == 2
