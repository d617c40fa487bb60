"""The queue's counts: "411 pending · 38 match these filters · you: 57 today".

Cheap enough to send with every decision: the articles per status are counters the database
keeps (`ArticleCount`, by triggers), a moderator's decisions today are read from the covering
index of decisions, and only a filtered view counts its matches, up to `MATCH_CAP`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..models import PENDING, Article, ArticleCount, db, utcnow
from .filtering import start_of_day
from .listing import QueueFilters, count_matching

MATCH_CAP = 10_000  # past this a view shows "10,000+ match": the exact figure would cost a scan


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    # Articles the view's filters match, up to MATCH_CAP; None when the view is the plain pending queue.
    matching: int | None
    yours_today: int

    @property
    def matching_capped(self) -> bool:
        return self.matching is not None and self.matching >= MATCH_CAP


def queue_counts(
    filters: QueueFilters, user_id: int, stale_after: timedelta, now: datetime | None = None
) -> QueueCounts:
    """The pending articles, those `filters` match, and `user_id`'s decisions today (UTC) that still stand."""
    by_status = status_counts()
    return QueueCounts(
        pending=by_status.get(PENDING, 0),
        matching=_matching(filters, by_status, stale_after),
        yours_today=decided_today(user_id, now or utcnow()),
    )


def status_counts() -> dict[str, int]:
    """Articles per status, as the database's counters hold them (one small read, no scan)."""
    return dict(db.session.execute(select(ArticleCount.status, ArticleCount.count)).all())


def decided_today(user_id: int, now: datetime) -> int:
    """Articles `user_id` approved or rejected since midnight UTC and still decided by them.

    Read from the article, not the audit trail, so an undone or reopened decision no longer counts.
    """
    return db.session.scalar(
        select(func.count()).where(
            Article.decided_at >= start_of_day(now.date()), Article.decided_by_id == user_id
        )
    )


def _matching(filters: QueueFilters, by_status: dict[str, int], stale_after: timedelta) -> int | None:
    narrowing = set(filters.as_args()) - {"sort"}
    if not narrowing:
        return None
    if narrowing == {"status"}:
        return sum(by_status.values()) if filters.status == "all" else by_status.get(filters.status, 0)
    return count_matching(filters, stale_after, MATCH_CAP)
