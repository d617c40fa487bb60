"""One article: its panel (or page), and the moderation actions on it."""

import json

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from . import claims, moderation
from .auth import role_required, safe_next
from .models import APPROVED, REJECTED, Article, AuditEvent, db, utcnow
from .queue import stale_after
from .rendering import render, wants_fragment

bp = Blueprint("articles", __name__)


def get_article(article_id: int) -> Article:
    """The article with its related links and topics, or 404."""
    article = db.session.get(
        Article, article_id, options=[selectinload(Article.related), selectinload(Article.topics)], populate_existing=True
    )
    if article is None:
        abort(404, f"There is no article {article_id}: it may have been removed.")
    return article


def article_context(article: Article, **extra) -> dict:
    claim = claims.live_claims([article.id]).get(article.id)
    return {
        "article": article,
        "claim": claim,
        "claims": {article.id: claim} if claim else {},
        "history": moderation.history(article.id),
        "heat_max": current_app.config["HEAT_MAX"],
        "stale_after": stale_after(),
        "now": utcnow(),
        "errors": {},
        **extra,
    }


@bp.get("/articles/<int:article_id>")
@role_required("moderator")
def show(article_id: int):
    """The article beside the queue (htmx) or as a page of its own."""
    return render("articles/show.html", "articles/_panel.html", **article_context(get_article(article_id)))


@bp.get("/articles/<int:article_id>/row")
@role_required("moderator")
def row(article_id: int):
    """The article's queue row, for refreshing it in place."""
    return render("articles/show.html", "queue/_row.html", **article_context(get_article(article_id)))


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
    """Reject the article, with an optional reason."""
    reason = request.form.get("reason", "")[:500]
    return _act(article_id, lambda version: moderation.decide(article_id, current_user, REJECTED, version, reason))


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
    return _act(article_id, lambda version: moderation.set_heat(article_id, current_user, value, version, heat_max))


@bp.post("/events/<int:event_id>/undo")
@role_required("moderator")
def undo(event_id: int):
    """Undo one of the current user's own changes, if nobody changed the article since."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.actor_id != current_user.id or event.article_id is None:
        abort(404, "There is no change of yours to undo here.")
    return _act(event.article_id, lambda _version: moderation.undo(event_id, current_user), needs_version=False)


def _act(article_id: int, change, needs_version: bool = True):
    get_article(article_id)
    version = _submitted_version() if needs_version else None
    try:
        change(version)
    except moderation.Conflict:
        return _answer(article_id, 409, conflict=True)
    except moderation.InvalidInput as error:
        return _answer(article_id, 422, errors={error.field: str(error)}, submitted={error.field: request.form.get(error.field, "")})
    except LookupError as error:
        abort(404, str(error))
    return _answer(article_id, 200)


def _submitted_version() -> int:
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400, "The form did not say which version of the article it was made from: reload the page and try again.")
    return int(version)


def _answer(article_id: int, status: int, **extra):
    article = get_article(article_id)
    context = article_context(article, **extra)
    if not wants_fragment():
        if status == 200:
            target = request.form.get("next")
            return redirect(safe_next(target) if target else url_for("articles.show", article_id=article_id), code=303)
        return make_response(render_template("articles/show.html", **context), status)
    source = request.form.get("from", "panel")
    partial = "queue/_row.html" if source == "row" else "articles/_panel.html"
    response = make_response(render_template(partial, **context), status)
    other = "panel" if source == "row" else "row"
    triggers = {f"{other}-stale-{article_id}": True}
    if status == 200:
        triggers |= {"decisions-changed": True, "notice-changed": True}
    response.headers["HX-Trigger"] = json.dumps(triggers)
    response.vary.add("HX-Request")
    return response
