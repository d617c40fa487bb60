"""Tests of `make demo` (bench/demo.py): a small demo has its users, its queue with duplicates, and its stats.

The demo goes into a SQLite file of its own (it deletes and rebuilds the file it is given),
never into the shared test database.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select

from bench.demo import DEMO_USERS, QUEUE_DAYS, build, format_summary
from bench.history import PASSWORD as HISTORY_PASSWORD
from tests.factories import FreshRequestClient, csrf_token, make_app, soup
from webapp.models import PENDING, Article, AuditEvent, DuplicateSuggestion, User

SEEDS, DAYS = 50, 10


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    path.write_text("an old demo, to be replaced")
    started = datetime.now(UTC).replace(microsecond=0)
    built = build(path, seeds=SEEDS, days=DAYS, log=lambda message: None)
    return path, built | {"started": started}


@pytest.fixture
def demo_client(demo):
    path, built = demo
    app = make_app(f"sqlite:///{path}")
    app.test_client_class = FreshRequestClient
    with app.app_context():
        yield app.test_client(), built["passwords"]


def log_in(client, username, password):
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def scalar(path, statement):
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return connection.scalar(statement)
    finally:
        engine.dispose()


def test_the_three_users_log_in_with_their_printed_passwords(demo, demo_client):
    client, passwords = demo_client
    assert set(passwords) == {name for name, _ in DEMO_USERS}
    assert len(set(passwords.values())) == 3
    for name, role in DEMO_USERS:
        assert scalar(demo[0], select(User.role).where(User.username == name)) == role
        assert log_in(client, name, passwords[name]).status_code == 302
        assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    summary = format_summary(demo[1], demo[0], "5000")
    assert all(f"{name:16} {password}" in summary for name, password in passwords.items())


def test_the_history_staff_cannot_log_in_with_the_generators_password(demo_client):
    client, _ = demo_client
    response = log_in(client, "maria", HISTORY_PASSWORD)
    assert response.status_code != 302


def test_the_history_has_decisions_merges_and_heat_by_several_people(demo):
    path, built = demo
    decided = select(func.count(func.distinct(AuditEvent.actor_id))).where(
        AuditEvent.action.in_(("approve", "reject"))
    )
    assert scalar(path, decided) >= 5
    for action in ("approve", "reject", "merge", "heat"):
        assert scalar(path, select(func.count()).where(AuditEvent.action == action)) > 0, action
    oldest = scalar(path, select(func.min(AuditEvent.created_at)))
    assert datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC) < datetime.now(UTC) - timedelta(DAYS - 1)
    assert built["decisions"] > 0 and built["merges"] > 0 and built["heat_changes"] > 0


def test_the_generated_seeds_wait_in_the_queue_newest_first_with_duplicate_suggestions(demo, demo_client):
    path, built = demo
    imported = select(func.count()).where(Article.status == PENDING, Article.imported_at >= built["started"])
    assert scalar(path, imported) == SEEDS
    assert scalar(path, select(func.count(func.distinct(DuplicateSuggestion.article_id)))) > 0
    newest = scalar(path, select(func.max(Article.published_at)))
    assert datetime.fromisoformat(str(newest)).replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(QUEUE_DAYS)
    client, passwords = demo_client
    log_in(client, "demo-moderator", passwords["demo-moderator"])
    page = soup(client.get("/?status=pending&duplicates=1"))
    assert page.select('tr[id^="article-"]'), "no article with duplicate suggestions in the queue"


def test_the_stats_dashboard_has_every_figure(demo_client):
    client, passwords = demo_client
    log_in(client, "demo-lead", passwords["demo-lead"])
    board = client.get("/stats.json?period=30d").get_json()
    figures = board["figures"]
    assert figures["decided"] > 0 and figures["approved"] > 0 and figures["rejected"] > 0
    assert figures["merges"] > 0 and figures["pending_now"] > 0
    assert figures["median_seconds_to_decision"] is not None
    assert len(board["per_moderator"]) >= 5
    assert sum(day["approved"] for day in board["per_day"]) == figures["approved"]
    assert board["heat"] and board["time_to_decision"] and board["by_topic"] and board["per_outlet"]
