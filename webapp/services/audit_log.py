"""The audit log: every moderation event and change to an account, newest first, filtered, in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import literal, select, tuple_

from ..formats.seeds import heat_label
from ..models import Article, AuditEvent, User, db
from .actions import ACCOUNT_ACTIONS, AUDITED
from .filtering import (
    InvalidParameter,
    end_of_day,
    format_cursor,
    moderator_id,
    parse_cursor,
    parse_days,
    parse_id,
    start_of_day,
)

ACTIONS = AUDITED  # the audit log filters on every action the tables name
COMMAND_LINE = "command line"  # who changed an account when no one was logged in
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    moderator: str = ""
    action: str = ""
    article: int | None = None
    start: date | None = None
    end: date | None = None

    def as_args(self) -> dict[str, str]:
        args = {"moderator": self.moderator, "action": self.action}
        args |= {
            "article": str(self.article) if self.article else "",
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }
        return {key: value for key, value in args.items() if value}


def parse_filters(args) -> tuple[AuditFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    action = args.get("action", "").strip()
    if action and action not in ACTIONS:
        errors["action"] = f"Action must be one of {', '.join(ACTIONS)}."
        action = ""
    article_text = args.get("article", "").strip().lstrip("#")
    article = None
    if article_text:
        try:
            article = parse_id(article_text, "Article")
        except InvalidParameter as error:
            errors["article"] = str(error)
    days, day_errors = parse_days(args, {"from": "From", "to": "To"})
    errors |= day_errors
    filters = AuditFilters(args.get("moderator", "").strip()[:80], action, article, days["from"], days["to"])
    return filters, errors


def audit_page(filters: AuditFilters, after: str | None, limit: int | None = None) -> tuple[list, str | None]:
    """One page of events newest first, after the cursor `after`; and the next page's cursor."""
    limit = limit or PAGE_SIZE
    query = (
        select(
            AuditEvent.id,
            AuditEvent.created_at,
            AuditEvent.action,
            AuditEvent.article_id,
            AuditEvent.before,
            AuditEvent.after,
            User.username.label("actor"),
            Article.title.label("title"),
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Article, Article.id == AuditEvent.article_id)
    )
    if filters.moderator:
        query = query.where(AuditEvent.actor_id == moderator_id(filters.moderator))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.article:
        query = query.where(AuditEvent.article_id == filters.article)
    if filters.start:
        query = query.where(AuditEvent.created_at >= start_of_day(filters.start))
    if filters.end:
        query = query.where(AuditEvent.created_at < end_of_day(filters.end))
    if after:
        moment, event_id = parse_cursor(after, datetime)
        position = tuple_(literal(moment, AuditEvent.created_at.type), literal(event_id))
        query = query.where(tuple_(AuditEvent.created_at, AuditEvent.id) < position)
    rows = db.session.execute(
        query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    ).all()
    next_cursor = format_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def actor_label(actor: str | None, action: str) -> str:
    """Who made a change: a username; a change to an account with none came from the command line."""
    return actor or (COMMAND_LINE if action in ACCOUNT_ACTIONS else "—")


def change_summary(action: str, before: dict | None, after: dict | None) -> str:
    """What an event changed, in a few words: "pending → approved", "heat 40 → 120"."""
    before, after = before or {}, after or {}
    if action in ACCOUNT_ACTIONS:
        return _account_summary(ACCOUNT_ACTIONS[action].done, before, after)
    parts = []
    if before.get("status") != after.get("status") and after.get("status"):
        parts.append(f"{before.get('status')} → {after.get('status')}")
    if before.get("heat") != after.get("heat") and "heat" in after:
        parts.append(f"heat {heat_label(before.get('heat'))} → {heat_label(after.get('heat'))}")
    if after.get("reject_reason"):
        parts.append(f"reason: {after['reject_reason']}")
    if "merges" in after:
        merged = sum(1 for target in after["merges"].values() if target is not None)
        parts.append(f"{merged} related links merged")
    if after.get("absorbed"):
        parts.append(f"related links added from #{after['absorbed']['from']}")
    return "; ".join(parts) or action


ACCOUNT_STATE = ("role", "active", "one_time")  # what an account event may record of the account


def _account_summary(done: str, before: dict, after: dict) -> str:
    """ "maria: role changed, moderator → lead": whose account, what was done, and the state it changed."""
    if before:
        changes = [
            f"{_account_value(key, before.get(key))} → {_account_value(key, after[key])}"
            for key in ACCOUNT_STATE
            if key in after and before.get(key) != after[key]
        ]
    else:  # created: the state it began with
        changes = [_account_value(key, after[key]) for key in ACCOUNT_STATE if key in after]
    return f"{after.get('user', '?')}: {', '.join([done, *changes])}"


def _account_value(key: str, value) -> str:
    if key == "active":
        return "active" if value else "disabled"
    if key == "one_time":
        return "one-time password" if value else "own password"
    return str(value)
