"""The notice line under the top bar: what just happened, with Undo while it is possible."""

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from ..models import AuditEvent
from ..services.moderation import latest_undoable
from .auth import role_required
from .rendering import htmx_answer

ACTION_WORDS = {
    "approve": "Approved",
    "reject": "Rejected",
    "reopen": "Returned to pending",
    "heat": "Heat set on",
    "merge": "Merged related links on",
    "unmerge": "Unmerged related links on",
    "absorb": "Added a duplicate's related links to",
    "undo": "Undid a change on",
}


bp = Blueprint("notices", __name__)


@dataclass
class Notice:
    message: str
    undo_event: AuditEvent | None = None


def undo_notice() -> Notice | None:
    """The current user's last change, offered for undo while the window is open."""
    if not current_user.is_authenticated:
        return None
    event = latest_undoable(current_user, current_app.config["UNDO_SECONDS"])
    if event is None:
        return None
    return Notice(f"{ACTION_WORDS.get(event.action, 'Changed')} “{event.article.title}”.", event)


def render_notice(notice: Notice | None) -> str:
    """The notice as an out-of-band swap, to send along with any htmx answer."""
    return render_template("_notice.html", notice=notice, oob=True)


def notice_response(message: str, status: int = 200, triggers: dict | None = None):
    """An htmx answer that only updates the notice (and fires `triggers` as events)."""
    return htmx_answer(render_notice(Notice(message)), status, triggers)


@bp.get("/notice")
@role_required("moderator")
def show():
    """The notice line as it stands: the user's last change while it can be undone."""
    return render_template("_notice.html", notice=undo_notice())


def init_app(app) -> None:
    app.context_processor(lambda: {"undo_seconds": app.config["UNDO_SECONDS"], "undo_notice": undo_notice})
