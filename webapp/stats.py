"""Team-lead statistics: how the desk is doing over a period, aggregated in the database.

Decisions are read from the articles' current state (who decided, when, approved or
rejected): a decision later reopened and made again counts once, as it now stands. Times to
decision run from import to decision. Percentiles are nearest-rank: the median of n values
is the ceil(n/2)-th smallest. The backlog at the end of a day is worked back from the
pending count now, through the imports and decisions since. Every figure is a GROUP BY or an
indexed count; nothing loops over rows in Python.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, literal, select

from .models import APPROVED, PENDING, REJECTED, Article, AuditEvent, Topic, User, article_topics, db

PERIODS = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom range"}
TOP_TOPICS = TOP_PROVIDERS = 10
TOP_OUTLETS = 20
MAX_DAYS = 366
TIME_BUCKETS = (  # upper bounds in seconds, and labels short enough for the chart's axis
    (600, "< 10 min"), (1800, "10–30 min"), (3600, "30–60 min"), (7200, "1–2 h"), (21600, "2–6 h"),
    (43200, "6–12 h"), (86400, "12–24 h"), (172800, "1–2 d"), (604800, "2–7 d"), (None, "> 7 d"),
)
HEAT_BUCKET = 20


@dataclass(frozen=True)
class StatsFilters:
    period: str = "7d"
    start: date | None = None  # custom range, both days included
    end: date | None = None
    moderator: str = ""
    topic: str = ""
    provider: str = ""

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in UTC; the end never later than now."""
        today = datetime.combine(now.date(), time(), timezone.utc)
        if self.period == "today":
            return today, now
        if self.period == "custom" and self.start and self.end:
            return _midnight(self.start), min(now, _midnight(self.end) + timedelta(days=1))
        days = 30 if self.period == "30d" else 7
        return today - timedelta(days=days - 1), now

    def as_args(self) -> dict[str, str]:
        args = {"period": self.period}
        if self.period == "custom":
            args |= {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args |= {name: getattr(self, name) for name in ("moderator", "topic", "provider") if getattr(self, name)}
        return args


def parse_filters(args) -> tuple[StatsFilters, dict[str, str]]:
    """Filters from query arguments; a bad value gets a message for its field and its default."""
    errors: dict[str, str] = {}
    period = args.get("period", "7d")
    if period not in PERIODS:
        errors["period"] = f"Period must be one of {', '.join(PERIODS)}."
        period = "7d"
    start = end = None
    if period == "custom":
        for name, label in (("from", "From"), ("to", "To")):
            text = args.get(name, "").strip()
            try:
                value = date.fromisoformat(text)
            except ValueError:
                errors[name] = f"{label}: {text or 'nothing'!r} is not a date like 2023-10-19."
                continue
            if name == "from":
                start = value
            else:
                end = value
        if start and end and start > end:
            errors["to"] = "To: must be on or after From."
        if start and end and (end - start).days >= MAX_DAYS:
            errors["to"] = f"To: a range is at most {MAX_DAYS} days."
        if errors:
            period, start, end = "7d", None, None
    values = {name: args.get(name, "").strip()[:200] for name in ("moderator", "topic", "provider")}
    return StatsFilters(period, start, end, **values), errors


@dataclass
class Dashboard:
    filters: StatsFilters
    start: datetime
    end: datetime
    figures: dict
    per_day: list[dict] = field(default_factory=list)
    per_moderator: list[dict] = field(default_factory=list)
    backlog: list[dict] = field(default_factory=list)
    time_to_decision: list[dict] = field(default_factory=list)
    heat: list[dict] = field(default_factory=list)
    by_topic: list[dict] = field(default_factory=list)
    by_provider: list[dict] = field(default_factory=list)
    per_outlet: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["filters"] = self.filters.as_args()
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def dashboard(filters: StatsFilters, now: datetime, stale_after: timedelta) -> Dashboard:
    start, end = filters.window(now)
    decided = _decided_conditions(filters, start, end)
    board = Dashboard(filters, start, end, figures={})
    counts = dict(db.session.execute(select(Article.status, func.count()).where(*decided).group_by(Article.status)).all())
    approved, rejected = counts.get(APPROVED, 0), counts.get(REJECTED, 0)
    pending = _pending_figures(filters, now, stale_after)
    median, p90 = _percentiles(decided, (0.5, 0.9))
    board.figures = {
        "decided": approved + rejected,
        "approved": approved,
        "rejected": rejected,
        "approval_rate": _rate(approved, approved + rejected),
        **pending,
        "median_seconds_to_decision": median,
        "p90_seconds_to_decision": p90,
        "merges": _merges(filters, start, end),
    }
    board.per_day = _per_day(decided, start, end)
    board.per_moderator = _per_moderator(decided)
    board.backlog = _backlog(filters, start, end, now, pending["pending_now"])
    board.time_to_decision = _time_histogram(decided)
    board.heat = _heat_histogram(decided)
    board.by_topic = _top(_approved_by_topic(decided), TOP_TOPICS)
    board.by_provider = _top(_approved_by(decided, Article.provider_name), TOP_PROVIDERS)
    board.per_outlet = _per_outlet(decided)
    return board


def _decided_conditions(filters: StatsFilters, start: datetime, end: datetime) -> list:
    conditions = [Article.decided_at >= start, Article.decided_at < end, Article.status.in_((APPROVED, REJECTED))]
    if filters.moderator:
        conditions.append(Article.decided_by_id == select(User.id).where(User.username == filters.moderator).scalar_subquery())
    return conditions + _article_conditions(filters)


def _article_conditions(filters: StatsFilters) -> list:
    conditions = []
    if filters.provider:
        conditions.append(Article.provider_name == filters.provider)
    if filters.topic:
        conditions.append(
            select(article_topics.c.article_id)
            .join(Topic, Topic.id == article_topics.c.topic_id)
            .where(article_topics.c.article_id == Article.id, Topic.name == filters.topic)
            .exists()
        )
    return conditions


def _pending_figures(filters: StatsFilters, now: datetime, stale_after: timedelta) -> dict:
    conditions = [Article.status == PENDING, *_article_conditions(filters)]
    row = db.session.execute(
        select(
            func.count(),
            func.count(case((Article.published_at < now - stale_after, 1))),
            func.min(Article.imported_at),
        ).where(*conditions)
    ).one()
    oldest = row[2]
    return {
        "pending_now": row[0],
        "stale_pending_now": row[1],
        "oldest_pending_seconds": None if oldest is None else int((now - oldest).total_seconds()),
    }


def seconds_to_decision():
    """Seconds from import to decision, in the database's own arithmetic."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(Article.decided_at) - func.julianday(Article.imported_at)) * 86400.0
    return func.extract("epoch", Article.decided_at - Article.imported_at)


def day_of(column):
    """The UTC day of a stored time, as text like 2023-10-19, on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return func.to_char(column, "YYYY-MM-DD")


def _percentiles(conditions: list, ranks: tuple[float, ...]) -> list[int | None]:
    total = db.session.scalar(select(func.count()).select_from(Article).where(*conditions))
    found = []
    for rank in ranks:
        if not total:
            found.append(None)
            continue
        offset = math.ceil(rank * total) - 1
        value = db.session.scalar(
            select(seconds_to_decision()).where(*conditions).order_by(seconds_to_decision()).limit(1).offset(offset)
        )
        found.append(round(value))
    return found


def _merges(filters: StatsFilters, start: datetime, end: datetime) -> int:
    conditions = [AuditEvent.action == "merge", AuditEvent.created_at >= start, AuditEvent.created_at < end]
    if filters.moderator:
        conditions.append(AuditEvent.actor_id == select(User.id).where(User.username == filters.moderator).scalar_subquery())
    if filters.provider or filters.topic:
        conditions.append(AuditEvent.article_id.in_(select(Article.id).where(*_article_conditions(filters))))
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))


def _days(start: datetime, end: datetime) -> list[str]:
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _per_day(conditions: list, start: datetime, end: datetime) -> list[dict]:
    day = day_of(Article.decided_at)
    rows = db.session.execute(select(day, Article.status, func.count()).where(*conditions).group_by(day, Article.status)).all()
    counts = {(row[0], row[1]): row[2] for row in rows}
    return [
        {"day": each, "approved": counts.get((each, APPROVED), 0), "rejected": counts.get((each, REJECTED), 0)}
        for each in _days(start, end)
    ]


def _per_moderator(conditions: list) -> list[dict]:
    rows = db.session.execute(
        select(User.username, func.count(case((Article.status == APPROVED, 1))), func.count())
        .join(User, User.id == Article.decided_by_id)
        .where(*conditions)
        .group_by(User.username)
        .order_by(func.count().desc(), User.username)
    ).all()
    return [
        {"moderator": name, "approved": approved, "rejected": total - approved, "decided": total, "approval_rate": _rate(approved, total)}
        for name, approved, total in rows
    ]


def _backlog(filters: StatsFilters, start: datetime, end: datetime, now: datetime, pending_now: int) -> list[dict]:
    """Pending at the end of each day: pending now, plus what was decided since, less what came in since."""
    conditions = _article_conditions(filters)
    imported_day, decided_day = day_of(Article.imported_at), day_of(Article.decided_at)
    imports = dict(db.session.execute(
        select(imported_day, func.count()).where(Article.imported_at >= start, *conditions).group_by(imported_day)
    ).all())
    decisions = dict(db.session.execute(
        select(decided_day, func.count())
        .where(Article.decided_at >= start, Article.status.in_((APPROVED, REJECTED)), *conditions)
        .group_by(decided_day)
    ).all())
    backlog, pending = [], pending_now
    days = _days(start, now)
    for each in reversed(days):
        if each <= _days(start, end)[-1]:
            backlog.append({"day": each, "pending": pending})
        pending += decisions.get(each, 0) - imports.get(each, 0)
    return list(reversed(backlog))


def _time_histogram(conditions: list) -> list[dict]:
    seconds = seconds_to_decision()
    whens = [(seconds < bound, index) for index, (bound, _) in enumerate(TIME_BUCKETS) if bound is not None]
    bucket = case(*whens, else_=len(TIME_BUCKETS) - 1)
    counts = dict(db.session.execute(select(bucket, func.count()).where(*conditions).group_by(bucket)).all())
    return [{"bucket": label, "count": counts.get(index, 0)} for index, (_, label) in enumerate(TIME_BUCKETS)]


def _heat_histogram(conditions: list) -> list[dict]:
    bucket = case((Article.heat < 0, literal(-1)), else_=Article.heat // HEAT_BUCKET)
    rows = db.session.execute(
        select(bucket, func.count()).where(*conditions, Article.status == APPROVED).group_by(bucket)
    ).all()
    counts = {int(row[0]): row[1] for row in rows}
    top = max((key for key in counts if key >= 0), default=9)
    histogram = [{"bucket": "not set", "count": counts.get(-1, 0)}]
    for index in range(max(top, 9) + 1):
        low = index * HEAT_BUCKET
        histogram.append({"bucket": f"{low}–{low + HEAT_BUCKET - 1}", "count": counts.get(index, 0)})
    return histogram


def _approved_by_topic(conditions: list) -> list[tuple[str, int]]:
    return db.session.execute(
        select(Topic.name, func.count())
        .select_from(Article)
        .join(article_topics, article_topics.c.article_id == Article.id)
        .join(Topic, Topic.id == article_topics.c.topic_id)
        .where(*conditions, Article.status == APPROVED)
        .group_by(Topic.name)
        .order_by(func.count().desc(), Topic.name)
    ).all()


def _approved_by(conditions: list, column) -> list[tuple[str, int]]:
    return db.session.execute(
        select(column, func.count()).where(*conditions, Article.status == APPROVED).group_by(column).order_by(func.count().desc(), column)
    ).all()


def _top(rows: list[tuple[str, int]], limit: int) -> list[dict]:
    top = [{"name": name, "count": count} for name, count in rows[:limit]]
    rest = sum(count for _, count in rows[limit:])
    if rest:
        top.append({"name": "other", "count": rest})
    return top


def _per_outlet(conditions: list) -> list[dict]:
    """The busiest outlets: decisions, approval rate and median time to decision (nearest rank)."""
    volume = (
        select(Article.provider_name.label("provider"), func.count().label("decided"),
               func.count(case((Article.status == APPROVED, 1))).label("approved"))
        .where(*conditions).group_by(Article.provider_name)
        .order_by(func.count().desc(), Article.provider_name).limit(TOP_OUTLETS)
        .subquery()
    )
    seconds = seconds_to_decision()
    ranked = (
        select(Article.provider_name.label("provider"), seconds.label("seconds"),
               func.row_number().over(partition_by=Article.provider_name, order_by=seconds).label("rank"))
        .where(*conditions, Article.provider_name.in_(select(volume.c.provider)))
        .subquery()
    )
    medians = select(ranked.c.provider, ranked.c.seconds).join(volume, volume.c.provider == ranked.c.provider).where(
        ranked.c.rank == (volume.c.decided + 1) // 2
    )
    median_of = {provider: round(value) for provider, value in db.session.execute(medians).all()}
    rows = db.session.execute(select(volume).order_by(volume.c.decided.desc(), volume.c.provider)).all()
    return [
        {"outlet": row.provider, "decided": row.decided, "approval_rate": _rate(row.approved, row.decided),
         "median_seconds_to_decision": median_of.get(row.provider)}
        for row in rows
    ]


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), timezone.utc)


def csv_rows(board: Dashboard) -> list[list]:
    """The dashboard's figures as CSV rows: one section per table, a blank row between them."""
    rows: list[list] = [["section", "key", "value"]]
    rows += [["figures", name, "" if value is None else value] for name, value in board.figures.items()]
    for section, items in (
        ("decisions per day", board.per_day), ("decisions per moderator", board.per_moderator),
        ("pending at end of day", board.backlog), ("time to decision", board.time_to_decision),
        ("heat of approved", board.heat), ("approved by topic", board.by_topic),
        ("approved by provider", board.by_provider), ("per outlet", board.per_outlet),
    ):
        rows.append([])
        if items:
            rows.append([section, *items[0].keys()])
            rows += [[section, *("" if value is None else value for value in item.values())] for item in items]
        else:
            rows.append([section])
    return rows
