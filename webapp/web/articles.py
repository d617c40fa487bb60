"""One article: its panel (or page), and the moderation actions on it."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from ..models import APPROVED, REJECTED, Article, utcnow
from ..services import changes, claims, merging, moderation
from ..services.filtering import INT_MAX, parse_int, parse_version
from ..services.listing import queue_rows
from ..services.undo import TooLate
from ..services.undo import undo as undo_event
from .auth import role_required, safe_next
from .notices import notice_response
from .queue import queue_context, stale_after
from .rendering import article_hrefs, fragment_or_page, fragment_or_redirect, htmx_answer

bp = Blueprint("articles", __name__)


def get_article(article_id: int) -> Article:
    """The article with its related links, suggestions and topics, or 404."""
    article = moderation.load_article(article_id)
    if article is None:
        abort(404, f"There is no article {article_id}: it may have been removed.")
    return article


def get_moderation_state(article_id: int):
    """The moderation block's data for the article, or 404."""
    state = moderation.moderation_state(article_id)
    if state is None:
        abort(404, f"There is no article {article_id}: it may have been removed.")
    return state


def moderation_context(state, **extra) -> dict:
    return {
        "state": state,
        "claimed_by_other": bool(state.claimed_by and state.claimed_by_id != current_user.id),
        "heat_max": current_app.config["HEAT_MAX"],
        "now": utcnow(),
        "errors": {},
        **extra,
    }


def article_context(article: Article, page: dict | None = None, **extra) -> dict:
    """The panel's data; `page` says where its related block starts (see `related_page`)."""
    context = moderation_context(get_moderation_state(article.id), **extra)
    return {
        **context,
        "article": article,
        "related": merging.related_view(article.id, **(page or {})),
        "matches": moderation.possible_duplicates(article.id),
        "duplicate_of": moderation.marked_duplicate_of(article.status, article.reject_reason),
        "history": moderation.history(article.id),
        "stale_after": stale_after(),
        # Renewed halfway through, so an open panel's claim never lapses between renewals.
        "claim_renewal_seconds": max(1, current_app.config["CLAIM_SECONDS"] // 2),
    }


@bp.get("/articles/<int:article_id>")
@role_required("moderator")
def show(article_id: int):
    """The article's panel (htmx), or the queue with the article open: a reload, a shared link, no JS."""
    return _panel_or_page("articles/_panel.html", article_context(get_article(article_id)))


def article_page(context: dict, status: int = 200) -> Response:
    """The queue page, filtered by the query string, with the article (`context`) open in its panel.

    What a browser gets for /articles/N: a reload or a shared link lands on the desk as it was, and
    without JavaScript it is the article's page (its forms are plain forms, its rows plain links).
    """
    panel = Markup(render_template("articles/_panel.html", **context))
    page = render_template(
        "queue/index.html", panel=panel, page_title=context["article"].title, **queue_context(request.args)
    )
    return make_response(page, status)


def _panel_or_page(partial: str, context: dict) -> Response:
    """htmx gets `partial` of the article's panel; a browser, the queue with the article open."""
    return fragment_or_page(
        lambda: make_response(render_template(partial, **context)), lambda: article_page(context)
    )


@bp.get("/articles/<int:article_id>/row")
@role_required("moderator")
def row(article_id: int):
    """The article's queue row, for refreshing it in place (a browser gets the article page)."""
    rows = _queue_row(article_id)
    if not rows:
        abort(404, f"There is no article {article_id}: it may have been removed.")
    return fragment_or_redirect(
        "queue/_rows.html", url_for("articles.show", article_id=article_id), rows=rows
    )


@bp.get("/articles/<int:article_id>/history")
@role_required("moderator")
def history(article_id: int):
    """What happened to the article, newest first (a browser gets the article page)."""
    return fragment_or_redirect(
        "articles/_history.html",
        url_for("articles.show", article_id=article_id),
        article=get_moderation_state(article_id),
        history=moderation.history(article_id),
        now=utcnow(),
    )


@bp.post("/articles/<int:article_id>/claim")
@role_required("moderator")
def claim(article_id: int):
    """Mark the article as being reviewed by the current user for a few minutes."""
    get_article(article_id)
    claims.claim(article_id, current_user, current_app.config["CLAIM_SECONDS"])
    return "", 204


@bp.post("/articles/<int:article_id>/approve")
@role_required("moderator")
def approve(article_id: int):
    """Approve the article."""
    return _act(article_id, lambda version: moderation.decide(article_id, current_user, APPROVED, version))


@bp.post("/articles/<int:article_id>/reject")
@role_required("moderator")
def reject(article_id: int):
    """Reject the article, with an optional reason: a listed one, typed text, or both ("outdated: old")."""
    listed, note = request.form.get("listed_reason", "").strip(), request.form.get("reason", "").strip()
    reason = ": ".join(part for part in (listed, note) if part)[:500]
    return _act(
        article_id, lambda version: moderation.decide(article_id, current_user, REJECTED, version, reason)
    )


@bp.post("/articles/<int:article_id>/reopen")
@role_required("moderator")
def reopen(article_id: int):
    """Return a decided article to pending."""
    return _act(article_id, lambda version: moderation.reopen(article_id, current_user, version))


@bp.post("/articles/<int:article_id>/heat")
@role_required("moderator")
def heat(article_id: int):
    """Set the article's heat."""
    value = request.form.get("heat", "")
    heat_max = current_app.config["HEAT_MAX"]
    return _act(
        article_id, lambda version: moderation.set_heat(article_id, current_user, value, version, heat_max)
    )


@bp.get("/articles/<int:article_id>/related")
@role_required("moderator")
def related(article_id: int):
    """The related block after a change, or its next page of groups (`groups_after`) or entries
    (`entries_after`) for "Show more"; a browser gets the article page, showing that page."""
    page = related_page()
    context = article_context(get_article(article_id), page)
    if not page:
        return fragment_or_redirect(
            "articles/_related.html", url_for("articles.show", article_id=article_id), **context
        )
    partial = "articles/_related_groups.html" if "groups_after" in page else "articles/_related_entries.html"
    return _panel_or_page(partial, context)


def related_page() -> dict:
    """Where the related block starts: the last suggestion id and the last position already shown."""
    page = {}
    for name in ("groups_after", "entries_after"):
        value = request.args.get(name)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit() and len(value) <= 9):
            abort(
                400,
                f"{name} must be a whole number (a suggestion id or an entry position), not {value[:40]!r}.",
            )
        page[name] = int(value)
    return page


@bp.post("/articles/<int:article_id>/merge")
@role_required("moderator")
def merge(article_id: int):
    """Merge the chosen related entries into one (the chosen `canonical`, or the best)."""
    positions = [_position(value, "position") for value in request.form.getlist("position")]
    keep = _position(request.form["canonical"], "canonical") if request.form.get("canonical") else None
    return _act(article_id, lambda version: merging.merge(article_id, current_user, version, positions, keep))


@bp.post("/articles/<int:article_id>/unmerge")
@role_required("moderator")
def unmerge(article_id: int):
    """Show the entries merged into one related entry again, where they were."""
    canonical = _position(request.form.get("canonical"), "canonical")
    return _act(article_id, lambda version: merging.unmerge(article_id, current_user, version, canonical))


@bp.post("/articles/<int:article_id>/duplicate-of/<int:other_id>")
@role_required("moderator")
def mark_duplicate(article_id: int, other_id: int):
    """Reject the article as a duplicate of another ("duplicate of #12 “…”")."""
    return _act(
        article_id, lambda version: moderation.mark_duplicate(article_id, other_id, current_user, version)
    )


@bp.post("/articles/<int:article_id>/absorb/<int:source_id>")
@role_required("moderator")
def absorb(article_id: int, source_id: int):
    """Add the related links of a duplicate (`source_id`) to this article's; answers with its panel."""
    return _act(article_id, lambda version: merging.absorb(article_id, current_user, version, source_id))


@bp.post("/events/<int:event_id>/undo")
@role_required("moderator")
def undo(event_id: int):
    """Undo one of the user's own recent changes, if nobody changed the article since (else 404 or 409)."""
    try:
        event = undo_event(event_id, current_user, current_app.config["UNDO_SECONDS"])
    except changes.Conflict as conflict:
        return _answer(conflict.article_id, 409, conflict=True)
    except TooLate as error:
        # 409 like a conflict (the change stands as it is): htmx swaps a 409, so the notice says why.
        message = str(error)
        return fragment_or_page(lambda: notice_response(message, status=409), lambda: abort(409, message))
    except LookupError as error:
        abort(404, str(error))
    return _answer(event["article_id"], 200)


def _position(text: str | None, label: str) -> int:
    """A related entry's position as a form carries it (0 for the first)."""
    return parse_int(text, label, 0, INT_MAX)


def _act(article_id: int, change):
    version = parse_version(request.form.get("version"))
    try:
        change(version)
    except changes.Conflict:
        return _answer(article_id, 409, conflict=True)
    except changes.InvalidInput as error:
        return _answer(
            article_id,
            422,
            errors={error.field: str(error)},
            submitted={error.field: request.form.get(error.field, "")},
        )
    except LookupError as error:
        abort(404, str(error))
    return _answer(article_id, 200)


def _answer(article_id: int, status: int, **extra):
    """htmx gets the part of the page the form's `answer` names; a browser, the article or the `next` page."""
    return fragment_or_page(
        lambda: _fragment_answer(article_id, status, extra), lambda: _page_answer(article_id, status, extra)
    )


def _page_answer(article_id: int, status: int, extra: dict):
    if status == 200:
        target = request.form.get("next")
        return redirect(
            safe_next(target) if target else url_for("articles.show", article_id=article_id), code=303
        )
    if extra.get("conflict"):
        extra["last_event"] = moderation.last_event(article_id)
    return article_page(article_context(get_article(article_id), **extra), status)


def _fragment_answer(article_id: int, status: int, extra: dict):
    answer = request.form.get("answer", "moderation")
    if answer in ("moderation", "panel") and extra.get("conflict"):
        extra["last_event"] = moderation.last_event(article_id)
    if answer == "row":
        body = render_template("queue/_rows.html", rows=_queue_row(article_id))
        triggers = {f"panel-stale-{article_id}": True}
    elif answer == "panel":
        body = render_template("articles/_panel.html", **article_context(get_article(article_id), **extra))
        triggers = {"rows-stale": {"ids": [article_id]}}
    elif answer == "moderation":
        body = render_template(
            "articles/_moderation.html", **moderation_context(get_moderation_state(article_id), **extra)
        )
        triggers = {
            "rows-stale": {"ids": [article_id]},
            f"history-stale-{article_id}": True,
            f"related-stale-{article_id}": True,
        }
    else:
        # "none" (the notice's Undo) swaps nothing in place: whatever shows the article refreshes itself.
        body = ""
        triggers = {"rows-stale": {"ids": [article_id]}, f"panel-stale-{article_id}": True}
    if status == 200:
        triggers |= {"decisions-changed": True, "notice-changed": True}
    return htmx_answer(body, status, triggers)


def _queue_row(article_id: int) -> list:
    """The article's queue row (a list of one, or none), as the current user sees it."""
    return queue_rows([article_id], stale_after(), viewer_id=current_user.id, href=article_hrefs())
