"""Every action an audit event records, and the words people read for it: two tables, one for the
changes to articles and one for the changes to users' accounts.

Modules and templates take the phrases, the undoable actions and the verdicts from here;
none of them spells a phrase of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import APPROVED, REJECTED


@dataclass(frozen=True)
class Action:
    """One action: its name in the audit trail, how it reads, and what it allows."""

    name: str
    done: str  # after the fact: "approved" in "approved by maria 12 s ago"
    notice: str  # before the title in the notice: "Approved" in "Approved “title”."
    undoable: bool
    verdict: str | None = None  # the status a verdict decides; None for any other action


UNDO = "undo"  # the action of an undo, whose event names the event it reverses (`after["undoes"]`)

ACTIONS = {
    action.name: action
    for action in (
        Action("approve", "approved", "Approved", undoable=True, verdict=APPROVED),
        Action("reject", "rejected", "Rejected", undoable=True, verdict=REJECTED),
        Action("reopen", "returned to pending", "Returned to pending", undoable=True),
        Action("heat", "heat set", "Heat set on", undoable=True),
        Action("merge", "related links merged", "Merged related links on", undoable=True),
        Action("unmerge", "related links unmerged", "Unmerged related links on", undoable=True),
        Action(
            "absorb",
            "related links added from a duplicate",
            "Added a duplicate's related links to",
            undoable=True,
        ),
        Action(UNDO, "a change undone", "Undid a change on", undoable=True),
    )
}
NAMES = tuple(ACTIONS)
UNDOABLE = tuple(name for name, action in ACTIONS.items() if action.undoable)
VERDICT_ACTIONS = {action.verdict: name for name, action in ACTIONS.items() if action.verdict}


@dataclass(frozen=True)
class AccountAction:
    """A change to a user's account (no article): its name in the audit trail and how it reads."""

    name: str
    done: str  # after the fact: "role changed" in "maria: role changed, moderator → lead"


USER_CREATE = "user_create"
USER_ROLE = "user_role"
USER_DISABLE = "user_disable"
USER_ENABLE = "user_enable"
USER_PASSWORD_RESET = "user_password_reset"  # a one-time password, made by an admin
USER_PASSWORD_SET = "user_password_set"  # a password typed by an admin (`users set-password`)
USER_SESSIONS_END = "user_sessions_end"
PASSWORD_CHANGE = "password_change"  # by the user, of their own password

ACCOUNT_ACTIONS = {
    action.name: action
    for action in (
        AccountAction(USER_CREATE, "user created"),
        AccountAction(USER_ROLE, "role changed"),
        AccountAction(USER_DISABLE, "user disabled"),
        AccountAction(USER_ENABLE, "user enabled"),
        AccountAction(USER_PASSWORD_RESET, "one-time password made"),
        AccountAction(USER_PASSWORD_SET, "password set by an admin"),
        AccountAction(USER_SESSIONS_END, "sessions ended"),
        AccountAction(PASSWORD_CHANGE, "own password changed"),
    )
}
ACCOUNT_NAMES = tuple(ACCOUNT_ACTIONS)
AUDITED = NAMES + ACCOUNT_NAMES  # every action an audit event can name


def done_phrase(name: str) -> str:
    """How an action reads after the fact ("approved"); a name not in the tables reads as itself."""
    action = ACTIONS.get(name) or ACCOUNT_ACTIONS.get(name)
    return action.done if action else name


def notice_phrase(name: str) -> str:
    """The words before the title in the notice ("Approved"); "Changed" for a name not in the table."""
    action = ACTIONS.get(name)
    return action.notice if action else "Changed"
