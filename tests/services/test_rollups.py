"""The rollups against the full aggregation: random histories of imports, re-imports, decisions
(one and bulk), undos (one and of a batch), reopenings, heat changes and merges across midnight UTC,
then every figure both ways, and the rollups kept change by change against the rollups rebuilt."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import empty_tables, write_seed
from webapp.formats import rollups as arithmetic
from webapp.models import APPROVED, PENDING, REJECTED, Article, AuditEvent, DecisionTime, StatsRollup, db
from webapp.services import merging, moderation, rollups, stats
from webapp.services.accounts import create_user
from webapp.services.actions import UNDOABLE
from webapp.services.seed_import import import_paths
from webapp.services.undo import undo, undo_batch

START = datetime(2026, 3, 8, 21, 0, tzinfo=UTC)
STALE = timedelta(hours=48)
PROVIDERS = [("Alpha News", "alpha.example"), ("Beta", "beta.example"), ("alpha times", "times.example")]
TOPICS = ["AI", "Vision", "Health"]
FILTERS = [
    {"period": "today"},
    {"period": "7d"},
    {"period": "30d"},
    {"period": "custom", "from": "2026-03-08", "to": "2026-03-09"},
    {"period": "30d", "moderator": "ana"},
    {"period": "30d", "moderator": "nobody"},
    {"period": "30d", "topic": "AI"},
    {"period": "7d", "topic": "Nope"},
    {"period": "30d", "provider": "alpha"},
    {"period": "30d", "provider": "beta.ex"},
    {"period": "30d", "moderator": "ben", "topic": "Vision", "provider": "a"},
]

operations = st.lists(
    st.tuples(
        st.sampled_from(["import", "decide", "decide", "bulk", "reopen", "undo", "heat", "merge"]),
        st.integers(0, 7),  # which article, or which seed name to (re)import
        st.integers(0, 2),  # which moderator, provider or verdict
        st.frozensets(st.sampled_from(TOPICS), max_size=2),
        st.integers(1, 9 * 3600),  # seconds since the last operation
    ),
    min_size=1,
    max_size=25,
)


class Clock:
    def __init__(self):
        self.now = START

    def advance(self, seconds: int, fraction: int) -> datetime:
        # Imports fall on .1 s and changes on .35 s: times to decision are never whole seconds, so the
        # SQL and Python arithmetic agree on every bucket bound and every rounding.
        self.now = (self.now + timedelta(seconds=seconds)).replace(microsecond=fraction)
        return self.now


def play(history, folder, users, clock) -> None:
    for action, which, choice, topics, gap in history:
        if action == "import":
            clock.advance(gap, 100_000)
            name, domain = PROVIDERS[choice]
            write_seed(folder, f"s{which}", topics=sorted(topics), provider=name, domain=domain, related=3)
            import_paths([str(folder / f"s{which}.md")], max_bytes=2**21)
            continue
        clock.advance(gap, 350_000)
        ids = db.session.scalars(select(Article.id).order_by(Article.id)).all()
        if not ids:
            continue
        article = db.session.get(Article, ids[which % len(ids)])
        db.session.refresh(article)
        user = users[choice]
        try:
            if action == "decide" and article.status not in (APPROVED, REJECTED):
                moderation.decide(article.id, user, (APPROVED, REJECTED, APPROVED)[choice], article.version)
            elif action == "bulk":
                pending = db.session.execute(
                    select(Article.id, Article.version).where(Article.status == PENDING).limit(1 + choice)
                ).all()
                moderation.bulk_decide(
                    [tuple(row) for row in pending], user, (REJECTED, APPROVED)[choice % 2]
                )
            elif action == "reopen" and article.status in (APPROVED, REJECTED):
                moderation.reopen(article.id, users[2], article.version)
            elif action == "heat":
                moderation.set_heat(article.id, user, str(choice * 35), article.version, 100)
            elif action == "merge":
                merging.merge(article.id, user, article.version, [0, 1 + choice % 2])
            elif action == "undo":
                event = db.session.scalar(
                    select(AuditEvent)
                    .where(AuditEvent.action.in_(UNDOABLE), AuditEvent.actor_id == user.id)
                    .order_by(AuditEvent.id.desc())
                    .limit(1)
                )
                if event is not None:
                    reverse = undo_batch if event.after.get("batch") else undo
                    reverse(event.id, user, window_seconds=10**9, now=clock.now)
        except (moderation.changes.Conflict, moderation.changes.InvalidInput, LookupError):
            pass  # an operation this history makes impossible (merged twice, undone meanwhile...)
        db.session.rollback()


def rollup_rows() -> tuple[set, set]:
    kept = db.session.execute(select(StatsRollup.__table__).where(StatsRollup.count != 0)).all()
    times = db.session.execute(select(DecisionTime.__table__)).all()
    return {tuple(row) for row in kept}, {tuple(row) for row in times}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=operations)
def test_every_figure_from_the_rollups_equals_the_full_aggregation(app, tmp_path_factory, history):
    db.session.remove()  # the last example's reads still hold locks TRUNCATE waits for, on PostgreSQL
    empty_tables()
    users = [create_user("ana", "x" * 12), create_user("ben", "x" * 12)]
    users.append(create_user("lena", "x" * 12, "lead"))
    clock = Clock()
    folder = tmp_path_factory.mktemp("seeds")
    with (
        mock.patch("webapp.services.changes.utcnow", lambda: clock.now),
        mock.patch("webapp.services.seed_import.utcnow", lambda: clock.now),
    ):
        play(history, folder, users, clock)
    now = clock.now + timedelta(hours=1)
    for args in FILTERS:
        filters, errors = stats.parse_filters(args)
        assert errors == {}
        assert rollups.dashboard(filters, now, STALE) == stats.dashboard(filters, now, STALE), args
    kept = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == kept


def test_the_dashboard_is_the_full_aggregation_until_the_rollups_are_built(app, make_user):
    ana = make_user("ana")
    article = Article(
        identity="a",
        source_name="a.md",
        content_hash="a",
        source_text="---\n---\n",
        category="news",
        title="A",
        published_at=START,
        web_url="https://e.example/a",
        provider_name="P",
        key_order=[],
        body="",
        status=APPROVED,
        imported_at=START,
        updated_at=START,
        decided_at=START + timedelta(minutes=5),
        decided_by_id=ana.id,
    )
    db.session.add(article)
    db.session.delete(db.session.get(rollups.RollupBuild, 1))
    db.session.commit()
    filters = stats.StatsFilters("7d")
    now = START + timedelta(hours=1)
    assert rollups.dashboard(filters, now, STALE).figures["decided"] == 1
    assert rollups.rebuild() == {"rollups": 8, "decision_times": 1}
    assert rollups.dashboard(filters, now, STALE) == stats.dashboard(filters, now, STALE)


def test_the_cli_rebuilds_the_rollups(runner):
    result = runner.invoke(args=["stats", "rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "rebuilt the stats rollups: 0 rows, 0 decision times" in result.output
    assert rollups.is_built()


@pytest.mark.parametrize("seconds", [0, 0.5, 599.999, 600, 3599, 3600, 86400, 604800, 10**8])
def test_each_fine_time_bucket_lies_inside_one_bar_of_the_chart(seconds):
    bucket = arithmetic.time_bucket(seconds)
    bar = next(i for i, (bound, _) in enumerate(arithmetic.TIME_BUCKETS) if bound is None or seconds < bound)
    assert arithmetic.time_chart([(bucket, 1)])[bar]["count"] == 1


def test_a_percentile_is_located_by_bucket_and_offset():
    assert arithmetic.locate([(3, 2), (1, 1), (7, 4)], 1) == (1, 0)
    assert arithmetic.locate([(3, 2), (1, 1), (7, 4)], 3) == (3, 1)
    assert arithmetic.locate([(3, 2), (1, 1), (7, 4)], 7) == (7, 3)
    assert arithmetic.locate([(3, 2)], 3) is None
