"""The parts of the page an htmx answer carries out of band, so that one request refreshes all it changed.

An action's answer swaps the part its form names (articles._answer) and, with it, the article's
queue row, the notice with its Undo, the recent decisions and the queue's counts: no part fetches
itself again after a change. The page says which queue it shows by sending its filter form as one
parameter, `filters` (static/js/app.js): once an article is open the address bar holds
`/articles/N`, not the queue's filters, so `HX-Current-URL` would not tell.
"""

from datetime import timedelta
from urllib.parse import parse_qsl

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..services.counts import QueueCounts, queue_counts
from ..services.listing import QueueFilters, RowView, parse_filters, queue_rows
from ..services.moderation import recent_decisions
from .notices import render_notice, undo_notice
from .rendering import article_hrefs, rows_oob_html

FILTERS_MAX = 2000  # characters of `filters` read: the form's fields are 200 characters each at most


def stale_after() -> timedelta:
    return timedelta(hours=current_app.config["STALE_AFTER_HOURS"])


def page_filters() -> QueueFilters:
    """The filters of the queue the request came from (`filters`, a query string), or the defaults.

    A bad value falls back to its default: the queue itself says what was wrong with it.
    """
    filters, _errors = parse_filters(MultiDict(parse_qsl(request.values.get("filters", "")[:FILTERS_MAX])))
    return filters


def current_counts(filters: QueueFilters | None = None) -> QueueCounts:
    """The queue's counts for the current user and `filters` (by default, those the page sent)."""
    return queue_counts(filters or page_filters(), current_user.id, stale_after())


def counts_html(counts: QueueCounts | None = None) -> Markup:
    """The counts line as an out-of-band swap."""
    return Markup(render_template("queue/_counts.html", counts=counts or current_counts(), oob=True))


def rows_for(article_ids: list[int]) -> list[RowView]:
    """These articles' queue rows, as the current user sees them."""
    return queue_rows(article_ids, stale_after(), viewer_id=current_user.id, href=article_hrefs())


def changed_parts(row_ids: list[int]) -> Markup:
    """Out of band: the rows of `row_ids`, the notice, the recent decisions and the counts, as they stand."""
    parts = [
        render_notice(undo_notice()),
        render_template("queue/_recent.html", recent=recent_decisions(current_user), oob=True),
        counts_html(),
    ]
    # In <template>s: rows need one to survive the parser, and the other parts must not land in a table.
    rows = rows_oob_html(rows_for(row_ids)) if row_ids else Markup()
    return rows + Markup("<template>" + "\n".join(parts) + "</template>")
