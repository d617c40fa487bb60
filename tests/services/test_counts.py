"""The queue's counts: counters the database keeps by itself, a moderator's day, filtered views."""

from datetime import timedelta

from sqlalchemy import delete, func, select

from tests.factories import write_seed
from webapp.models import APPROVED, PENDING, REJECTED, Article, db
from webapp.services import counts, moderation
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
