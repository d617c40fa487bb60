"""Undo: put an article back as it was before one of the user's own changes, a decision or a merge;
or put back every article of one of their batches (a bulk decision) at once.

An undo is itself a change (`changes.Change`, action "undo"): version-checked against the
state the undone event left, audited, and undoable in turn. It is offered for `UNDO_SECONDS`
and refused after that (plus `GRACE`) here on the server, whatever the browser still shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import AuditEvent, User, db, utcnow
from . import changes
from .actions import UNDO, UNDOABLE
from .merging import restore, set_absorbed

DEFAULT_WINDOW_SECONDS = 10  # UNDO_SECONDS' default
# The browser hides Undo UNDO_SECONDS after the answer arrived; a click at the last moment still
# has to travel and wait for a worker. Two seconds cover that, not a deliberate late replay.
GRACE = timedelta(seconds=2)


class TooLate(Exception):
    """The undo window of the event has closed."""


def undo(
    event_id: int, user: User, window_seconds: int = DEFAULT_WINDOW_SECONDS, now: datetime | None = None
) -> dict:
    """Undo one of `user`'s own events if nothing changed since and it is recent; returns the undo's event.

    LookupError when there is no such undoable event of theirs, TooLate when it is older than
    `window_seconds` (and the grace), Conflict when the article changed since.
    """
    event = _recent_event_of(event_id, user, window_seconds, now)
    return changes.apply_one(event.article_id, event.after["version"], user, _undo_change(event))


def undo_batch(
    event_id: int, user: User, window_seconds: int = DEFAULT_WINDOW_SECONDS, now: datetime | None = None
) -> changes.Outcome:
    """Undo every change of the batch `event_id` belongs to (a bulk decision), in one transaction.

    Each article is undone on its own terms, as it was decided: one that changed since (someone
    decided it again, or the user undid it alone) is left as it is and listed in `skipped`, and
    the rest are undone. Refusing the whole batch for one article would leave the moderator to
    undo the others one by one, against the same window. The undos are themselves a batch, audited
    as one "undo" event per article (naming the event it reverses), undoable as one in turn.
    LookupError and TooLate as `undo`.
    """
    event = _recent_event_of(event_id, user, window_seconds, now)
    items = [(each.article_id, each.after["version"], _undo_change(each)) for each in changes.batch_of(event)]
    return changes.apply_each([item for item in items if item[0] is not None], user)


def _recent_event_of(event_id: int, user: User, window_seconds: int, now: datetime | None) -> AuditEvent:
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.actor_id != user.id or event.action not in UNDOABLE or event.article_id is None:
        raise LookupError(f"There is no change of yours numbered {event_id} to undo.")
    if (now or utcnow()) - event.created_at >= timedelta(seconds=window_seconds) + GRACE:
        raise TooLate(
            f"Too late to undo: a change can be undone for {window_seconds} seconds after it is made."
        )
    return event


def _undo_change(event: AuditEvent) -> changes.Change:
    return changes.Change(UNDO, _restored_columns(event.before), undoes=event.id, **_extra(event))


def undone_article(event_id: int) -> int | None:
    """The article the event changed, if there is such an event (read once: `undo` then finds it loaded)."""
    event = db.session.get(AuditEvent, event_id)
    return event.article_id if event else None


def _restored_columns(before: dict) -> dict:
    restored = {name: before[name] for name in ("status", "heat", "decided_by_id", "reject_reason")}
    restored["decided_at"] = datetime.fromisoformat(before["decided_at"]) if before["decided_at"] else None
    return restored


def _extra(event: AuditEvent) -> dict:
    """What else the undo puts back besides the article's columns: its merges or the links it took in."""
    if "merges" in event.before:
        merges = event.before["merges"]
        return {
            "before_extra": {"merges": event.after["merges"]},
            "after_extra": {"merges": merges},
            "apply_extra": lambda: restore(event.article_id, merges),
        }
    if "absorbed" in event.before:
        current, wanted = event.after["absorbed"], event.before["absorbed"]
        return {
            "before_extra": {"absorbed": current},
            "after_extra": {"absorbed": wanted},
            "apply_extra": lambda: set_absorbed(event.article_id, current, wanted),
        }
    return {}
