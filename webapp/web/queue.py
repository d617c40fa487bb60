"""The review queue: the list, its pages, bulk decisions, and the poll for others' changes."""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from markupsafe import Markup

from ..models import APPROVED, REJECTED, utcnow
from ..services import moderation
from ..services.filtering import InvalidCursor, parse_id, parse_time, parse_version
from ..services.listing import changed_since, filter_choices, parse_filters, queue_page, titles
from .answers import current_counts, poll_counts_html, stale_after
from .auth import role_required, safe_next
from .notices import notice_response
from .rendering import article_hrefs, fragment_or_page, htmx_answer, render

bp = Blueprint("queue", __name__)


@bp.get("/")
@role_required("moderator")
def index():
    """The queue: pending articles newest first, filtered and sorted by the URL."""
    filters, errors = parse_filters(request.args)
    try:
        page = queue_page(
            filters, request.args.get("after"), stale_after(), viewer_id=current_user.id, href=article_hrefs()
        )
    except InvalidCursor:
        abort(400, "That page link is broken: start again from the first page of the queue.")
    # The first page shows the counts (a fragment, out of band: the filters changed); the next pages not.
    # A filtered view's matches are counted here, as its first page is read; answers then adjust them.
    counts = None if request.args.get("after") else current_counts(filters, max_age=0)
    return render(
        "queue/index.html",
        "queue/_rows.html",
        status=400 if errors else 200,
        page_context=lambda: {
            "choices": filter_choices(),
            "recent": moderation.recent_decisions(current_user),
            "now": utcnow(),
            "page_counts": counts or current_counts(filters, max_age=0),
        },
        filters=filters,
        errors=errors,
        page=page,
        rows=page.rows,
        counts=counts,
    )


@bp.get("/queue/changes")
@role_required("moderator")
def changes():
    """Rows of the listed articles that changed since the last poll, swapped in place."""
    ids = [parse_id(value, "id") for value in request.args.getlist("id")]
    since = parse_time(request.args.get("since"), "since")
    now = utcnow()
    changed = changed_since(ids, since)
    # Each changed row refreshes itself in place: the list never jumps under the cursor.
    triggers = {"rows-stale": {"ids": changed}} if changed else None
    # With the counts, which others' decisions change too.
    poller = Markup(render_template("queue/_poller.html", since=now))
    return htmx_answer(poller + poll_counts_html(), triggers=triggers)


@bp.get("/decisions/recent")
@role_required("moderator")
def recent():
    """The moderator's own last ten decisions."""
    return render("queue/recent.html", "queue/_recent.html", recent=moderation.recent_decisions(current_user))


@bp.post("/queue/bulk")
@role_required("moderator")
def bulk():
    """Approve or reject the selected articles; those changed meanwhile are skipped and listed."""
    verdict = {"approve": APPROVED, "reject": REJECTED}.get(request.form.get("verdict", ""))
    items = _selected_items(request.form.getlist("article"))
    if verdict is None or not items:
        message = "Choose Approve or Reject." if verdict is None else "Select at least one article first."
        return _bulk_answer(message, [], status=422)
    outcome = moderation.bulk_decide(items, current_user, verdict, request.form.get("reason"))
    verb = "Approved" if verdict == APPROVED else "Rejected"
    message = f"{verb} {len(outcome.events)}."
    if outcome.skipped:
        skipped = "; ".join(titles(outcome.skipped))
        message += f" Skipped {len(outcome.skipped)} that someone changed meanwhile: {skipped}."
    if outcome.missing:
        message += f" {len(outcome.missing)} no longer exist."
    changed_ids = [event["article_id"] for event in outcome.events] + outcome.skipped
    return _bulk_answer(message, changed_ids)


def _selected_items(values: list[str]) -> list[tuple[int, int]]:
    """The (article id, version) pairs the ticked boxes carry as `id:version`; InvalidParameter for others."""
    items = []
    for value in values:
        article_id, _, version = value.partition(":")
        items.append((parse_id(article_id, "article"), parse_version(version)))
    return items


def _bulk_answer(message: str, changed_ids: list[int], status: int = 200):
    """htmx gets the message in the notice, and the changed rows refresh; a browser goes back to the queue."""
    triggers = {"rows-stale": {"ids": changed_ids}, "decisions-changed": True} if changed_ids else {}
    return fragment_or_page(
        lambda: notice_response(message, status=status, triggers=triggers), lambda: _back_to_queue(message)
    )


def _back_to_queue(message: str):
    flash(message)
    return redirect(safe_next(request.form.get("next")), code=303)
