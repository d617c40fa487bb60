"""Moderation: approve, reject, reopen, set heat, undo and bulk decisions.

Every change names the article version the moderator saw and is applied with
`UPDATE ... WHERE version = :seen`, so a change made meanwhile by someone else is never
overwritten: the caller gets a `Conflict` instead. Each change writes its AuditEvent
(state before and after) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import aliased, joinedload

from ..models import PENDING, REJECTED, Article, AuditEvent, User, db, utcnow
from . import claims
from .actions import UNDOABLE, VERDICT_ACTIONS

STATE = (Article.status, Article.heat, Article.decided_by_id, Article.decided_at, Article.reject_reason)
MODERATION_COLUMNS = (*STATE, Article.version)


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


def decide(article_id: int, user: User, verdict: str, version: int, reason: str | None = None) -> dict:
    """Approve or reject one article; returns its audit event."""
    return _single(bulk_decide([(article_id, version)], user, verdict, reason), article_id)


def bulk_decide(items: list[tuple[int, int]], user: User, verdict: str, reason: str | None = None) -> Outcome:
    """Approve or reject several articles at once; those changed meanwhile are skipped."""
    if verdict not in VERDICT_ACTIONS:
        raise InvalidInput("verdict", f"verdict must be approved or rejected, got {verdict!r}")
    if verdict != REJECTED or not (reason or "").strip():
        reason = None
    changes = {
        "status": verdict,
        "decided_by_id": user.id,
        "decided_at": utcnow(),
        "reject_reason": reason and reason.strip(),
    }
    return _change(items, user, VERDICT_ACTIONS[verdict], changes, release_claims=True)


def reopen(article_id: int, user: User, version: int) -> dict:
    """Return a decided article to the queue."""
    changes = {"status": PENDING, "decided_by_id": None, "decided_at": None, "reject_reason": None}
    return _single(_change([(article_id, version)], user, "reopen", changes), article_id)


def set_heat(article_id: int, user: User, heat: str | int, version: int, heat_max: int) -> dict:
    """Set the editorial heat, a whole number from 0 to `heat_max`."""
    value = parse_heat(heat, heat_max)
    return _single(_change([(article_id, version)], user, "heat", {"heat": value}), article_id)


def parse_heat(heat: str | int, heat_max: int) -> int:
    """The heat as a number, or InvalidInput saying what is wrong with it."""
    text = str(heat).strip()
    if not text.isdigit() or not text.isascii():
        raise InvalidInput(
            "heat", f"Heat must be a whole number from 0 to {heat_max}; {text or 'nothing'!r} is not."
        )
    value = int(text)
    if value > heat_max:
        raise InvalidInput("heat", f"Heat must be a whole number from 0 to {heat_max}; {value} is too high.")
    return value


def undo(event_id: int, user: User) -> dict:
    """Put an article back as it was before one of `user`'s own events, if nothing changed since."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.actor_id != user.id or event.action not in UNDOABLE or event.article_id is None:
        raise LookupError(f"no change of yours numbered {event_id} can be undone")
    restored = {name: event.before[name] for name in ("status", "heat", "decided_by_id", "reject_reason")}
    restored["decided_at"] = _datetime(event.before["decided_at"])
    extra = {}
    if "merges" in event.before:
        from .merging import restore

        merges = event.before["merges"]
        extra = {
            "before": {"merges": event.after["merges"]},
            "after": {"merges": merges},
            "apply": lambda: restore(event.article_id, merges),
        }
    elif "absorbed" in event.before:
        from .merging import set_absorbed

        current, wanted = event.after["absorbed"], event.before["absorbed"]
        extra = {
            "before": {"absorbed": current},
            "after": {"absorbed": wanted},
            "apply": lambda: set_absorbed(event.article_id, current, wanted),
        }
    outcome = _change(
        [(event.article_id, event.after["version"])], user, "undo", restored, undoes=event.id, **extra
    )
    return _single(outcome, event.article_id)


def change_with_extra(
    article_id: int, version: int, user: User, action: str, before: dict, after: dict, apply
) -> dict:
    """A change to more than the article's own columns: `apply()` makes it, in the same transaction,
    once the version check has passed; `before` and `after` go into the audit event."""
    return _single(
        _change([(article_id, version)], user, action, {}, before=before, after=after, apply=apply),
        article_id,
    )


def _single(outcome: Outcome, article_id: int) -> dict:
    if outcome.missing:
        raise LookupError(f"There is no article {article_id}: it may have been removed.")
    if outcome.skipped:
        raise Conflict(article_id)
    return outcome.events[0]


def _change(
    items,
    user: User,
    action: str,
    changes: dict,
    release_claims=False,
    undoes=None,
    before=None,
    after=None,
    apply=None,
) -> Outcome:
    now = utcnow()
    ids = [article_id for article_id, _ in items]
    current = {row.id: row for row in db.session.execute(_STATEMENTS.current_state(), {"ids": ids})}
    outcome = Outcome()
    for article_id, seen_version in items:
        row = current.get(article_id)
        if row is None:
            outcome.missing.append(article_id)
            continue
        if row.version != seen_version or not _update(article_id, seen_version, changes, now):
            outcome.skipped.append(article_id)
            continue
        if apply is not None:
            apply()
        state_before = _state(row._mapping, row.version) | (before or {})
        state_after = _state({**state_before, **changes}, seen_version + 1) | (after or {})
        if undoes is not None:
            state_after["undoes"] = undoes
        outcome.events.append(
            {
                "created_at": now,
                "actor_id": user.id,
                "action": action,
                "article_id": article_id,
                "before": state_before,
                "after": state_after,
            }
        )
    if release_claims and outcome.events:
        claims.release_all([event["article_id"] for event in outcome.events])
    if outcome.events:
        ids = db.session.scalars(_STATEMENTS.insert_events(), outcome.events).all()
        for event, event_id in zip(outcome.events, ids, strict=True):
            event["id"] = event_id
    db.session.commit()
    return outcome


def _update(article_id: int, seen_version: int, changes: dict, now: datetime) -> bool:
    values = {f"new_{name}": value for name, value in changes.items()}
    statement = _STATEMENTS.update_state(tuple(sorted(changes)))
    result = db.session.execute(
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


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@cache
def _state_query():
    decider = aliased(User)
    query = (
        select(Article.id, Article.title, *MODERATION_COLUMNS, decider.username.label("decided_by_name"))
        .outerjoin(decider, decider.id == Article.decided_by_id)
        .where(Article.id == bindparam("article_id"))
    )
    return claims.with_live_claim(query)


def moderation_state(article_id: int, now: datetime | None = None):
    """What the moderation block shows, in one query: state, decider, version and live claim (or None)."""
    return (
        db.session.connection()
        .execute(_state_query(), {"article_id": article_id, "now": now or utcnow()})
        .one_or_none()
    )


def history(article_id: int) -> list[AuditEvent]:
    """Everything that happened to an article, newest first."""
    return db.session.scalars(
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.article_id == article_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    ).all()


def last_event(article_id: int) -> AuditEvent | None:
    """The latest change to an article, with who made it."""
    return db.session.scalar(
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.article_id == article_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )


def recent_decisions(user: User, limit: int = 10) -> list[AuditEvent]:
    """The user's own last decisions, newest first."""
    return db.session.scalars(
        select(AuditEvent)
        .options(
            joinedload(AuditEvent.article).load_only(
                Article.id, Article.title, Article.status, Article.version
            )
        )
        .where(AuditEvent.actor_id == user.id, AuditEvent.action.in_(VERDICT_ACTIONS.values()))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()


def latest_undoable(user: User, seconds: int) -> AuditEvent | None:
    """The user's last change, while it can still be undone from the notice."""
    event = db.session.scalar(
        select(AuditEvent)
        .options(joinedload(AuditEvent.article).load_only(Article.id, Article.title, Article.version))
        .where(AuditEvent.actor_id == user.id, AuditEvent.created_at > utcnow() - timedelta(seconds=seconds))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    if (
        event
        and event.action in UNDOABLE
        and event.article
        and event.article.version == event.after["version"]
    ):
        return event
    return None
