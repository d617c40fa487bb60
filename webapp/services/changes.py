"""One version-checked, audited change to articles: what every moderation action is made of.

Every change names the article version the moderator saw and is applied with
`UPDATE ... WHERE version = :seen`, so a change made meanwhile by someone else is never
overwritten: the caller gets a `Conflict` instead. Each change writes its AuditEvent
(state before and after) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, insert, select, update

from ..models import Article, AuditEvent, User, db, utcnow
from . import claims, metrics, rollups

STATE = (Article.status, Article.heat, Article.decided_by_id, Article.decided_at, Article.reject_reason)


class Conflict(Exception):
    """The article changed since the moderator saw it (or is gone)."""

    def __init__(self, article_id: int):
        super().__init__(f"article {article_id} changed since it was shown")
        self.article_id = article_id


class InvalidInput(ValueError):
    """A value the moderator typed is not acceptable; `field` names the input."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass
class Outcome:
    """What a change did: the events written, the articles skipped as changed meanwhile, and those gone."""

    events: list[dict] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    """A change to describe once and apply to one or more articles.

    `columns` are the article columns it sets. A change to more than those (merges, added
    links) gives `apply_extra`, called in the same transaction once the version check has
    passed, and what it changed as `before_extra` / `after_extra`, stored in the audit event.
    """

    action: str
    columns: dict = field(default_factory=dict)
    before_extra: dict | None = None
    after_extra: dict | None = None
    apply_extra: Callable[[], None] | None = None
    release_claims: bool = False
    undoes: int | None = None


def apply(
    items: list[tuple[int, int]], user: User, change: Change, *, also: Callable[[], None] | None = None
) -> Outcome:
    """Make `change` to each (article id, version seen) still at that version, audited, in one transaction."""
    return apply_each([(article_id, version, change) for article_id, version in items], user, also=also)


def apply_each(
    items: list[tuple[int, int, Change]], user: User, *, also: Callable[[], None] | None = None
) -> Outcome:
    """Make each (article id, version seen, change) whose article is still at that version, in one go.

    The events written together are a batch: each names its size (`"batch": n` in `after`) when there
    are several, so that the batch can be found again and undone as one (`undo.undo_batch`).
    `also()`, when given, runs in the same transaction once a change was made (none: it does not run).
    """
    now = utcnow()
    # Rows are changed in id order: two changes over the same rows then lock them in the same order
    # and wait for each other instead of deadlocking (bulk forms list rows in the queue's sort order).
    items = sorted(items, key=lambda item: item[:2])
    ids = [article_id for article_id, _, _ in items]
    # Core statements on the session's connection throughout: the ORM layer adds nothing to them but time.
    connection = db.session.connection()
    current = {row.id: row for row in connection.execute(_STATEMENTS.current_state(), {"ids": ids})}
    outcome = Outcome()
    released, conflicts, counted, merges = [], [], [], []
    for article_id, seen_version, change in items:
        row = current.get(article_id)
        if row is None:
            outcome.missing.append(article_id)
            continue
        if row.version != seen_version or not _update(article_id, seen_version, change.columns, now):
            outcome.skipped.append(article_id)
            conflicts.append(change.action)
            continue
        if change.apply_extra is not None:
            change.apply_extra()
        outcome.events.append(_event(change, user, article_id, row, seen_version, now))
        counted.append((article_id, row._mapping, {**row._mapping, **change.columns}))
        if change.action == "merge":
            merges.append((article_id, user.id, now))
        if change.release_claims:
            released.append(article_id)
    if released:
        claims.release_all(released)
    rollups.record_changes(counted, merges)
    if len(outcome.events) > 1:
        for event in outcome.events:
            event["after"]["batch"] = len(outcome.events)
    if outcome.events:
        ids = connection.execute(_STATEMENTS.insert_events(), outcome.events).scalars().all()
        for event, event_id in zip(outcome.events, ids, strict=True):
            event["id"] = event_id
        if also is not None:
            also()
    db.session.commit()
    metrics.count_changes([event["action"] for event in outcome.events], conflicts)
    return outcome


def apply_one(article_id: int, version: int, user: User, change: Change) -> dict:
    """Make `change` to one article seen at `version`; returns its audit event (see `single`)."""
    return single(apply([(article_id, version)], user, change), article_id)


def single(outcome: Outcome, article_id: int) -> dict:
    """The one event of a one-article change, or LookupError (gone) or Conflict (changed meanwhile)."""
    if outcome.missing:
        raise LookupError(f"There is no article {article_id}: it may have been removed.")
    if outcome.skipped:
        raise Conflict(article_id)
    return outcome.events[0]


def batch_of(event: AuditEvent) -> list[AuditEvent]:
    """The events written together with `event` (see `changes.apply_each`), itself included, by id."""
    if not event.after or not event.after.get("batch"):
        return [event]
    together = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.actor_id == event.actor_id,
            AuditEvent.created_at == event.created_at,
            AuditEvent.action == event.action,
        )
        .order_by(AuditEvent.id)
    ).all()
    return [each for each in together if each.after and each.after.get("batch")]


def _event(change: Change, user: User, article_id: int, row, seen_version: int, now: datetime) -> dict:
    state_before = _state(row._mapping, row.version) | (change.before_extra or {})
    state_after = _state({**state_before, **change.columns}, seen_version + 1) | (change.after_extra or {})
    if change.undoes is not None:
        state_after["undoes"] = change.undoes
    return {
        "created_at": now,
        "actor_id": user.id,
        "action": change.action,
        "article_id": article_id,
        "before": state_before,
        "after": state_after,
    }


def _update(article_id: int, seen_version: int, columns: dict, now: datetime) -> bool:
    values = {f"new_{name}": value for name, value in columns.items()}
    statement = _STATEMENTS.update_state(tuple(sorted(columns)))
    result = db.session.connection().execute(
        statement,
        {
            "article_id": article_id,
            "seen_version": seen_version,
            "new_version": seen_version + 1,
            "now": now,
            **values,
        },
    )
    return result.rowcount == 1


class _STATEMENTS:
    """The statements every decision runs, built once: SQLAlchemy then skips rebuilding their cache keys."""

    @staticmethod
    @cache
    def current_state():
        return select(Article.id, Article.version, *STATE).where(
            Article.id.in_(bindparam("ids", expanding=True))
        )

    @staticmethod
    @cache
    def update_state(names: tuple[str, ...]):
        table = Article.__table__
        values = {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in names}
        return (
            update(table)
            .where(table.c.id == bindparam("article_id"), table.c.version == bindparam("seen_version"))
            .values(
                **values,
                version=bindparam("new_version"),
                updated_at=bindparam("now", type_=table.c.updated_at.type),
            )
        )

    @staticmethod
    @cache
    def insert_events():
        return insert(AuditEvent.__table__).returning(AuditEvent.id, sort_by_parameter_order=True)


def _state(values, version: int) -> dict:
    decided_at = values["decided_at"]
    return {
        "status": values["status"],
        "heat": values["heat"],
        "decided_by_id": values["decided_by_id"],
        "decided_at": decided_at.isoformat() if isinstance(decided_at, datetime) else decided_at,
        "reject_reason": values["reject_reason"],
        "version": version,
    }
