"""The parts of the page an htmx answer carries out of band, so that one request refreshes all it changed.

An action's answer swaps the part its form names (articles._answer) and, with it, the article's
queue row, the notice with its Undo, the recent decisions and the queue's counts: no part fetches
itself again after a change. The page says which queue it shows by sending its filter form as one
parameter, `filters` (static/js/app.js): once an article is open the address bar holds
`/articles/N`, not the queue's filters, so `HX-Current-URL` would not tell.
"""

from datetime import timedelta
from urllib.parse import parse_qsl

from flask import current_app, g, render_template, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..services.counts import MATCH_TTL_SECONDS, MatchCounts, QueueCounts, queue_counts
from ..services.listing import QueueFilters, RowView, matches, parse_filters, queue_rows
from ..services.moderation import recent_decisions
from .notices import Notice, made_notice, render_notice, undo_notice
from .rendering import article_hrefs, rows_oob_html

FILTERS_MAX = 2000  # characters of `filters` read: the form's fields are 200 characters each at most


def stale_after() -> timedelta:
    return timedelta(hours=current_app.config["STALE_AFTER_HOURS"])


def page_filters() -> QueueFilters:
    """The filters of the queue the request came from (`filters`, a query string), or the defaults.

    A bad value falls back to its default: the queue itself says what was wrong with it.
    """
    if "page_filters" not in g:  # asked for by the counts, the match tracking and the pushed URL alike
        query = request.values.get("filters", "")[:FILTERS_MAX]
        g.page_filters, _errors = parse_filters(MultiDict(parse_qsl(query)))
    return g.page_filters


def current_counts(filters: QueueFilters | None = None, max_age: float | None = None) -> QueueCounts:
    """The queue's counts for the current user and `filters` (by default, those the page sent).

    A filtered view's matches are counted afresh with `max_age=0` (the queue's first page), when
    older than `max_age` seconds (the poll), and else, by default (a change's answer), taken as this
    database keeps them, adjusted by `track_match` / `settle_match` (see `services.counts.MatchCounts`).
    """
    return queue_counts(
        filters or page_filters(), current_user.id, stale_after(), kept=_match_counts(), max_age=max_age
    )


def counts_html(counts: QueueCounts | None = None, max_age: float | None = None) -> Markup:
    """The counts line as an out-of-band swap."""
    counts = counts or current_counts(max_age=max_age)
    return Markup(render_template("queue/_counts.html", counts=counts, oob=True))


def poll_counts_html() -> Markup:
    """The counts line for the poll: a filtered view's matches counted again at most every few seconds."""
    return counts_html(max_age=MATCH_TTL_SECONDS)


def track_match(article_id: int | None) -> bool | None:
    """Before a change to the article: whether the page's filters match it, when the database keeps a
    count of their matches (else None: nothing to adjust). Pass it to `settle_match` after the change."""
    if article_id is None or not _match_counts().tracks(page_filters()):
        return None
    return matches(page_filters(), stale_after(), article_id)


def settle_match(article_id: int, was_matching: bool | None) -> None:
    """After a change to the article: count it in or out of the page's filtered view (see `track_match`)."""
    if was_matching is not None:
        filters = page_filters()
        _match_counts().adjust(filters, was_matching, matches(filters, stale_after(), article_id))


def _match_counts() -> MatchCounts:
    return current_app.extensions["match_counts"]


def init_app(app) -> None:
    # Holds nothing but its clock: the counts are in the database, the same for every process.
    app.extensions["match_counts"] = MatchCounts()


def rows_for(article_ids: list[int]) -> list[RowView]:
    """These articles' queue rows, as the current user sees them."""
    return queue_rows(article_ids, stale_after(), viewer_id=current_user.id, href=article_hrefs())


def changed_parts(
    row_ids: list[int], made: dict | None = None, *, notice: Notice | None = None, recount: bool = False
) -> Markup:
    """Out of band: the rows of `row_ids`, the notice, the recent decisions and the counts, as they stand.

    `made`, the event of the change this request made, gives the notice without reading it back;
    `notice` is one said instead (a bulk decision's). `recount` counts a filtered view's matches
    again rather than adjusting them, as after a batch that moved many articles in or out of it."""
    row_views = rows_for(row_ids) if row_ids else []
    if notice is None:
        titles = {row.id: row.title for row in row_views}
        if made is not None and made["article_id"] in titles:
            notice = made_notice(made, titles[made["article_id"]])
        else:
            notice = undo_notice()
    parts = [
        render_notice(notice),
        render_template("queue/_recent.html", recent=recent_decisions(current_user), oob=True),
        counts_html(max_age=0 if recount else None),
    ]
    # In <template>s: rows need one to survive the parser, and the other parts must not land in a table.
    rows = rows_oob_html(row_views) if row_views else Markup()
    return rows + Markup("<template>" + "\n".join(parts) + "</template>")
