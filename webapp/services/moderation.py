"""Moderation decisions: approve, reject (also as a duplicate of another article), reopen, set heat,
bulk decisions; and what the article's moderation block and history show.

Each decision is a `changes.Change`: version-checked and audited there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased, joinedload

from ..models import PENDING, REJECTED, Article, AuditEvent, Topic, User, article_topics, db, utcnow
from . import changes, claims, story_index
from .actions import UNDO, UNDOABLE, VERDICT_ACTIONS
from .changes import STATE, Change, InvalidInput, Outcome

MODERATION_COLUMNS = (*STATE, Article.version)
# Undos read to mark the recent decisions undone: more than a moderator makes while deciding ten.
UNDO_LOOKBACK = 1000


_DUPLICATE_REASON = re.compile(r"duplicate of #(\d+) ")


def decide(
    article_id: int,
    user: User,
    verdict: str,
    version: int,
    reason: str | None = None,
    *,
    also: Callable[[], None] | None = None,
) -> dict:
    """Approve or reject one article; returns its audit event. `also()` runs in the decision's
    transaction when the decision is made (claiming the next article, say), and not when it is refused."""
    return changes.single(bulk_decide([(article_id, version)], user, verdict, reason, also=also), article_id)


def bulk_decide(
    items: list[tuple[int, int]],
    user: User,
    verdict: str,
    reason: str | None = None,
    *,
    also: Callable[[], None] | None = None,
) -> Outcome:
    """Approve or reject several articles at once; those changed meanwhile are skipped."""
    if verdict not in VERDICT_ACTIONS:
        raise InvalidInput("verdict", f"verdict must be approved or rejected, got {verdict!r}")
    if verdict != REJECTED or not (reason or "").strip():
        reason = None
    columns = {
        "status": verdict,
        "decided_by_id": user.id,
        "decided_at": utcnow(),
        "reject_reason": reason and reason.strip(),
    }
    change = Change(VERDICT_ACTIONS[verdict], columns, release_claims=True)
    return changes.apply(items, user, change, also=also)


def reopen(article_id: int, user: User, version: int) -> dict:
    """Return a decided article to the queue."""
    columns = {"status": PENDING, "decided_by_id": None, "decided_at": None, "reject_reason": None}
    return changes.apply_one(article_id, version, user, Change("reopen", columns))


def set_heat(article_id: int, user: User, heat: str | int, version: int, heat_max: int) -> dict:
    """Set the editorial heat, a whole number from 0 to `heat_max`."""
    value = parse_heat(heat, heat_max)
    return changes.apply_one(article_id, version, user, Change("heat", {"heat": value}))


def parse_heat(heat: str | int, heat_max: int) -> int:
    """The heat as a number, or InvalidInput saying what is wrong with it."""
    text = str(heat).strip()
    if not text.isdigit() or not text.isascii():
        raise InvalidInput(
            "heat", f"Heat must be a whole number from 0 to {heat_max}; {text or 'nothing'!r} is not."
        )
    # Compared by length first: int() refuses numbers of more than 4,300 digits.
    if len(text.lstrip("0")) > len(str(heat_max)) or int(text) > heat_max:
        shown = text if len(text) <= 20 else f"{text[:20]}…"
        raise InvalidInput("heat", f"Heat must be a whole number from 0 to {heat_max}; {shown} is too high.")
    return int(text)


def mark_duplicate(article_id: int, other_id: int, user: User, version: int) -> dict:
    """Reject the article as a duplicate of another, naming it in the reason."""
    other = db.session.get(Article, other_id)
    if other is None or other_id == article_id:
        raise InvalidInput(
            "duplicate", f"There is no other article {other_id} to mark this one a duplicate of."
        )
    return decide(article_id, user, REJECTED, version, duplicate_reason(other))


def duplicate_reason(other: Article) -> str:
    """The reject reason naming the article this one duplicates (read back by `marked_duplicate_of`)."""
    return f"duplicate of #{other.id} “{other.title}”"[:500]


def marked_duplicate_of(status: str, reject_reason: str | None) -> int | None:
    """The article this one was rejected as a duplicate of (see `duplicate_reason`), if it was."""
    if status != REJECTED or not reject_reason:
        return None
    match = _DUPLICATE_REASON.match(reject_reason)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """An article this one may duplicate (the story index), and what has been done about the pair."""

    id: int
    title: str
    status: str
    version: int
    provider_name: str
    reason: str
    duplicate_of_this: bool  # it was rejected as a duplicate of this article
    links_added_here: bool  # its related links were added to this article's
    links_added_there: bool  # this article's related links were added to its

    @property
    def can_mark(self) -> bool:
        """Whether "Mark as duplicate of" it is offered: not once it is rejected (as a duplicate of
        this one or otherwise: this one may be the copy to keep), nor once it gave this one its links."""
        return self.status != REJECTED and not self.links_added_here


class CoveredTogether(NamedTuple):
    """An article whose related list holds this one, without a sign that both report one event."""

    id: int
    title: str
    status: str
    provider_name: str


def story_links(article_id: int) -> tuple[list[PossibleDuplicate], list[CoveredTogether]]:
    """The articles this one may duplicate (the same story), each with what the pair has been through,
    and those it is only covered together with (story_index's two kinds), oldest first, in one query."""
    duplicates, covered = [], []
    for match in story_index.matches_for(article_id):
        if match.kind == story_index.COVERED:
            covered.append(CoveredTogether(match.id, match.title, match.status, match.provider_name))
            continue
        duplicates.append(
            PossibleDuplicate(
                id=match.id,
                title=match.title,
                status=match.status,
                version=match.version,
                provider_name=match.provider_name,
                reason=match.reason,
                duplicate_of_this=marked_duplicate_of(match.status, match.reject_reason) == article_id,
                links_added_here=match.links_added_here,
                links_added_there=match.links_added_there,
            )
        )
    return duplicates, covered


def possible_duplicates(article_id: int) -> list[PossibleDuplicate]:
    """The articles this one may duplicate, oldest first (see `story_links`)."""
    return story_links(article_id)[0]


def covered_together(article_id: int) -> list[CoveredTogether]:
    """The articles this one is only covered together with, oldest first (see `story_links`)."""
    return story_links(article_id)[1]


@dataclass(frozen=True, slots=True)
class PanelArticle:
    """An article as its panel shows it (the seed as it came, its unknown keys and their order stay
    in the database: only the export reads them)."""

    id: int
    title: str
    status: str
    reject_reason: str | None
    provider_name: str
    provider_domain: str | None
    published_at: datetime
    seed_published: bool | None
    quality: int | None
    category: str
    type: str | None
    source_name: str
    secured: str | None
    excerpt: str | None
    web_url: str
    body: str
    images: list | None
    topics: tuple[str, ...]  # their names, in the seed's order


def load_article(article_id: int) -> PanelArticle | None:
    """The article as its panel shows it, or None (merging.related_view pages its related list).

    Two plain reads: as an ORM object with its topics, it cost more than the rest of the panel's data.
    """
    connection = db.session.connection()
    row = connection.execute(_panel_query(), {"article_id": article_id}).one_or_none()
    if row is None:
        return None
    topics = connection.execute(_topics_query(), {"article_id": article_id}).scalars()
    return PanelArticle(*row, topics=tuple(topics))


@cache
def _panel_query():
    names = [field.name for field in fields(PanelArticle) if field.name != "topics"]
    return select(*(getattr(Article, name) for name in names)).where(Article.id == bindparam("article_id"))


@cache
def _topics_query():
    return (
        select(Topic.name)
        .join(article_topics, article_topics.c.topic_id == Topic.id)
        .where(article_topics.c.article_id == bindparam("article_id"))
        .order_by(article_topics.c.position)
    )


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


class HistoryEntry(NamedTuple):
    """One thing that happened to an article, as its history shows it."""

    id: int
    action: str
    created_at: datetime
    actor_name: str | None  # None for the system (an import, a rebuild)


def history(article_id: int) -> list[HistoryEntry]:
    """Everything that happened to an article, newest first."""
    rows = db.session.connection().execute(_STATEMENTS.history(), {"article_id": article_id})
    return [HistoryEntry(*row) for row in rows]


def last_event(article_id: int) -> HistoryEntry | None:
    """The latest change to an article, with who made it."""
    row = db.session.connection().execute(_STATEMENTS.last_event(), {"article_id": article_id}).first()
    return HistoryEntry(*row) if row else None


class RecentDecision(NamedTuple):
    """One of the moderator's own decisions as the recent list shows it, and whether it was undone."""

    id: int
    action: str
    article_id: int | None
    title: str | None  # None once the article is removed
    created_at: datetime
    undone: bool


def recent_decisions(user: User, limit: int = 10) -> list[RecentDecision]:
    """The user's own last decisions, newest first, each saying whether it was undone since.

    An undone decision stays in the list, marked: the list is the moderator's own record of what
    they did, and a decision that vanished would leave them wondering whether it was ever made.
    """
    decisions = (
        db.session.connection()
        .execute(_STATEMENTS.recent_decisions(), {"actor_id": user.id, "limit": limit})
        .all()
    )
    undone = _undone(user, decisions[-1].created_at) if decisions else set()
    return [RecentDecision(*decision, undone=decision.id in undone) for decision in decisions]


def _undone(user: User, since: datetime) -> set[int]:
    """The ids of the user's events since `since` that an undo of theirs reverses, and no undo restored."""
    undos = db.session.connection().execute(_STATEMENTS.undos(), {"actor_id": user.id, "since": since}).all()
    # Only one undo of an event can succeed (it moves the article's version on), so this maps
    # each undone event to the undo that reversed it; an undo undone in turn put the event back.
    undone_by = {after["undoes"]: undo_id for undo_id, after in undos if after and "undoes" in after}

    def stands(event_id: int, depth: int = 0) -> bool:
        undo_id = undone_by.get(event_id)
        return undo_id is None or depth > len(undone_by) or not stands(undo_id, depth + 1)

    return {event_id for event_id in undone_by if not stands(event_id)}


def latest_undoable(user: User, seconds: int) -> AuditEvent | None:
    """The user's last change (or batch of changes, see `changes.batch_of`), while it can still be undone."""
    since = utcnow() - timedelta(seconds=seconds)
    event = db.session.scalar(_STATEMENTS.latest_change(), {"actor_id": user.id, "since": since})
    if event is None or event.action not in UNDOABLE or event.article is None:
        return None
    if event.article.version == event.after["version"]:
        return event
    if event.after.get("batch") and _any_as_left(changes.batch_of(event)):
        return event
    return None


def _any_as_left(events: list[AuditEvent]) -> bool:
    """Whether any of these events' articles is still as the event left it (so undoing it can work)."""
    left = {(event.article_id, event.after["version"]) for event in events}
    versions = db.session.execute(
        select(Article.id, Article.version).where(Article.id.in_([article_id for article_id, _ in left]))
    ).all()
    return any((article_id, version) in left for article_id, version in versions)


_NEWEST_FIRST = (AuditEvent.created_at.desc(), AuditEvent.id.desc())


class _STATEMENTS:
    """The statements every decision's answer runs, built once: SQLAlchemy then skips rebuilding their
    cache keys (as in changes._STATEMENTS)."""

    @staticmethod
    @cache
    def history():
        # Plain rows: the history shows four columns, not the events' before and after or their actors.
        return (
            select(AuditEvent.id, AuditEvent.action, AuditEvent.created_at, User.username)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.article_id == bindparam("article_id"))
            .order_by(*_NEWEST_FIRST)
        )

    @staticmethod
    @cache
    def last_event():
        return _STATEMENTS.history().limit(1)

    @staticmethod
    @cache
    def undos():
        since = bindparam("since", type_=AuditEvent.created_at.type)
        return (
            select(AuditEvent.id, AuditEvent.after)
            .where(
                AuditEvent.actor_id == bindparam("actor_id"),
                AuditEvent.action == UNDO,
                AuditEvent.created_at >= since,
            )
            .order_by(AuditEvent.id.desc())
            .limit(UNDO_LOOKBACK)
        )

    @staticmethod
    @cache
    def recent_decisions():
        return (
            select(
                AuditEvent.id, AuditEvent.action, AuditEvent.article_id, Article.title, AuditEvent.created_at
            )
            .outerjoin(Article, Article.id == AuditEvent.article_id)
            .where(
                AuditEvent.actor_id == bindparam("actor_id"),
                AuditEvent.action.in_(VERDICT_ACTIONS.values()),
            )
            .order_by(*_NEWEST_FIRST)
            .limit(bindparam("limit"))
        )

    @staticmethod
    @cache
    def latest_change():
        return (
            select(AuditEvent)
            .options(joinedload(AuditEvent.article).load_only(Article.id, Article.title, Article.version))
            .where(
                AuditEvent.actor_id == bindparam("actor_id"),
                AuditEvent.created_at > bindparam("since", type_=AuditEvent.created_at.type),
            )
            .order_by(*_NEWEST_FIRST)
            .limit(1)
        )
