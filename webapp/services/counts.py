"""The queue's counts: "411 pending · 38 match these filters · you: 57 today".

Cheap enough to send with every decision: the articles per status are counters the database
keeps (`ArticleCount`, by triggers), and a moderator's decisions today are read from the covering
index of decisions. Only a filtered view's matches cost a count over the table (as its listing
query scans, until full-text search), so `MatchCounts` keeps them for a while, per process: counted
when the queue's first page is rendered, adjusted exactly after each decision by checking that one
article against the filters before and after (by primary key), and counted again by a poll at most
once every `MATCH_TTL_SECONDS`. Two processes may then disagree, and miss others' decisions made in
another process, for at most that long.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select

from ..models import PENDING, Article, ArticleCount, db, utcnow
from .filtering import start_of_day
from .listing import QueueFilters, count_matching

MATCH_CAP = 10_000  # past this a view shows "10,000+ match": the exact figure would cost a scan
MATCH_TTL_SECONDS = 20  # how old a filtered view's count may get before a poll counts it again
MATCH_KEYS = 256  # filtered views whose counts a process keeps (the least recently used go)


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
    """Filtered views' match counts, kept per process (one per app): see the module's docstring.

    `max_age` says how old a kept count may be to be used as it is: 0 counts afresh (a page load),
    MATCH_TTL_SECONDS for a poll, None for a decision's answer (which adjusts instead of counting,
    and counts only when this process has no count of the view at all).
    """

    def __init__(self, clock=time.monotonic):  # seconds, as time.monotonic counts them
        self.clock = clock
        self._kept: OrderedDict[tuple, tuple[int, float]] = OrderedDict()  # key: (count, counted at)

    def get(self, filters: QueueFilters, stale_after: timedelta, max_age: float | None) -> int:
        key = _key(filters)
        kept = self._kept.get(key)
        if kept is None or (max_age is not None and self.clock() - kept[1] >= max_age):
            kept = (count_matching(filters, stale_after, MATCH_CAP), self.clock())
            self._kept[key] = kept
            if len(self._kept) > MATCH_KEYS:
                self._kept.popitem(last=False)
        self._kept.move_to_end(key)
        return kept[0]

    def tracks(self, filters: QueueFilters) -> bool:
        """Whether a decision must check its article against these filters (a count of them is kept)."""
        return _narrowing(filters) and _key(filters) in self._kept

    def adjust(self, filters: QueueFilters, was_matching: bool, now_matching: bool) -> None:
        """Count one article in or out after a change, if it matched before and not after, or the reverse.

        A count at the cap stays there: it stands for "at least", and one out may leave as many."""
        key = _key(filters)
        kept = self._kept.get(key)
        if kept is None or was_matching == now_matching or kept[0] >= MATCH_CAP:
            return
        self._kept[key] = (max(0, kept[0] + (1 if now_matching else -1)), kept[1])


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
    return dict(db.session.execute(_status_query()).all())


def decided_today(user_id: int, now: datetime) -> int:
    """Articles `user_id` approved or rejected since midnight UTC and still decided by them.

    Read from the article, not the audit trail, so an undone or reopened decision no longer counts.
    """
    return db.session.scalar(_decided_query(), {"since": start_of_day(now.date()), "user_id": user_id})


@cache
def _status_query():
    return select(ArticleCount.status, ArticleCount.count)


@cache
def _decided_query():
    since = bindparam("since", type_=Article.decided_at.type)
    return select(func.count()).where(
        Article.decided_at >= since, Article.decided_by_id == bindparam("user_id")
    )


def _narrowing(filters: QueueFilters) -> bool:
    """Whether the view is more than the plain queue or one status (whose counts the counters hold)."""
    return bool(set(filters.as_args()) - {"sort", "status"})


def _key(filters: QueueFilters) -> tuple:
    return tuple(sorted((name, value) for name, value in filters.as_args().items() if name != "sort"))


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
