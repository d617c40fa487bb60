"""Team-lead statistics aggregated from the articles themselves: the figures' definition.

The dashboard reads them summed from daily rollups (services.rollups); this full aggregation is
what it falls back to before the rollups are built, and what the tests hold the rollups to.

Decisions are read from the articles' current state (who decided, when, approved or
rejected): a decision later reopened and made again counts once, as it now stands. Times to
decision run from import to decision. Percentiles are nearest-rank: the median of n values
is the ceil(n/2)-th smallest. The backlog at the end of a day is worked back from the
pending count now, through the imports and decisions since.

The articles decided in the period are first copied, with just the columns the figures use,
into a temporary table of the request's own connection (read from one covering index); the
dozen GROUP BYs then run over that small table instead of the articles. Every figure is
still computed by the database; nothing loops over rows in Python.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    tuple_,
)

from ..formats.rollups import HEAT_BUCKET, TIME_BUCKETS, heat_chart
from ..formats.seeds import HEAT_UNSET
from ..models import APPROVED, PENDING, REJECTED, Article, AuditEvent, Topic, User, article_topics, db
from .filtering import (
    end_of_day,
    has_topic,
    moderator_id,
    parse_days,
    provider_matches,
    provider_pattern,
    start_of_day,
)

PERIODS = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom range"}
TOP_TOPICS = TOP_PROVIDERS = 10
TOP_OUTLETS = 20
MAX_DAYS = 366


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
        today = start_of_day(now.date())
        if self.period == "today":
            return today, now
        if self.period == "custom" and self.start and self.end:
            return start_of_day(self.start), min(now, end_of_day(self.end))
        days = 30 if self.period == "30d" else 7
        return today - timedelta(days=days - 1), now

    def as_args(self) -> dict[str, str]:
        args = {"period": self.period}
        if self.period == "custom":
            args |= {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args |= {
            name: getattr(self, name) for name in ("moderator", "topic", "provider") if getattr(self, name)
        }
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
        days, day_errors = parse_days(args, {"from": "From", "to": "To"}, required=True)
        errors |= day_errors
        start, end = days["from"], days["to"]
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
    board = Dashboard(filters, start, end, figures={})
    with _decided_window(_decided_conditions(filters, start, end)) as window:
        board.per_day = _per_day(window, start, end)
        approved = sum(row["approved"] for row in board.per_day)
        rejected = sum(row["rejected"] for row in board.per_day)
        pending = pending_figures(filters, now, stale_after)
        median, p90 = _percentiles(window, (0.5, 0.9), approved + rejected)
        board.figures = {
            "decided": approved + rejected,
            "approved": approved,
            "rejected": rejected,
            "approval_rate": rate(approved, approved + rejected),
            **pending,
            "median_seconds_to_decision": median,
            "p90_seconds_to_decision": p90,
            "merges": _merges(filters, start, end),
        }
        board.per_moderator = _per_moderator(window)
        board.backlog = _backlog(filters, start, end, now, pending["pending_now"], board.per_day)
        board.time_to_decision = _time_histogram(window)
        board.heat = _heat_histogram(window)
        board.by_topic = top(_approved_by_topic(window), TOP_TOPICS)
        board.by_provider = top(_approved_by_provider(window), TOP_PROVIDERS)
        board.per_outlet = _per_outlet(window)
    return board


_WINDOW = Table(
    "stats_window",
    MetaData(),
    Column("id", Integer),
    Column("day", String(10)),
    Column("status", String(10)),
    Column("decided_by_id", Integer),
    Column("provider_name", Text),
    Column("heat", Integer),
    Column("seconds", Float),
    prefixes=["TEMPORARY"],
)


@contextmanager
def _decided_window(conditions: list):
    """The articles decided in the period, as a temporary table of this connection, dropped after."""
    connection = db.session.connection()
    _WINDOW.drop(connection, checkfirst=True)
    _WINDOW.create(connection)
    try:
        columns = select(
            Article.id,
            day_of(Article.decided_at),
            Article.status,
            Article.decided_by_id,
            Article.provider_name,
            Article.heat,
            seconds_to_decision(),
        ).where(*conditions)
        connection.execute(insert(_WINDOW).from_select([c.name for c in _WINDOW.columns], columns))
        yield _WINDOW
    finally:
        _WINDOW.drop(connection, checkfirst=True)


def _decided_conditions(filters: StatsFilters, start: datetime, end: datetime) -> list:
    # decided_at is set exactly while an article is approved or rejected: no status test, so
    # the range is read from the covering index ix_articles_decisions alone.
    conditions = [Article.decided_at >= start, Article.decided_at < end]
    if filters.moderator:
        conditions.append(Article.decided_by_id == moderator_id(filters.moderator))
    return conditions + _article_conditions(filters)


def _article_conditions(filters: StatsFilters) -> list:
    conditions = []
    if filters.provider:
        conditions.append(provider_matches(provider_pattern(filters.provider)))
    if filters.topic:
        conditions.append(has_topic(filters.topic))
    return conditions


def pending_figures(filters: StatsFilters, now: datetime, stale_after: timedelta) -> dict:
    conditions = [Article.status == PENDING, *_article_conditions(filters)]
    # Counted from the (status, published_at) index, the oldest from a partial index of the pending:
    # one query reading both would visit every pending row.
    row = db.session.execute(
        select(func.count(), func.count(case((Article.published_at < now - stale_after, 1)))).where(
            *conditions
        )
    ).one()
    oldest = db.session.scalar(select(func.min(Article.imported_at)).where(*conditions))
    return {
        "pending_now": row[0],
        "stale_pending_now": row[1],
        "oldest_pending_seconds": None if oldest is None else int((now - oldest).total_seconds()),
    }


def seconds_to_decision():
    """Seconds from import to decision, in the database's own arithmetic."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Whole seconds and microseconds apart: julianday()'s floats put 3600 s at 3599.99999, a bar
        # too low. The stored text always ends in six digits of microseconds.
        whole = cast(func.strftime("%s", Article.decided_at), Integer) - cast(
            func.strftime("%s", Article.imported_at), Integer
        )
        micros = cast(func.substr(Article.decided_at, 21, 6), Integer) - cast(
            func.substr(Article.imported_at, 21, 6), Integer
        )
        return whole + micros / 1_000_000.0
    return func.extract("epoch", Article.decided_at - Article.imported_at)


def day_of(column):
    """The UTC day of a stored time, as text like 2023-10-19, on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(cast(column, Date), String)  # ISO, as PostgreSQL writes dates


def _percentiles(window, ranks: tuple[float, ...], total: int) -> list[int | None]:
    """Nearest-rank percentiles of the seconds to decision, from one sort."""
    if not total:
        return [None for _ in ranks]
    if _has_percentile_disc():
        found = db.session.execute(
            select(*(func.percentile_disc(rank).within_group(window.c.seconds) for rank in ranks))
        ).one()
        return [round(value) for value in found]
    wanted = {math.ceil(rank * total) for rank in ranks}
    ordered = select(
        window.c.seconds, func.row_number().over(order_by=window.c.seconds).label("n")
    ).subquery()
    found = dict(
        db.session.execute(select(ordered.c.n, ordered.c.seconds).where(ordered.c.n.in_(wanted))).all()
    )
    return [round(found[math.ceil(rank * total)]) for rank in ranks]


def _merges(filters: StatsFilters, start: datetime, end: datetime) -> int:
    conditions = [AuditEvent.action == "merge", AuditEvent.created_at >= start, AuditEvent.created_at < end]
    if filters.moderator:
        conditions.append(AuditEvent.actor_id == moderator_id(filters.moderator))
    if filters.provider or filters.topic:
        conditions.append(AuditEvent.article_id.in_(select(Article.id).where(*_article_conditions(filters))))
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))


def _days(start: datetime, end: datetime) -> list[str]:
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _per_day(window, start: datetime, end: datetime) -> list[dict]:
    rows = db.session.execute(
        select(window.c.day, window.c.status, func.count()).group_by(window.c.day, window.c.status)
    ).all()
    return per_day_rows({(row[0], row[1]): row[2] for row in rows}, start, end)


def per_day_rows(counts: dict[tuple[str, str], int], start: datetime, end: datetime) -> list[dict]:
    """Approved and rejected on each day of the period, from counts per (ISO day, status)."""
    counts = {(str(day), status): count for (day, status), count in counts.items()}
    return [
        {
            "day": each,
            "approved": counts.get((each, APPROVED), 0),
            "rejected": counts.get((each, REJECTED), 0),
        }
        for each in _days(start, end)
    ]


def _per_moderator(window) -> list[dict]:
    counts = (
        select(
            window.c.decided_by_id,
            func.count(case((window.c.status == APPROVED, 1))).label("approved"),
            func.count().label("decided"),
        )
        .group_by(window.c.decided_by_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User.username, counts.c.approved, counts.c.decided)
        .join(counts, counts.c.decided_by_id == User.id)
        .order_by(counts.c.decided.desc(), User.username)
    ).all()
    return [
        {
            "moderator": name,
            "approved": approved,
            "rejected": total - approved,
            "decided": total,
            "approval_rate": rate(approved, total),
        }
        for name, approved, total in rows
    ]


def _backlog(
    filters: StatsFilters,
    start: datetime,
    end: datetime,
    now: datetime,
    pending_now: int,
    per_day: list[dict],
) -> list[dict]:
    """Pending at the end of each day: pending now, plus what was decided since, less what came in since."""
    conditions = _article_conditions(filters)
    imported_day = day_of(Article.imported_at)
    imports = dict(
        db.session.execute(
            select(imported_day, func.count())
            .where(Article.imported_at >= start, *conditions)
            .group_by(imported_day)
        ).all()
    )
    if filters.moderator or end < now:
        decided_day = day_of(Article.decided_at)
        decisions = dict(
            db.session.execute(
                select(decided_day, func.count())
                .where(Article.decided_at >= start, *conditions)
                .group_by(decided_day)
            ).all()
        )
    else:  # the period runs to now for everyone: its decisions per day are the ones needed
        decisions = {row["day"]: row["approved"] + row["rejected"] for row in per_day}
    return backlog_rows(start, end, now, pending_now, decisions, imports)


def backlog_rows(
    start: datetime, end: datetime, now: datetime, pending_now: int, decisions: dict, imports: dict
) -> list[dict]:
    """Pending at the end of each day shown, worked back from now by the decisions and imports
    per ISO day since the period's start."""
    backlog, pending = [], pending_now
    shown = set(_days(start, end))
    for each in reversed(_days(start, now)):
        if each in shown:
            backlog.append({"day": each, "pending": pending})
        pending += decisions.get(each, 0) - imports.get(each, 0)
    return list(reversed(backlog))


def _time_histogram(window) -> list[dict]:
    whens = [
        (window.c.seconds < bound, index)
        for index, (bound, _) in enumerate(TIME_BUCKETS)
        if bound is not None
    ]
    bucket = case(*whens, else_=len(TIME_BUCKETS) - 1)
    counts = dict(db.session.execute(select(bucket, func.count()).group_by(bucket)).all())
    return [{"bucket": label, "count": counts.get(index, 0)} for index, (_, label) in enumerate(TIME_BUCKETS)]


def _heat_histogram(window) -> list[dict]:
    bucket = case((window.c.heat == HEAT_UNSET, literal(HEAT_UNSET)), else_=window.c.heat // HEAT_BUCKET)
    rows = db.session.execute(
        select(bucket, func.count()).where(window.c.status == APPROVED).group_by(bucket)
    ).all()
    return heat_chart({int(row[0]): row[1] for row in rows})


def _approved_by_topic(window) -> list[tuple[str, int]]:
    return db.session.execute(
        select(Topic.name, func.count())
        .select_from(window)
        .join(article_topics, article_topics.c.article_id == window.c.id)
        .join(Topic, Topic.id == article_topics.c.topic_id)
        .where(window.c.status == APPROVED)
        .group_by(Topic.name)
        .order_by(func.count().desc(), Topic.name)
    ).all()


def _approved_by_provider(window) -> list[tuple[str, int]]:
    return db.session.execute(
        select(window.c.provider_name, func.count())
        .where(window.c.status == APPROVED)
        .group_by(window.c.provider_name)
        .order_by(func.count().desc(), window.c.provider_name)
    ).all()


def top(rows: list[tuple[str, int]], limit: int) -> list[dict]:
    top = [{"name": name, "count": count} for name, count in rows[:limit]]
    rest = sum(count for _, count in rows[limit:])
    if rest:
        top.append({"name": "other", "count": rest})
    return top


def _per_outlet(window) -> list[dict]:
    """The busiest outlets: decisions, approval rate and median time to decision (nearest rank)."""
    volume = db.session.execute(
        select(window.c.provider_name, func.count(), func.count(case((window.c.status == APPROVED, 1))))
        .group_by(window.c.provider_name)
        .order_by(func.count().desc(), window.c.provider_name)
        .limit(TOP_OUTLETS)
    ).all()
    median_rank = {provider: (decided + 1) // 2 for provider, decided, _ in volume}
    if _has_percentile_disc() and median_rank:
        median_of = dict(
            db.session.execute(
                select(window.c.provider_name, func.percentile_disc(0.5).within_group(window.c.seconds))
                .where(window.c.provider_name.in_(list(median_rank)))
                .group_by(window.c.provider_name)
            ).all()
        )
        return _outlet_rows(volume, median_of)
    ranked = (
        select(
            window.c.provider_name.label("provider"),
            window.c.seconds,
            func.row_number()
            .over(partition_by=window.c.provider_name, order_by=window.c.seconds)
            .label("rank"),
        )
        .where(window.c.provider_name.in_(list(median_rank)))
        .subquery()
    )
    medians = (
        select(ranked.c.provider, ranked.c.seconds).where(
            tuple_(ranked.c.provider, ranked.c.rank).in_(list(median_rank.items()))
        )
        if median_rank
        else None
    )
    median_of = dict(db.session.execute(medians).all()) if medians is not None else {}
    return _outlet_rows(volume, median_of)


def _outlet_rows(volume: list, median_of: dict) -> list[dict]:
    return [
        {
            "outlet": provider,
            "decided": decided,
            "approval_rate": rate(approved, decided),
            "median_seconds_to_decision": None
            if median_of.get(provider) is None
            else round(median_of[provider]),
        }
        for provider, decided, approved in volume
    ]


def _has_percentile_disc() -> bool:
    """PostgreSQL computes nearest-rank percentiles (percentile_disc); SQLite gets a window function."""
    return db.session.get_bind().dialect.name == "postgresql"


def rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def csv_rows(board: Dashboard) -> list[list]:
    """The dashboard's figures as CSV rows: one section per table, a blank row between them."""
    rows: list[list] = [["section", "key", "value"]]
    rows += [["figures", name, "" if value is None else value] for name, value in board.figures.items()]
    for section, items in (
        ("decisions per day", board.per_day),
        ("decisions per moderator", board.per_moderator),
        ("pending at end of day", board.backlog),
        ("time to decision", board.time_to_decision),
        ("heat of approved", board.heat),
        ("approved by topic", board.by_topic),
        ("approved by provider", board.by_provider),
        ("per outlet", board.per_outlet),
    ):
        rows.append([])
        if items:
            rows.append([section, *items[0].keys()])
            rows += [
                [section, *("" if value is None else value for value in item.values())] for item in items
            ]
        else:
            rows.append([section])
    return [[spreadsheet_safe(cell) for cell in row] for row in rows]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """A text cell a spreadsheet would run as a formula, quoted with a leading ' (OWASP CSV injection).

    Numbers stay numbers: the app computes them, and a negative figure must still add up in a sheet.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
