"""The queue's counts: counters the database keeps by itself, a moderator's day, filtered views, and
the filtered views' counts kept per process: adjusted after a decision, never counted again by one."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, event, func, select, text

from tests.factories import HX, post, write_seed
from webapp.models import APPROVED, PENDING, REJECTED, Article, AuditEvent, RollupBuild, db, utcnow
from webapp.services import counts, moderation, rollups
from webapp.services.listing import QueueFilters
from webapp.services.seed_import import import_paths
from webapp.services.undo import undo

STALE = timedelta(hours=48)


def real_counts() -> dict[str, int]:
    return dict(db.session.execute(select(Article.status, func.count()).group_by(Article.status)).all())


def kept_counts() -> dict[str, int]:
    """The counters, without statuses no article has (a counter that went back to 0)."""
    return {status: count for status, count in counts.status_counts().items() if count}


def import_stories(tmp_path, n: int, name: str = "story", **fields) -> list[int]:
    for i in range(n):
        write_seed(tmp_path, f"{name}{i}", title=f"Story {i}", **fields)
    import_paths([str(tmp_path)], max_bytes=2**21)
    return db.session.scalars(select(Article.id).order_by(Article.id)).all()


def test_the_counters_follow_every_change_whatever_makes_it(tmp_path, make_user):
    maria = make_user("maria")
    ids = import_stories(tmp_path, 5)
    assert kept_counts() == real_counts() == {PENDING: 5}
    event = moderation.decide(ids[0], maria, APPROVED, 1)
    moderation.bulk_decide([(ids[1], 1), (ids[2], 1)], maria, REJECTED, "off-topic")
    assert kept_counts() == real_counts() == {PENDING: 2, APPROVED: 1, REJECTED: 2}
    undo(event["id"], maria)
    moderation.reopen(ids[1], maria, 2)
    moderation.set_heat(ids[3], maria, "5", 1, 200)  # no status change: no count changes
    assert kept_counts() == real_counts() == {PENDING: 4, REJECTED: 1}
    db.session.execute(delete(Article).where(Article.id == ids[2]))
    db.session.commit()
    assert kept_counts() == real_counts() == {PENDING: 4}


def test_a_failed_change_leaves_the_counters_as_they_were(tmp_path, make_user):
    maria = make_user("maria")
    [article_id] = import_stories(tmp_path, 1)
    outcome = moderation.bulk_decide([(article_id, 7)], maria, APPROVED)  # a version nobody saw
    assert outcome.skipped == [article_id] and kept_counts() == {PENDING: 1}


def test_queue_counts_after_a_decision_and_its_undo(tmp_path, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    ids = import_stories(tmp_path, 4)
    plain = QueueFilters()
    assert counts.queue_counts(plain, maria.id, STALE) == counts.QueueCounts(4, None, 0)
    first = moderation.decide(ids[0], maria, APPROVED, 1)
    moderation.decide(ids[1], maria, REJECTED, 1)
    moderation.decide(ids[2], lee, APPROVED, 1)
    assert counts.queue_counts(plain, maria.id, STALE) == counts.QueueCounts(1, None, 2)
    assert counts.queue_counts(plain, lee.id, STALE).yours_today == 1
    undo(first["id"], maria)
    assert counts.queue_counts(plain, maria.id, STALE) == counts.QueueCounts(2, None, 1)


def test_decisions_before_midnight_utc_are_not_today(tmp_path, make_user):
    maria = make_user("maria")
    [article_id] = import_stories(tmp_path, 1)
    moderation.decide(article_id, maria, APPROVED, 1)
    decided_at = db.session.get(Article, article_id).decided_at
    assert counts.decided_today(maria.id, decided_at) == 1
    assert counts.decided_today(maria.id, decided_at + timedelta(days=1)) == 0


def test_a_moderators_count_today_reads_their_own_decisions_by_index(app):
    """Not all of the day's decisions filtered by moderator: on a big desk, thousands a request."""
    sql = str(counts._decided_query().compile(db.engine))
    since = datetime(2026, 12, 3)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = (
                connection.exec_driver_sql(f"EXPLAIN {sql}", {"since": since, "user_id": 1}).scalars().all()
            )
        else:
            plan = [
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (str(since), 1))
            ]
    assert any("ix_articles_decider_day" in line for line in plan), plan


def test_filtered_views_count_their_matches(tmp_path, make_user):
    maria = make_user("maria")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    import_stories(tmp_path / "a", 3, "metro", provider="Metro", topics=("AI",))
    ids = import_stories(tmp_path / "b", 2, "sunday", provider="Sunday")  # every id, the Metro ones first
    moderation.decide(ids[0], maria, APPROVED, 1)

    def matching(**filters) -> int | None:
        return counts.queue_counts(QueueFilters(**filters), maria.id, STALE).matching

    assert matching() is None and matching(sort="heat") is None  # the plain pending queue: "411 pending"
    assert matching(status="all") == 5 and matching(status=APPROVED) == 1
    assert matching(provider="Metro") == 2  # pending (the default status) and from Metro
    assert matching(provider="Metro", status="all") == 3
    assert matching(q="Story 1", status="all") == 2  # Story 1 of each folder
    assert matching(topic="AI") == 2 and matching(topic="nothing") == 0
    moderation.decide(ids[1], maria, REJECTED, 1)
    assert matching(provider="Metro") == 1


def test_a_large_match_is_counted_up_to_the_cap(tmp_path, make_user, monkeypatch):
    maria = make_user("maria")
    import_stories(tmp_path, 3)
    monkeypatch.setattr(counts, "MATCH_CAP", 2)
    result = counts.queue_counts(QueueFilters(q="Story"), maria.id, STALE)
    assert result.matching == 2 and result.matching_capped


@contextmanager
def statements():
    """The SQL statements run meanwhile."""
    seen = []

    def note(_connection, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def match_counts_in(seen: list[str]) -> list[str]:
    """The statements that counted a filtered view's matches (the count over the table a page costs)."""
    return [
        statement
        for statement in seen
        if re.search(r"count\(\*\).*FROM \(SELECT articles\.id", statement, re.S)
    ]


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


def test_kept_counts_are_counted_once_then_adjusted_and_counted_again_when_old(tmp_path, make_user):
    maria = make_user("maria")
    ids = import_stories(tmp_path, 3, provider="Metro")
    clock, metro = Clock(), QueueFilters(provider="Metro")
    kept = counts.MatchCounts(clock)
    assert not kept.tracks(metro)
    with statements() as seen:
        assert kept.get(metro, STALE, max_age=0) == 3
        assert kept.get(metro, STALE, max_age=None) == 3  # an answer's: the kept count
        clock.now += timedelta(seconds=counts.MATCH_TTL_SECONDS - 1)
        assert kept.get(metro, STALE, max_age=counts.MATCH_TTL_SECONDS) == 3  # a poll's, still young
    assert len(match_counts_in(seen)) == 1
    assert kept.tracks(metro) and not kept.tracks(QueueFilters(provider="Sunday"))
    assert not kept.tracks(QueueFilters(status="all"))  # the counters say it: nothing to keep

    moderation.decide(ids[0], maria, APPROVED, 1)  # somebody's decision that nobody adjusted for
    kept.adjust(metro, was_matching=True, now_matching=True)
    assert kept.get(metro, STALE, max_age=counts.MATCH_TTL_SECONDS) == 3  # stale for a while at most
    clock.now += timedelta(seconds=1)
    assert kept.get(metro, STALE, max_age=counts.MATCH_TTL_SECONDS) == 2  # the poll after the TTL counts
    kept.adjust(metro, was_matching=True, now_matching=False)
    assert kept.get(metro, STALE, max_age=None) == 1
    kept.adjust(metro, was_matching=False, now_matching=True)
    assert kept.get(metro, STALE, max_age=None) == 2
    # The sort is no part of what a view matches: one count for every order.
    assert kept.get(QueueFilters(provider="Metro", sort="heat"), STALE, max_age=None) == 2


def test_two_processes_share_one_count_and_its_adjustments(app, tmp_path, make_user):
    """Behind a balancer a moderator's requests go to any process: each must see the others' counts."""
    ids = import_stories(tmp_path, 3, provider="Metro")
    metro = QueueFilters(provider="Metro")
    first, second = counts.MatchCounts(Clock()), counts.MatchCounts(Clock())
    assert first.get(metro, STALE, max_age=0) == 3
    assert second.tracks(metro)
    moderation.decide(ids[0], make_user("maria"), APPROVED, 1)
    second.adjust(metro, was_matching=True, now_matching=False)
    with statements() as seen:
        assert first.get(metro, STALE, max_age=None) == 2
    assert match_counts_in(seen) == []


def test_a_view_nobody_counted_for_an_hour_is_forgotten_when_another_is_counted(app, tmp_path):
    import_stories(tmp_path, 2, provider="Metro")
    clock = Clock()
    kept = counts.MatchCounts(clock)
    kept.get(QueueFilters(provider="Metro"), STALE, max_age=0)
    clock.now += timedelta(seconds=counts.MATCH_KEEP_SECONDS + 1)
    kept.get(QueueFilters(q="Story"), STALE, max_age=0)
    assert not kept.tracks(QueueFilters(provider="Metro")) and kept.tracks(QueueFilters(q="Story"))


def test_a_count_at_the_cap_is_not_adjusted(app, tmp_path, monkeypatch):
    import_stories(tmp_path, 3)
    monkeypatch.setattr(counts, "MATCH_CAP", 2)
    kept, story = counts.MatchCounts(Clock()), QueueFilters(q="Story")
    assert kept.get(story, STALE, max_age=0) == 2
    kept.adjust(story, was_matching=True, now_matching=False)  # "2+" may still be 2 or more
    assert kept.get(story, STALE, max_age=None) == 2


def counts_line(response) -> str:
    """The counts line an answer carries (out of band, or on the page)."""
    found = re.search(r'<p id="queue-counts".*?</p>', response.get_data(as_text=True), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_a_decision_in_a_filtered_view_adjusts_its_count_without_counting(
    client, login, tmp_path, make_user, app
):
    login("maria")
    lee = make_user("lee")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    import_stories(tmp_path / "a", 3, "metro", provider="Metro")
    ids = import_stories(tmp_path / "b", 1, "sunday", provider="Sunday")  # the Metro ones first
    assert "3 match these filters" in counts_line(client.get("/?provider=Metro", headers=HX))
    view = {"filters": "status=pending&sort=newest&q=&provider=Metro"}  # as the page's filter form sends it

    with statements() as seen:
        approved = post(client, f"/articles/{ids[0]}/approve", HX, version=1, answer="row", **view)
        assert "2 match these filters" in counts_line(approved)
        heat = post(client, f"/articles/{ids[1]}/heat", HX, version=1, heat="7", answer="moderation", **view)
        assert "2 match these filters" in counts_line(heat)  # still pending, still from Metro
        # Not one of the view's: the view's count stays.
        sunday = post(client, f"/articles/{ids[3]}/reject", HX, version=1, answer="row", **view)
        assert "2 match these filters" in counts_line(sunday)
        event_id = db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.article_id == ids[0]).order_by(AuditEvent.id.desc())
        )
        undone = post(client, f"/events/{event_id}/undo", HX, answer="none", **view)
        assert "3 match these filters" in counts_line(undone)
    assert match_counts_in(seen) == []  # every answer adjusted the count of the first page

    # Another moderator's decision (in another process, say): the poll counts it after the TTL only.
    moderation.decide(ids[2], lee, APPROVED, 1)
    poll = {"id": ids[2], "since": "2000-01-01T00:00:00+00:00", **view}
    assert "3 match these filters" in counts_line(client.get("/queue/changes", query_string=poll, headers=HX))
    kept = app.extensions["match_counts"]
    kept.clock = lambda real=kept.clock: real() + timedelta(seconds=counts.MATCH_TTL_SECONDS)
    with statements() as seen:
        polled = client.get("/queue/changes", query_string=poll, headers=HX)
    assert "2 match these filters" in counts_line(polled) and len(match_counts_in(seen)) == 1


def test_a_decision_in_a_view_this_process_never_counted_counts_it_once(client, login, tmp_path):
    login("maria")
    ids = import_stories(tmp_path, 3, provider="Metro")
    view = {"filters": "provider=Metro"}
    with statements() as seen:
        first = post(client, f"/articles/{ids[0]}/approve", HX, version=1, answer="row", **view)
        second = post(client, f"/articles/{ids[1]}/approve", HX, version=1, answer="row", **view)
    assert "2 match these filters" in counts_line(first) and "1 match these filters" in counts_line(second)
    assert len(match_counts_in(seen)) == 1


def test_a_moderators_count_today_reads_the_rollups_once_built_and_the_articles_before(tmp_path, make_user):
    """The same figure both ways, through decisions, a bulk decision and undos."""
    maria, lee = make_user("maria"), make_user("lee")
    ids = import_stories(tmp_path, 5)
    first = moderation.decide(ids[0], maria, APPROVED, 1)
    moderation.decide(ids[1], maria, REJECTED, 1)
    moderation.decide(ids[2], lee, APPROVED, 1)
    moderation.bulk_decide([(article_id, 1) for article_id in ids[3:]], maria, APPROVED)
    undo(first["id"], maria)
    now = utcnow()
    assert rollups.is_built()
    from_rollups = {user.id: counts.decided_today(user.id, now) for user in (maria, lee)}
    db.session.execute(delete(RollupBuild))
    from_articles = {user.id: counts.decided_today(user.id, now) for user in (maria, lee)}
    assert from_rollups == from_articles == {maria.id: 3, lee.id: 1}
    db.session.rollback()
