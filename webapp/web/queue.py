"""The review queue: the list, its pages, bulk decisions and their undo, and the poll for others' changes."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from markupsafe import Markup

from ..models import APPROVED, REJECTED
from ..services import accounts, moderation
from ..services.changes import Outcome
from ..services.filtering import INT_MAX, InvalidCursor, parse_id, parse_int, parse_time, parse_version
from ..services.listing import (
    changed_since,
    filter_choices,
    first_poll,
    parse_filters,
    queue_page,
    titles,
)
from ..services.undo import TooLate
from ..services.undo import undo_batch as undo_batch_of
from .answers import changed_parts, current_counts, poll_counts_html, rows_for, stale_after
from .auth import role_required, safe_next
from .notices import Notice, notice_response
from .rendering import article_hrefs, fragment_or_page, htmx_answer, render

bp = Blueprint("queue", __name__)


@bp.get("/")
@role_required("moderator")
def index():
    """The queue: pending articles newest first, filtered and sorted by the URL."""
    filters, errors = parse_filters(request.args)
    page = _queue_page(filters, request.args.get("after"))
    # The first page shows the counts (a fragment, out of band: the filters changed); the next pages not.
    # A filtered view's matches are counted here, as its first page is read; answers then adjust them.
    counts = None if request.args.get("after") else current_counts(filters, max_age=0)
    return render(
        "queue/index.html",
        "queue/_filtered.html",
        status=422 if errors else 200,
        page_context=lambda: page_extras() | {"page_counts": counts or current_counts(filters, max_age=0)},
        filters=filters,
        errors=errors,
        page=page,
        rows=page.rows,
        counts=counts,
    )


def queue_context(args) -> dict:
    """The whole queue page's data for these query arguments: the article page shows the queue too."""
    filters, errors = parse_filters(args)
    page = _queue_page(filters, None)
    return {
        "filters": filters,
        "errors": errors,
        "page": page,
        "rows": page.rows,
        "page_counts": current_counts(filters, max_age=0),
        **page_extras(),
    }


def page_extras() -> dict:
    """What the whole queue page shows beside its rows: the filters' choices and recent decisions."""
    return {
        "choices": filter_choices(),
        "recent": moderation.recent_decisions(current_user),
        "poll": first_poll(),
    }


def _queue_page(filters, after: str | None):
    try:
        return queue_page(filters, after, stale_after(), viewer_id=current_user.id, href=article_hrefs())
    except InvalidCursor:
        abort(400, "That page link is broken: start again from the first page of the queue.")


@bp.get("/queue/changes")
@role_required("moderator")
def changes():
    """The rows changed since the last poll (`since`, `after`), a page at a time, for the page to swap in.

    Everyone's changes up to the highest id the page lists (`upto`): the page swaps in the rows it
    lists and whose version it does not show yet, in place, so the list never jumps under the cursor.
    """
    since = parse_time(request.args.get("since"), "since")
    after = parse_int(request.args.get("after") or "0", "after", 0, INT_MAX)
    upto = parse_id(request.args["upto"], "upto") if request.args.get("upto") else None
    page = changed_since(since, after, upto)
    rows = rows_for(page.ids) if page.ids else []
    # With the counts, which others' decisions change too.
    poller = Markup(render_template("queue/_poller.html", poll=page, rows=rows))
    return htmx_answer(poller + poll_counts_html())


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
        return _bulk_answer(Outcome(), message, status=422)
    reason = request.form.get("reason", "")[:500]
    outcome = moderation.bulk_decide(items, current_user, verdict, reason)
    verb = "Approved" if verdict == APPROVED else "Rejected"
    return _bulk_answer(outcome, f"{verb} {len(outcome.events)}.")


@bp.post("/batches/<int:event_id>/undo")
@role_required("moderator")
def undo_batch(event_id: int):
    """Undo one of the user's bulk decisions as a whole: every article of it nobody changed since."""
    try:
        outcome = undo_batch_of(event_id, current_user, current_app.config["UNDO_SECONDS"])
    except TooLate as error:
        # 409 like a conflict (the decisions stand): htmx swaps a 409, so the notice says why.
        message = str(error)
        return fragment_or_page(lambda: notice_response(message, status=409), lambda: abort(409, message))
    except LookupError as error:
        abort(404, str(error))
    count = len(outcome.events)
    return _bulk_answer(outcome, f"Undid {count} decision{'' if count == 1 else 's'}.")


@bp.post("/queue/compact")
@role_required("moderator")
def compact():
    """Show the queue one line per article, or in full rows again; remembered for this user."""
    choice = request.form.get("compact", "")
    next_url = safe_next(request.form.get("next"))
    if choice not in ("0", "1"):
        message = "Choose compact rows (compact=1) or full rows (compact=0)."
        return fragment_or_page(
            lambda: _density_answer(current_user.compact_rows, next_url, 422, message),
            lambda: _back_to_queue(message),
        )
    accounts.set_compact_rows(current_user.id, choice == "1")
    return fragment_or_page(
        lambda: _density_answer(choice == "1", next_url), lambda: redirect(next_url, code=303)
    )


def _density_answer(compact: bool, next_url: str, status: int = 200, error: str | None = None):
    """The toggle as it now stands; the page's table takes the class from the `rows-density` event."""
    body = render_template("queue/_density.html", compact=compact, next_url=next_url, density_error=error)
    return htmx_answer(body, status, triggers={"rows-density": {"compact": compact}})


def _selected_items(values: list[str]) -> list[tuple[int, int]]:
    """The (article id, version) pairs the ticked boxes carry as `id:version`; InvalidParameter for others."""
    items = []
    for value in values:
        article_id, _, version = value.partition(":")
        items.append((parse_id(article_id, "article"), parse_version(version)))
    return items


def _bulk_answer(outcome: Outcome, message: str, status: int = 200):
    """htmx gets, in one answer, the notice (with one Undo for the batch), every changed row and the
    recent decisions; a browser goes back to the queue with the message."""
    if outcome.skipped:
        skipped = "; ".join(titles(outcome.skipped))
        message += f" Skipped {len(outcome.skipped)} that someone changed meanwhile: {skipped}."
    if outcome.missing:
        message += f" {len(outcome.missing)} no longer exist."
    return fragment_or_page(lambda: _bulk_fragment(outcome, message, status), lambda: _back_to_queue(message))


def _bulk_fragment(outcome: Outcome, message: str, status: int):
    if not outcome.events and not outcome.skipped:
        return notice_response(message, status=status)
    undo_id = outcome.events[0]["id"] if outcome.events else None
    # Skipped rows too: they show what someone else made of them.
    changed_ids = [event["article_id"] for event in outcome.events] + outcome.skipped
    notice = Notice(message, batch_event_id=undo_id)
    return htmx_answer(changed_parts(changed_ids, notice=notice, recount=True), status)


def _back_to_queue(message: str):
    flash(message)
    return redirect(safe_next(request.form.get("next")), code=303)
