"""The stats' daily rollups: kept in the transaction of each change they count, summed for a period.

Every decision, undo, reopening, heat change and merge goes through `changes.apply_each`, which
hands the articles' states before and after to `record_changes`; imports call `record_imports`.
Both write only the difference, so a change that moves nothing the stats count writes nothing.
`dashboard` sums a period's rows (a few thousand at a million events, whatever the table's size)
and reads each percentile exactly: the time buckets say which bucket holds the wanted rank, and
`decision_times` gives that bucket's values in order. Until the rollups are built (a database
migrated with articles in it, before `copydesk stats rebuild-rollups`), `dashboard` is the full
aggregation of services.stats, which the tests also hold the rollups to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, false, func, insert, or_, select, text, union_all

from ..formats import rollups as arithmetic
from ..formats.rollups import (
    BY_HEAT,
    BY_MODERATOR,
    BY_PROVIDER,
    BY_PROVIDER_TIME,
    BY_TIME,
    BY_TOPIC,
    FINE,
    IMPORTS,
    IMPORTS_FINE,
    MERGES,
    MERGES_FINE,
)
from ..models import (
    APPROVED,
    REJECTED,
    Article,
    AuditEvent,
    DecisionTime,
    RollupBuild,
    StatsRollup,
    Topic,
    User,
    article_topics,
    db,
    upsert,
    utcnow,
)
from . import stats
from .filtering import contains_pattern

DECIDED = (APPROVED, REJECTED)
KEY_COLUMNS = tuple(column.name for column in StatsRollup.__table__.primary_key.columns)
REBUILD_BATCH = 5_000


def _facts(ids) -> dict[int, tuple]:
    """(provider name, provider domain, imported_at, topic ids) of each article."""
    ids = {"ids": list(ids)}
    if not ids["ids"]:
        return {}
    topics = defaultdict(list)
    connection = db.session.connection()
    for article_id, topic_id in connection.execute(_STATEMENTS.topics(), ids):
        topics[article_id].append(topic_id)
    rows = connection.execute(_STATEMENTS.facts(), ids)
    return {row.id: (row.provider_name, row.provider_domain, row.imported_at, topics[row.id]) for row in rows}


def _is_decided(state) -> bool:
    return state["status"] in DECIDED and state["decided_at"] is not None


def _decision(state, facts) -> tuple[list[tuple], dict]:
    """The rollup keys of a decided article's state, and its decision_times row."""
    name, domain, imported_at, topics = facts
    decided_at = state["decided_at"]
    seconds = (decided_at - imported_at).total_seconds()
    keys = arithmetic.decision_keys(
        decided_at.date(),
        state["decided_by_id"],
        state["status"],
        topics,
        name,
        domain,
        state["heat"],
        seconds,
    )
    fine = keys[0]
    time_row = {
        "day": fine[1],
        "seconds": seconds,
        "time_bucket": fine[8],
        "moderator_id": fine[2],
        "topics": fine[4],
        "provider_name": name,
        "provider_domain": fine[6],
    }
    return keys, time_row


def record_changes(changed: list[tuple[int, dict, dict]], merges: list[tuple[int, int, datetime]]) -> None:
    """Count each (article id, state before, state after) and each (article id, actor id, time) merge.

    A state has the article's status, heat, decided_by_id and decided_at. Called in the change's
    transaction, before its commit.
    """
    counted = [item for item in changed if _is_decided(item[1]) or _is_decided(item[2])]
    if not counted and not merges:
        return
    facts = _facts({item[0] for item in counted} | {merge[0] for merge in merges})
    removed, added, times, undecided = [], [], [], []
    for article_id, before, after in counted:
        if _is_decided(before):
            removed += _decision(before, facts[article_id])[0]
        if _is_decided(after):
            keys, time_row = _decision(after, facts[article_id])
            added += keys
            times.append(time_row | {"article_id": article_id})
        else:
            undecided.append(article_id)
    for article_id, actor_id, created_at in merges:
        name, domain, _, topics = facts[article_id]
        added += arithmetic.merge_keys(created_at.date(), actor_id, topics, name, domain)
    _write(arithmetic.net_change(removed, added))
    _write_times(times, undecided)


def import_facts(ids) -> dict[int, tuple]:
    """What an import counts of each article: read before an import changes it, and after."""
    return _facts(ids)


def record_imports(before: dict[int, tuple], after: dict[int, tuple]) -> None:
    """Count the articles an import wrote: `before` as they were (none when new), `after` as written."""
    removed = [key for facts in before.values() for key in _import_keys(facts)]
    added = [key for facts in after.values() for key in _import_keys(facts)]
    _write(arithmetic.net_change(removed, added))


def _import_keys(facts) -> list[tuple]:
    name, domain, imported_at, topics = facts
    return arithmetic.import_keys(imported_at.date(), topics, name, domain)


def _write(changes: list[tuple[tuple, int]]) -> None:
    if changes:
        rows = [dict(zip(KEY_COLUMNS, key, strict=True)) | {"count": n} for key, n in changes]
        db.session.connection().execute(_STATEMENTS.add_counts(_dialect()), rows)


def _write_times(rows: list[dict], undecided: list[int]) -> None:
    if undecided:
        db.session.connection().execute(_STATEMENTS.forget_times(), {"ids": undecided})
    if rows:
        db.session.connection().execute(
            _STATEMENTS.put_times(_dialect()), sorted(rows, key=lambda row: row["article_id"])
        )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


class _STATEMENTS:
    """The statements every decision runs, built once (as changes._STATEMENTS)."""

    @staticmethod
    @cache
    def topics():
        return select(article_topics.c.article_id, article_topics.c.topic_id).where(
            article_topics.c.article_id.in_(bindparam("ids", expanding=True))
        )

    @staticmethod
    @cache
    def facts():
        return select(Article.id, Article.provider_name, Article.provider_domain, Article.imported_at).where(
            Article.id.in_(bindparam("ids", expanding=True))
        )

    @staticmethod
    @cache
    def add_counts(dialect: str):
        table = StatsRollup.__table__
        statement = upsert(table, dialect)
        return statement.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS), set_={"count": table.c.count + statement.excluded["count"]}
        )

    @staticmethod
    @cache
    def put_times(dialect: str):
        table = DecisionTime.__table__
        statement = upsert(table, dialect)
        return statement.on_conflict_do_update(
            index_elements=["article_id"],
            set_={
                column.name: statement.excluded[column.name]
                for column in table.c
                if column.name != "article_id"
            },
        )

    @staticmethod
    @cache
    def forget_times():
        table = DecisionTime.__table__
        return delete(table).where(table.c.article_id.in_(bindparam("ids", expanding=True)))


def is_built() -> bool:
    return db.session.get(RollupBuild, 1) is not None


def rebuild() -> dict[str, int]:
    """Every rollup and decision time computed again from the articles and the audit log, in one
    transaction; returns how many rows were written."""
    if db.session.get_bind().dialect.name == "postgresql":  # changes made meanwhile wait, then add on top
        db.session.execute(text("LOCK TABLE stats_rollups, decision_times IN EXCLUSIVE MODE"))
    db.session.execute(delete(StatsRollup.__table__))
    db.session.execute(delete(DecisionTime.__table__))
    db.session.execute(delete(RollupBuild.__table__))
    counts: Counter = Counter()
    times = 0
    last = 0
    while True:
        rows = db.session.execute(
            select(Article.id, Article.status, Article.heat, Article.decided_by_id, Article.decided_at)
            .where(Article.id > last)
            .order_by(Article.id)
            .limit(REBUILD_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        facts = _facts(row.id for row in rows)
        batch_times = []
        for row in rows:
            counts.update(_import_keys(facts[row.id]))
            if _is_decided(row._mapping):
                keys, time_row = _decision(row._mapping, facts[row.id])
                counts.update(keys)
                batch_times.append(time_row | {"article_id": row.id})
        if batch_times:
            db.session.execute(insert(DecisionTime.__table__), batch_times)
            times += len(batch_times)
    merges = db.session.execute(
        select(AuditEvent.article_id, AuditEvent.actor_id, AuditEvent.created_at).where(
            AuditEvent.action == "merge", AuditEvent.article_id.is_not(None)
        )
    ).all()
    facts = _facts({merge.article_id for merge in merges})
    for article_id, actor_id, created_at in merges:
        name, domain, _, topics = facts[article_id]
        counts.update(arithmetic.merge_keys(created_at.date(), actor_id or 0, topics, name, domain))
    rows = [dict(zip(KEY_COLUMNS, key, strict=True)) | {"count": n} for key, n in sorted(counts.items())]
    for start in range(0, len(rows), REBUILD_BATCH):
        db.session.execute(insert(StatsRollup.__table__), rows[start : start + REBUILD_BATCH])
    db.session.add(RollupBuild(id=1, built_at=utcnow()))
    db.session.commit()
    return {"rollups": len(rows), "decision_times": times}


def dashboard(filters: stats.StatsFilters, now: datetime, stale_after: timedelta) -> stats.Dashboard:
    """The stats dashboard summed from the rollups (the full aggregation until they are built)."""
    if not is_built():
        return stats.dashboard(filters, now, stale_after)
    start, end = filters.window(now)
    period = _Period(filters, start.date(), (end - timedelta(microseconds=1)).date())
    board = stats.Dashboard(filters, start, end, figures={})
    board.per_day = stats.per_day_rows(dict(period.decisions(Rollup.day, Rollup.status)), start, end)
    approved = sum(row["approved"] for row in board.per_day)
    decided = approved + sum(row["rejected"] for row in board.per_day)
    pending = stats.pending_figures(filters, now, stale_after)
    times = period.decisions(Rollup.time_bucket, grain=BY_TIME)
    median, p90 = (period.exact_seconds(times, arithmetic.nearest_rank(rank, decided)) for rank in (0.5, 0.9))
    board.figures = {
        "decided": decided,
        "approved": approved,
        "rejected": decided - approved,
        "approval_rate": stats.rate(approved, decided),
        **pending,
        "median_seconds_to_decision": median,
        "p90_seconds_to_decision": p90,
        "merges": period.merges(),
    }
    board.per_moderator = period.per_moderator()
    board.backlog = stats.backlog_rows(
        start, end, now, pending["pending_now"], period.decisions_since_start(), period.imports_since_start()
    )
    board.time_to_decision = arithmetic.time_chart(times.items())
    approved_only = [Rollup.status == APPROVED]
    board.heat = arithmetic.heat_chart(
        period.decisions(Rollup.heat_bucket, grain=BY_HEAT, where=approved_only)
    )
    by_topic = period.decisions(Rollup.topics, grain=BY_TOPIC, where=approved_only)
    board.by_topic = stats.top(_topic_names(arithmetic.by_topic_id(by_topic.items())), stats.TOP_TOPICS)
    board.by_provider, board.per_outlet = period.providers()
    return board


Rollup = StatsRollup.__table__.c


class _Period:
    """Sums of the rollups over the days of a period, with the dashboard's filters."""

    def __init__(self, filters: stats.StatsFilters, first: date, last: date):
        self.first, self.last = first, last
        self.moderator = _id_of(User.id, User.username, filters.moderator)
        self.topic = _id_of(Topic.id, Topic.name, filters.topic)
        self.pattern = contains_pattern(filters.provider) if filters.provider else None
        self.by_article = bool(filters.topic or filters.provider)
        self.filtered = self.by_article or bool(filters.moderator)

    def _conditions(self, columns, moderator: bool = True) -> list:
        conditions = []
        if moderator and self.moderator is not _UNSET:
            conditions.append(columns.moderator_id == self.moderator if self.moderator else false())
        if self.topic is not _UNSET:
            topic = self.topic
            conditions.append(columns.topics.like(arithmetic.topic_pattern(topic)) if topic else false())
        if self.pattern:
            conditions.append(
                or_(
                    columns.provider_name.ilike(self.pattern, escape="\\"),
                    columns.provider_domain.ilike(self.pattern, escape="\\"),
                )
            )
        return conditions

    def _sum(self, grain: int, dims: tuple, where: list, since_start: bool = False) -> list:
        days = [Rollup.day >= self.first] + ([] if since_start else [Rollup.day <= self.last])
        return db.session.execute(
            select(*dims, func.sum(Rollup.count)).where(Rollup.grain == grain, *days, *where).group_by(*dims)
        ).all()

    def decisions(self, *dims, grain: int = BY_MODERATOR, where: tuple | list = ()) -> dict:
        """Decisions per value of `dims` (one column: keyed by its value), from `grain` unless filtered."""
        if self.filtered:
            grain, where = FINE, [*where, *self._conditions(Rollup)]
        rows = self._sum(grain, dims, list(where))
        return {(row[0] if len(dims) == 1 else tuple(row[:-1])): row[-1] for row in rows if row[-1]}

    def decisions_since_start(self) -> dict:
        if self.by_article:
            rows = self._sum(FINE, (Rollup.day,), self._conditions(Rollup, moderator=False), since_start=True)
        else:
            rows = self._sum(BY_MODERATOR, (Rollup.day,), [], since_start=True)
        return {row[0].isoformat(): row[1] for row in rows}

    def imports_since_start(self) -> dict:
        if self.by_article:
            conditions = self._conditions(Rollup, moderator=False)
            rows = self._sum(IMPORTS_FINE, (Rollup.day,), conditions, since_start=True)
        else:
            rows = self._sum(IMPORTS, (Rollup.day,), [], since_start=True)
        return {row[0].isoformat(): row[1] for row in rows}

    def merges(self) -> int:
        grain = MERGES_FINE if self.by_article else MERGES
        return sum(row[-1] or 0 for row in self._sum(grain, (), self._conditions(Rollup)))

    def per_moderator(self) -> list[dict]:
        counts = self.decisions(Rollup.moderator_id, Rollup.status)
        totals: Counter = Counter()
        for (moderator, _), count in counts.items():
            totals[moderator] += count
        names = dict(
            db.session.execute(select(User.id, User.username).where(User.id.in_(list(totals)))).all()
        )
        rows = sorted(
            ((names[each], each) for each in totals if each in names),
            key=lambda row: (-totals[row[1]], row[0]),
        )
        return [
            {
                "moderator": name,
                "approved": counts.get((each, APPROVED), 0),
                "rejected": counts.get((each, REJECTED), 0),
                "decided": totals[each],
                "approval_rate": stats.rate(counts.get((each, APPROVED), 0), totals[each]),
            }
            for name, each in rows
        ]

    def providers(self) -> tuple[list[dict], list[dict]]:
        """Approved per provider (the top, then "other"), and the busiest outlets with their medians."""
        counts = self.decisions(Rollup.provider_name, Rollup.status, grain=BY_PROVIDER)
        approved, decided = Counter(), Counter()
        for (name, status), count in counts.items():
            decided[name] += count
            if status == APPROVED:
                approved[name] += count
        by_provider = stats.top(arithmetic.ranked(approved), stats.TOP_PROVIDERS)
        busiest = arithmetic.ranked(decided)[: stats.TOP_OUTLETS]
        medians = self.outlet_medians({name: (count + 1) // 2 for name, count in busiest})
        outlets = [
            {
                "outlet": name,
                "decided": count,
                "approval_rate": stats.rate(approved[name], count),
                "median_seconds_to_decision": medians.get(name),
            }
            for name, count in busiest
        ]
        return by_provider, outlets

    def outlet_medians(self, ranks: dict[str, int]) -> dict[str, int]:
        if not ranks:
            return {}
        where = [Rollup.provider_name.in_(list(ranks))]
        counts = self.decisions(Rollup.provider_name, Rollup.time_bucket, grain=BY_PROVIDER_TIME, where=where)
        width = arithmetic.OUTLET_BUCKET
        histograms = defaultdict(list)
        for (name, bucket), count in counts.items():
            histograms[name].append((bucket // width if self.filtered else bucket, count))
        located = {name: arithmetic.locate(histograms[name], rank) for name, rank in ranks.items()}
        located = {name: spot for name, spot in located.items() if spot}
        if not located:
            return {}
        # One indexed look-up per outlet, its rank within its bucket: no window over all of them.
        times = DecisionTime.__table__.c
        lookups = [
            select(times.provider_name, times.seconds)
            .where(
                times.provider_name == name,
                times.time_bucket.between(bucket * width, bucket * width + width - 1),
                *self._time_conditions(),
            )
            .order_by(times.seconds)
            .offset(offset)
            .limit(1)
            .subquery()
            .select()
            for name, (bucket, offset) in located.items()
        ]
        rows = db.session.execute(union_all(*lookups)).all()
        return {name: round(seconds) for name, seconds in rows}

    def _time_conditions(self) -> list:
        times = DecisionTime.__table__.c
        return [times.day >= self.first, times.day <= self.last, *self._conditions(times)]

    def exact_seconds(self, histogram: dict[int, int], rank: int) -> int | None:
        """The rank-th smallest time to decision of the period (from 1), or None when there are none."""
        spot = arithmetic.locate(list(histogram.items()), rank) if rank else None
        if spot is None:
            return None
        times = DecisionTime.__table__.c
        seconds = db.session.scalar(
            select(times.seconds)
            .where(times.time_bucket == spot[0], *self._time_conditions())
            .order_by(times.seconds)
            .offset(spot[1])
            .limit(1)
        )
        return round(seconds)


_UNSET = object()


def _id_of(id_column, name_column, name: str):
    """The id of the row named `name`, 0 when there is none, _UNSET when no name is given."""
    if not name:
        return _UNSET
    return db.session.scalar(select(id_column).where(name_column == name)) or 0


def _topic_names(counts: Counter) -> list[tuple[str, int]]:
    names = dict(db.session.execute(select(Topic.id, Topic.name).where(Topic.id.in_(list(counts)))).all())
    return arithmetic.ranked({names[each]: count for each, count in counts.items() if each in names})
