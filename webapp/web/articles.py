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

from ..models import APPROVED, PENDING, REJECTED, utcnow
from ..services import changes, claims, merging, moderation
from ..services.filtering import INT_MAX, parse_id, parse_int, parse_version
from ..services.undo import TooLate, undone_article
from ..services.undo import undo as undo_event
from .answers import changed_parts, page_filters, rows_for, settle_match, stale_after, track_match
from .auth import role_required, safe_next
from .notices import notice_response
from .queue import queue_context
from .rendering import fragment_or_page, fragment_or_redirect, htmx_answer, wants_fragment

bp = Blueprint("articles", __name__)


def get_article(article_id: int) -> moderation.PanelArticle:
    """The article as its panel shows it, or 404."""
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


def article_context(article: moderation.PanelArticle, page: dict | None = None, **extra) -> dict:
    """The panel's data; `page` says where its related block starts (see `related_page`)."""
    context = moderation_context(get_moderation_state(article.id), **extra)
    matches, covered = moderation.story_links(article.id)
    return {
        **context,
        "article": article,
        "related": merging.related_view(article.id, **(page or {})),
        "matches": matches,
        "covered": covered,
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
    rows = rows_for([article_id])
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
    """Approve the article (and open `open_next`, the next pending article the page lists, if any)."""
    return _act(
        article_id,
        lambda version, also: moderation.decide(article_id, current_user, APPROVED, version, also=also),
        advance=True,
    )


@bp.post("/articles/<int:article_id>/reject")
@role_required("moderator")
def reject(article_id: int):
    """Reject the article, with an optional reason: a listed one, typed text, or both ("outdated: old"); then
    open `open_next`, as approve does."""
    listed, note = request.form.get("listed_reason", "").strip(), request.form.get("reason", "").strip()
    reason = ": ".join(part for part in (listed, note) if part)[:500]
    return _act(
        article_id,
        lambda version, also: moderation.decide(
            article_id, current_user, REJECTED, version, reason, also=also
        ),
        advance=True,
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
    article_id = undone_article(event_id)
    was_matching = track_match(article_id)
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
    settle_match(event["article_id"], was_matching)
    return _answer(event["article_id"], 200)


def _position(text: str | None, label: str) -> int:
    """A related entry's position as a form carries it (0 for the first)."""
    return parse_int(text, label, 0, INT_MAX)


def _act(article_id: int, change, advance: bool = False):
    """Make `change(version)`; with `advance`, `change(version, also)`, a decision that may open the next
    article: `also` then claims it in the decision's transaction (see `_next_to_open`)."""
    version = parse_version(request.form.get("version"))
    # Read before the change, so that a bad value is refused before anything is changed.
    open_next = request.form.get("open_next") if advance else None
    next_id = parse_id(open_next, "open_next") if open_next else None
    next_article = _next_to_open(next_id) if next_id != article_id else None
    was_matching = track_match(article_id)
    try:
        made = change(version, _claim_next(next_article)) if advance else change(version)
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
    settle_match(article_id, was_matching)
    return _answer(article_id, 200, next_id=next_id, next_article=next_article, made=made)


def _answer(article_id: int, status: int, **extra):
    """htmx gets the part of the page the form's `answer` names; a browser, the article or the `next` page."""
    return fragment_or_page(
        lambda: _fragment_answer(article_id, status, extra), lambda: _page_answer(article_id, status, extra)
    )


def _page_answer(article_id: int, status: int, extra: dict):
    for key in ("next_id", "next_article", "made"):
        extra.pop(key, None)
    if status == 200:
        target = request.form.get("next")
        return redirect(
            safe_next(target) if target else url_for("articles.show", article_id=article_id), code=303
        )
    if extra.get("conflict"):
        extra["last_event"] = moderation.last_event(article_id)
    return article_page(article_context(get_article(article_id), **extra), status)


def _fragment_answer(article_id: int, status: int, extra: dict):
    """The part the form's `answer` names; after a change, with every other part it changed out of band,
    or, after a decision with `open_next`, the next article's panel instead (see `_open_next`)."""
    answer = request.form.get("answer", "moderation")
    next_id = extra.pop("next_id", None)
    next_article = extra.pop("next_article", None)
    made = extra.pop("made", None)
    if answer in ("moderation", "panel") and extra.get("conflict"):
        extra["last_event"] = moderation.last_event(article_id)
    if status != 200:
        return htmx_answer(_part(article_id, answer, extra), status, _refresh_triggers(article_id, answer))
    row_ids = [article_id]
    if next_article is not None:
        return _open_next(article_id, next_article, made)
    if next_id is not None and answer == "moderation":
        row_ids.append(next_id)  # decided meanwhile: its row says so, and the panel stays here
    if answer == "moderation":
        body = _moderation_with_history(article_id, extra)
    else:
        body = Markup(_part(article_id, answer, extra))
    if answer == "row":
        row_ids.remove(article_id)
    triggers = None
    if answer in ("row", "none"):
        # The panel, when the page shows the article there (after a decision on its row, or an undo
        # from the notice), comes along; another panel showing it (a second tab's) refreshes itself.
        if request.form.get("panel") == str(article_id):
            body += _panel_oob(article_id)
        else:
            triggers = {f"panel-stale-{article_id}": True}
    return htmx_answer(body + changed_parts(row_ids, made), 200, triggers)


def _moderation_with_history(article_id: int, extra: dict) -> Markup:
    """The moderation block, and out of band the history (it gained an event): from one read of the
    moderation state, not the article. The panel's other forms send the block's version (app.js)."""
    context = moderation_context(get_moderation_state(article_id), **extra)
    parts = render_template("articles/_moderation.html", **context)
    context |= {
        "article": context["state"],  # the history reads only its id
        "history": moderation.history(article_id),
        "oob": True,
    }
    parts += render_template("articles/_history.html", **context)
    return Markup(parts)


def _panel_oob(article_id: int) -> Markup:
    """The article's panel as an out-of-band swap, claimed for the user as a panel opening claims it."""
    claims.claim(article_id, current_user, current_app.config["CLAIM_SECONDS"])
    context = article_context(get_article(article_id), claimed=True, panel_oob=True)
    return Markup("<template>" + render_template("articles/_panel.html", **context) + "</template>")


def _part(article_id: int, answer: str, extra: dict) -> str:
    """The part of the page the form's `answer` names: the moderation block, the panel, the row, or none."""
    if answer == "row":
        return render_template("queue/_rows.html", rows=rows_for([article_id]))
    if answer == "panel":
        return render_template("articles/_panel.html", **article_context(get_article(article_id), **extra))
    if answer == "moderation":
        return render_template(
            "articles/_moderation.html", **moderation_context(get_moderation_state(article_id), **extra)
        )
    return ""  # "none": the notice's Undo swaps nothing in place


def _refresh_triggers(article_id: int, answer: str) -> dict:
    """After a refusal (409, 422), the events by which the other parts showing the article refresh."""
    return {
        "row": {f"panel-stale-{article_id}": True},
        "panel": {"rows-stale": {"ids": [article_id]}},
        "moderation": {
            "rows-stale": {"ids": [article_id]},
            f"history-stale-{article_id}": True,
            f"related-stale-{article_id}": True,
        },
    }.get(answer, {"rows-stale": {"ids": [article_id]}, f"panel-stale-{article_id}": True})


def _next_to_open(next_id: int | None) -> moderation.PanelArticle | None:
    """The article a decision's answer opens next: `open_next`, when htmx swaps the moderation block and the
    article is still pending. Read before the decision, which then claims it (`_claim_next`)."""
    if next_id is None or not wants_fragment() or request.form.get("answer", "moderation") != "moderation":
        return None
    article = moderation.load_article(next_id)
    return article if article is not None and article.status == PENDING else None


def _claim_next(article: moderation.PanelArticle | None):
    """What claims the next article in the decision's own transaction: one commit, and a refused
    decision (a conflict) claims nothing."""
    if article is None:
        return None
    seconds = current_app.config["CLAIM_SECONDS"]
    return lambda: claims.claim(article.id, current_user, seconds, commit=False)


def _open_next(decided_id: int, article: moderation.PanelArticle, made: dict | None):
    """The next article's panel, claimed for the user by the decision (`_claim_next`), with the decided
    article's parts out of band."""
    panel = render_template("articles/_panel.html", **article_context(article, claimed=True))
    return htmx_answer(
        Markup(panel) + changed_parts([decided_id], made),
        target="#panel",
        # With the queue's filters, as opening it from its row would (a reload shows the same queue).
        push_url=url_for("articles.show", article_id=article.id, **page_filters().as_args()),
    )
