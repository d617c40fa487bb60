"""Tests of the history generator bench/history.py: counts, determinism and consistency.

Each history goes into a SQLite file of its own (write_history empties and migrates the
database it is given), never into the shared test database.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from werkzeug.security import check_password_hash

from bench.history import LEAD, PASSWORD, STAFF, describe, write_history
from webapp.formats.seeds import parse
from webapp.models import (
    APPROVED,
    PENDING,
    REJECTED,
    Article,
    AuditEvent,
    RelatedLink,
    Topic,
    User,
    article_topics,
)

ARTICLES, EVENTS, DAYS = 300, 1500, 10
END = datetime(2025, 3, 14, 16, 30, tzinfo=UTC)
UNDO_SECONDS = 10


def make(tmp_path, name="history.db", seed=1, **sizes):
    url = f"sqlite:///{tmp_path / name}"
    options = {"articles": ARTICLES, "events": EVENTS, "days": DAYS} | sizes
    return url, write_history(url, seed=seed, end=END, **options)


def read(url, *tables):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                list(connection.execute(select(table).order_by(*table.primary_key.columns)))
                for table in tables
            ]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    url, report = make(tmp_path_factory.mktemp("history"))
    articles, events, users, links = read(
        url, Article.__table__, AuditEvent.__table__, User.__table__, RelatedLink.__table__
    )
    return {
        "url": url,
        "report": report,
        "articles": articles,
        "events": events,
        "users": users,
        "links": links,
    }


def test_counts(history):
    report = history["report"]
    assert report["counts"]["articles"] == len(history["articles"]) == ARTICLES
    assert report["counts"]["audit_events"] == len(history["events"]) == EVENTS
    assert report["counts"]["users"] == len(history["users"]) == len(STAFF) == 15
    assert report["counts"]["topics"] == 40
    assert sum(report["actions"].values()) == EVENTS
    roles = Counter(user.role for user in history["users"])
    assert roles == {"moderator": 12, "lead": 2, "admin": 1}
    assert sum(not user.active for user in history["users"]) == 1
    statuses = Counter(article.status for article in history["articles"])
    assert set(statuses) == {PENDING, APPROVED, REJECTED}
    assert 0.55 < statuses[APPROVED] / (statuses[APPROVED] + statuses[REJECTED]) < 0.85
    assert {"approve", "reject", "heat", "reopen", "merge", "undo"} <= set(report["actions"])
    found = describe(history["url"])
    assert found["articles"] == ARTICLES and found["audit_events"] == EVENTS and found["lead"]


def test_same_seed_same_rows(tmp_path, history):
    url, _ = make(tmp_path, "again.db")
    tables = (
        Article.__table__,
        AuditEvent.__table__,
        User.__table__,
        Topic.__table__,
        article_topics,
        RelatedLink.__table__,
    )
    assert read(url, *tables) == read(history["url"], *tables)
    other, _ = make(tmp_path, "other.db", seed=2)
    assert read(other, AuditEvent.__table__) != read(history["url"], AuditEvent.__table__)


def test_times_stay_in_the_period(history):
    start = END - timedelta(days=DAYS)
    for article in history["articles"]:
        assert start <= article.imported_at < END
        assert article.published_at <= article.imported_at
        assert article.updated_at >= article.imported_at
    times_of = defaultdict(list)
    for event in history["events"]:
        times_of[event.article_id].append(event.created_at)
    assert all(times == sorted(set(times)) for times in times_of.values()), (
        "an article's events at one time, or out of id order"
    )
    ids_by_time = [event.id for event in sorted(history["events"], key=lambda e: (e.created_at, e.id))]
    assert ids_by_time == sorted(ids_by_time)
    assert all(start <= event.created_at <= END for event in history["events"])


def test_articles_agree_with_their_events(history):
    events_of = defaultdict(list)
    for event in history["events"]:
        events_of[event.article_id].append(event)
    by_id = {event.id: event for event in history["events"]}
    for article in history["articles"]:
        events = events_of[article.id]
        assert article.version == 1 + len(events)
        if article.status == PENDING:
            assert (
                article.decided_at is None and article.decided_by_id is None and article.reject_reason is None
            )
        else:
            assert article.decided_at >= article.imported_at
            verdicts = [event for event in events if event.action in ("approve", "reject")]
            latest = max(verdicts, key=lambda event: (event.created_at, event.id))
            assert latest.actor_id == article.decided_by_id
            assert latest.after["status"] == article.status
            assert latest.created_at == article.decided_at
            assert datetime.fromisoformat(latest.after["decided_at"]) == article.decided_at
        if article.status != REJECTED:
            assert article.reject_reason is None
        version, state = (
            1,
            {"status": PENDING, "heat": -1, "decided_by_id": None, "decided_at": None, "reject_reason": None},
        )
        for event in events:  # each event starts from where the one before it left the article
            assert {name: event.before[name] for name in state} == state
            assert (event.before["version"], event.after["version"]) == (version, version + 1)
            state = {name: event.after[name] for name in state}
            version += 1
            assert event.created_at >= article.imported_at
            if event.action == "undo":
                undone = by_id[event.after["undoes"]]
                assert undone.article_id == article.id and undone.actor_id == event.actor_id
                assert timedelta(0) < event.created_at - undone.created_at <= timedelta(seconds=UNDO_SECONDS)
        assert state["heat"] == article.heat and state["status"] == article.status
        assert (
            state["decided_by_id"] == article.decided_by_id
            and state["reject_reason"] == article.reject_reason
        )


def test_merge_maps_match_the_related_links(history):
    links_of = defaultdict(list)
    for link in history["links"]:
        links_of[link.article_id].append(link)
    maps = {}
    for event in sorted(history["events"], key=lambda e: (e.created_at, e.id)):
        if "merges" in event.after:
            assert event.before["merges"] == maps.get(event.article_id, event.before["merges"])
            maps[event.article_id] = event.after["merges"]
    assert maps, "no merges at all"
    for article_id, merges in maps.items():
        links = links_of[article_id]
        position_of = {link.id: link.position for link in links}
        assert merges == {str(link.position): position_of.get(link.merged_into_id) for link in links}


def test_seed_text_is_a_valid_seed_of_the_row(history):
    links_of = defaultdict(list)
    for link in history["links"]:
        links_of[link.article_id].append(link)
    for article in history["articles"]:
        seed = parse(article.source_text)
        assert (seed.title, seed.category, seed.web_url, seed.quality) == (
            article.title,
            article.category,
            article.web_url,
            article.quality,
        )
        assert seed.published_at == article.published_at
        assert (seed.provider.name, seed.provider.domain) == (article.provider_name, article.provider_domain)
        assert article.key_order == seed.key_order
        assert [(entry.title, entry.web_url, entry.key_order) for entry in seed.related or ()] == [
            (link.title, link.web_url, link.key_order) for link in links_of[article.id]
        ]


def test_users_log_in_with_the_password(history):
    lead = next(user for user in history["users"] if user.username == LEAD)
    assert lead.role == "lead" and check_password_hash(lead.password_hash, PASSWORD)
