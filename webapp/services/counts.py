"""The queue's counts: "411 pending · 38 match these filters · you: 57 today".

Cheap enough to send with every decision: the articles per status are counters the database
keeps (`ArticleCount`, by triggers), and a moderator's decisions today are the day's two
`BY_MODERATOR` rollup rows (approved, rejected) the stats keep in each decision's transaction; until
the rollups are built, a range of their own in `ix_articles_decider_day`. Only a filtered view's
matches cost a count over the table (as its listing query scans, until full-text search), so
`MatchCounts` keeps them for a while, in the database where every process sees the same: counted
when the queue's first page is rendered, adjusted exactly after each decision made in that view by
checking its article against the filters before and after (by primary key), and counted again by a
poll at most once every `MATCH_TTL_SECONDS`. A decision made in another view that also changes
this one is missed for at most that long.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlencode

from sqlalchemy import bindparam, case, delete, func, select, update

from ..formats.rollups import BY_MODERATOR
from ..models import PENDING, Article, ArticleCount, MatchCount, RollupBuild, StatsRollup, db, upsert, utcnow
from .filtering import start_of_day
from .listing import QueueFilters, count_matching

MATCH_CAP = 10_000  # past this a view shows "10,000+ match": the exact figure would cost a scan
MATCH_TTL_SECONDS = 20  # how old a filtered view's count may get before a poll counts it again
MATCH_KEEP_SECONDS = 3600  # a view's count nobody has counted again for this long is forgotten


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    # Articles the view's filters match, up to MATCH_CAP; None when the view is the plain pending queue.
    matching: int | None
    yours_today: int

    @property
    def matching_capped(self) -> bool:
        return self.matching is not None and self.matching >= MATCH_CAP


class MatchCounts:
    """Filtered views' match counts, kept in the database (`MatchCount`) for every process to share.

    `max_age` says how old a kept count may be to be used as it is: 0 counts afresh (a page load),
    MATCH_TTL_SECONDS for a poll, None for a decision's answer (which adjusts instead of counting,
    and counts only when nobody has counted the view lately). Every write commits at once: a count
    is a row of its own, locked only for that statement, never while a decision holds its articles.
    """

    def __init__(self, clock=utcnow):
        self.clock = clock

    def get(self, filters: QueueFilters, stale_after: timedelta, max_age: float | None) -> int:
        key = _key(filters)
        kept = db.session.execute(_kept_query(), {"view": key}).one_or_none()
        now = self.clock()
        if kept is not None and (max_age is None or now - kept.counted_at < timedelta(seconds=max_age)):
            return kept.count
        count = count_matching(filters, stale_after, MATCH_CAP)
        if kept is None:  # a view nobody has counted lately: forget those nobody has looked at since
            db.session.execute(_forget_statement(), {"before": now - timedelta(seconds=MATCH_KEEP_SECONDS)})
        session = db.session
        session.execute(
            _keep_statement(session.get_bind().dialect.name), {"view": key, "matched": count, "now": now}
        )
        session.commit()
        return count

    def tracks(self, filters: QueueFilters) -> bool:
        """Whether a decision must check its article against these filters (a count of them is kept)."""
        return (
            _narrowing(filters)
            and db.session.execute(_kept_query(), {"view": _key(filters)}).first() is not None
        )

    def adjust(self, filters: QueueFilters, was_matching: bool, now_matching: bool) -> None:
        """Count one article in or out after a change, if it matched before and not after, or the reverse.

        A count at the cap stays there: it stands for "at least", and one out may leave as many."""
        if was_matching == now_matching:
            return
        delta = 1 if now_matching else -1
        db.session.execute(_adjust_statement(), {"view": _key(filters), "delta": delta, "cap": MATCH_CAP})
        db.session.commit()


def queue_counts(
    filters: QueueFilters,
    user_id: int,
    stale_after: timedelta,
    now: datetime | None = None,
    *,
    kept: MatchCounts | None = None,
    max_age: float | None = 0,
) -> QueueCounts:
    """The pending articles, those `filters` match, and `user_id`'s decisions today (UTC) that still stand.

    A filtered view's matches come from `kept`, as old as `max_age` allows (see `MatchCounts`);
    without it they are counted."""
    by_status = status_counts()
    return QueueCounts(
        pending=by_status.get(PENDING, 0),
        matching=_matching(filters, by_status, stale_after, kept or MatchCounts(), max_age),
        yours_today=decided_today(user_id, now or utcnow()),
    )


def status_counts() -> dict[str, int]:
    """Articles per status, as the database's counters hold them (one small read, no scan)."""
    return dict(db.session.connection().execute(_status_query()).all())


def decided_today(user_id: int, now: datetime) -> int:
    """Articles `user_id` approved or rejected since midnight UTC and still decided by them.

    As the articles stand, not the audit trail, so an undone or reopened decision no longer counts:
    the rollups count them so. Their two rows cost the same after 15,000 decisions as after one.
    """
    counted, built = (
        db.session.connection()
        .execute(_rollup_decided_query(), {"day": now.date(), "user_id": user_id})
        .one()
    )
    if built:
        return counted
    return db.session.scalar(_decided_query(), {"since": start_of_day(now.date()), "user_id": user_id})


@cache
def _status_query():
    return select(ArticleCount.status, ArticleCount.count)


@cache
def _rollup_decided_query():
    return select(
        func.coalesce(func.sum(StatsRollup.count), 0),
        select(RollupBuild.id).scalar_subquery().is_not(None),
    ).where(
        StatsRollup.grain == BY_MODERATOR,
        StatsRollup.day == bindparam("day", type_=StatsRollup.day.type),
        StatsRollup.moderator_id == bindparam("user_id"),
    )


@cache
def _decided_query():
    since = bindparam("since", type_=Article.decided_at.type)
    return select(func.count()).where(
        Article.decided_at >= since, Article.decided_by_id == bindparam("user_id")
    )


def _narrowing(filters: QueueFilters) -> bool:
    """Whether the view is more than the plain queue or one status (whose counts the counters hold)."""
    return bool(set(filters.as_args()) - {"sort", "status"})


def _key(filters: QueueFilters) -> str:
    """The view's filters but its sort, in a fixed order, hashed: one short key for however long a search."""
    view = sorted((name, value) for name, value in filters.as_args().items() if name != "sort")
    return hashlib.sha256(urlencode(view).encode()).hexdigest()


@cache
def _kept_query():
    return select(MatchCount.count, MatchCount.counted_at).where(MatchCount.key == bindparam("view"))


@cache
def _keep_statement(dialect: str):
    table = MatchCount.__table__
    statement = upsert(
        table,
        dialect,
        key=bindparam("view"),
        count=bindparam("matched"),
        counted_at=bindparam("now", type_=table.c.counted_at.type),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": statement.excluded.count, "counted_at": statement.excluded.counted_at},
    )


@cache
def _adjust_statement():
    table = MatchCount.__table__
    return (
        update(table)
        .where(table.c.key == bindparam("view"), table.c.count < bindparam("cap"))
        .values(
            count=case((table.c.count + bindparam("delta") < 0, 0), else_=table.c.count + bindparam("delta"))
        )
    )


@cache
def _forget_statement():
    table = MatchCount.__table__
    return delete(table).where(table.c.counted_at < bindparam("before", type_=table.c.counted_at.type))


def _matching(
    filters: QueueFilters,
    by_status: dict[str, int],
    stale_after: timedelta,
    kept: MatchCounts,
    max_age: float | None,
) -> int | None:
    narrowing = set(filters.as_args()) - {"sort"}
    if not narrowing:
        return None
    if narrowing == {"status"}:
        return sum(by_status.values()) if filters.status == "all" else by_status.get(filters.status, 0)
    return kept.get(filters, stale_after, max_age)
