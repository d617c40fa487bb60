"""Racing moderators on the services: threads change the same articles at the same versions at once.

The scenario and its checks live in bench/races.py (`python -m bench.races` runs it bigger and
prints the figures); here it runs small enough for the suite, on SQLite and PostgreSQL alike.
"""

import os
import threading
from contextlib import suppress

import pytest
from sqlalchemy import event, select

from bench.races import check, prepare, run, states
from tests.factories import make_app
from webapp.models import APPROVED, AuditEvent, User, db
from webapp.services.moderation import bulk_decide

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
THREADS = 20


@pytest.fixture
def race_app(app, migrated):
    """A second app on the test database, with a pooled connection for every thread."""
    racing = make_app(migrated, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 2, "max_overflow": 0})
    yield racing
    with racing.app_context():
        db.session.remove()
        db.engine.dispose()


def test_twenty_threads_on_the_same_versions_make_exactly_one_change_per_race(app, race_app, tmp_path):
    article_ids, user_ids = prepare(tmp_path, articles=3, users=THREADS)

    figures = run(race_app, article_ids, user_ids, rounds=25, clients=THREADS, shuffle_bulk=False)

    print("\n" + figures.summary())
    assert figures.problems == []
    assert figures.races == 75 and figures.attempts == 500
    assert figures.events == 75 and figures.outcomes()["won"] == 75
    fired = {result.attempt.kind for round_ in figures.rounds for result in round_.results}
    assert fired == {"approve", "reject", "heat", "reopen", "merge", "undo", "bulk"}


def test_the_race_checks_catch_a_doubled_change_and_a_broken_chain(app, race_app, tmp_path):
    article_ids, user_ids = prepare(tmp_path, articles=1, users=2)
    initial = states(article_ids)
    figures = run(race_app, article_ids, user_ids, rounds=2, clients=2, shuffle_bulk=False)
    assert figures.problems == []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id.is_not(None)).order_by(AuditEvent.id)
    ).all()
    last = events[-1]
    doubled = AuditEvent(id=last.id + 1, article_id=last.article_id, before=last.before, after=last.after)

    problems = check(figures.rounds, [*events, doubled], initial, states(article_ids), exact=True)

    assert f"article {last.article_id}: two events from version 2: #{last.id}, #{doubled.id}" in problems
    assert any(f"event #{doubled.id} starts from" in problem for problem in problems)


def test_bulk_decisions_ticked_in_opposite_orders_both_finish(app, race_app, tmp_path):
    first, second = prepare(tmp_path, articles=2, users=2)[0]
    user_ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    # Each bulk pauses after its first UPDATE until the other has made its own (or 3 s have passed,
    # as when the database lets only one writer in at a time): the interleaving that deadlocks.
    both_started = threading.Barrier(2, timeout=3)
    paused = threading.local()
    answers = {}

    def pause_after_first_update(connection, cursor, statement, *args):
        if statement.startswith("UPDATE articles") and not getattr(paused, "done", False):
            paused.done = True
            with suppress(threading.BrokenBarrierError):
                both_started.wait()

    def decide(user_id, items):
        with race_app.app_context():
            try:
                answers[user_id] = bulk_decide(items, db.session.get(User, user_id), APPROVED)
            except Exception as error:
                answers[user_id] = error
            finally:
                db.session.remove()

    with race_app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", pause_after_first_update)
    try:
        threads = [
            threading.Thread(target=decide, args=(user_ids[0], [(first, 1), (second, 1)])),
            threading.Thread(target=decide, args=(user_ids[1], [(second, 1), (first, 1)])),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", pause_after_first_update)

    assert [type(answer).__name__ for answer in answers.values()] == ["Outcome", "Outcome"], answers
    won = sorted(e["article_id"] for answer in answers.values() for e in answer.events)
    assert won == [first, second]
    assert (
        db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.article_id.is_not(None))) == 2
    )
