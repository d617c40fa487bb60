"""Every action an audit event records, and the words people read for it: one table.

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


def done_phrase(name: str) -> str:
    """How an action reads after the fact ("approved"); a name not in the table reads as itself."""
    action = ACTIONS.get(name)
    return action.done if action else name


def notice_phrase(name: str) -> str:
    """The words before the title in the notice ("Approved"); "Changed" for a name not in the table."""
    action = ACTIONS.get(name)
    return action.notice if action else "Changed"
