"""The notice line under the top bar: the user's last change with its Undo, while it can be undone.

A bulk decision shows its summary there, with one Undo for the whole batch.
"""

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user

from ..services.actions import UNDOABLE, notice_phrase
from ..services.moderation import latest_undoable
from .auth import role_required
from .rendering import htmx_answer

bp = Blueprint("notices", __name__)


@dataclass
class Notice:
    message: str
    undo_event_id: int | None = None
    batch_event_id: int | None = None  # an event of a batch (a bulk decision): its Undo undoes them all

    @property
    def undo_url(self) -> str | None:
        """Where the notice's Undo posts, if it offers one."""
        if self.batch_event_id is not None:
            return url_for("queue.undo_batch", event_id=self.batch_event_id)
        if self.undo_event_id is not None:
            return url_for("articles.undo", event_id=self.undo_event_id)
        return None


def undo_notice() -> Notice | None:
    """The current user's last change, offered for undo while the window is open."""
    if not current_user.is_authenticated:
        return None
    event = latest_undoable(current_user, current_app.config["UNDO_SECONDS"])
    if event is None:
        return None
    if event.after.get("batch"):
        return Notice(
            f"{notice_phrase(event.action)} {event.after['batch']} articles.", batch_event_id=event.id
        )
    return Notice(f"{notice_phrase(event.action)} “{event.article.title}”.", event.id)


def made_notice(event: dict, title: str) -> Notice | None:
    """The notice for a change this request has just made (`changes.single`'s event, of an article
    titled `title`): what `undo_notice` would read back, without reading it."""
    if event["action"] not in UNDOABLE or event["after"].get("batch"):
        return undo_notice()
    return Notice(f"{notice_phrase(event['action'])} “{title}”.", event["id"])


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
