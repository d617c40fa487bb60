"""One place decides what a request gets: the fragment htmx swaps in, or the page (or redirect) for a browser.

Every answer that could have gone either way says so with `Vary: HX-Request`, so no cache hands a
browser the fragment or htmx the page. Views never read the htmx headers themselves.
"""

import functools
import json
from collections.abc import Callable

from flask import (
    Response,
    current_app,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from ..services.listing import RowView


def render(
    page: str,
    partial: str,
    /,
    status: int = 200,
    page_context: Callable[[], dict] | None = None,
    **context,
) -> Response:
    """Render `partial` for htmx, `page` otherwise; `page_context()` adds what only the whole page shows."""

    def whole_page() -> Response:
        extra = page_context() if page_context else {}
        return make_response(render_template(page, **context, **extra), status)

    return fragment_or_page(lambda: make_response(render_template(partial, **context), status), whole_page)


def fragment_or_redirect(partial: str, url: str, /, **context) -> Response:
    """Render `partial` for htmx; a browser, which has no page to swap it into, is redirected to `url`."""
    return fragment_or_page(lambda: make_response(render_template(partial, **context)), lambda: redirect(url))


def fragment_or_page(fragment: Callable[[], Response], page: Callable[[], Response]) -> Response:
    """What `fragment()` answers for htmx, or what `page()` answers a browser (a page or a redirect)."""
    response = fragment() if wants_fragment() else page()
    response.vary.add("HX-Request")
    return response


def htmx_answer(
    body: str,
    status: int = 200,
    triggers: dict | None = None,
    *,
    target: str | None = None,
    push_url: str | None = None,
) -> Response:
    """A fragment to swap in (or nothing), firing `triggers` as events on the page (`HX-Trigger`).

    `target` swaps it into another element than the one the request's element names (its whole
    element, `outerHTML`), and `push_url` puts a new address in the bar, as a link's `hx-push-url` does.
    """
    response = make_response(body, status)
    if triggers:
        response.headers["HX-Trigger"] = json.dumps(triggers)
    if target:
        response.headers["HX-Retarget"] = target
        response.headers["HX-Reswap"] = "outerHTML"
    if push_url:
        response.headers["HX-Push-Url"] = push_url
    return response


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted link, not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def article_hrefs() -> Callable[[int], str]:
    """This request's links to article pages, for queue rows: article id in, URL out."""
    return functools.partial(_article_href, request.script_root)


def _article_href(script_root: str, article_id: int) -> str:
    # url_for takes longer than all the rest of a queue row, and a page has fifty rows.
    return _path(script_root, "articles.show", (("article_id", article_id),))


def remembered_url_for(endpoint: str, **values) -> str:
    """Flask's `url_for`, each path built once (the templates' `url_for`): a panel and its answer's
    parts link forty times, and building a URL cost more than rendering the element around it.

    A path in this app depends on the endpoint, the values and the script root only; anything else
    (a blueprint-relative endpoint, `_external` and the other options, a value that cannot be a
    key) goes to Flask every time."""
    if not has_request_context() or endpoint.startswith(".") or any(name[0] == "_" for name in values):
        return url_for(endpoint, **values)
    try:
        return _path(request.script_root, endpoint, tuple(values.items()))
    except TypeError:  # an unhashable value
        return url_for(endpoint, **values)


@functools.lru_cache(maxsize=16384)
def _path(script_root: str, endpoint: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))


def rows_html(rows: list[RowView]) -> Markup:
    """The queue rows' markup, one row a line."""
    # Joined as text: every part is markup already, and Markup.join would escape-check each of them.
    return Markup("\n".join(map(_row_markup, _as_shown(rows))))


def rows_oob_html(rows: list[RowView]) -> Markup:
    """The queue rows as out-of-band swaps, each replacing its own row wherever it is in the list.

    Sent along with another answer (a decision, a bulk change, the poll), so that one response
    refreshes every changed row. Table rows must travel inside a `<template>` to survive the
    parser; htmx swaps the ones it finds in the page and drops the others.
    """
    # str() first: Markup.replace would escape the attribute it inserts.
    oob_rows = (
        str(_row_markup(row)).replace("<tr ", '<tr hx-swap-oob="true" ', 1) for row in _as_shown(rows)
    )
    return Markup("<template>" + "\n".join(oob_rows) + "</template>")


def row_html(row: RowView) -> Markup:
    """A queue row's markup."""
    return _row_markup(_as_shown([row])[0])


def _as_shown(rows: list[RowView]) -> list[RowView]:
    """The rows without their thumbnails when the desk shows no third-party images (SHOW_IMAGES=0).

    Here rather than in the row's template: its markup is cached by the view alone. The setting is
    read once per list, not per row: the list is the hottest page.
    """
    if current_app.config["SHOW_IMAGES"]:
        return rows
    return [row._replace(image_url=None) if row.image_url else row for row in rows]


@functools.lru_cache(maxsize=8192)
def _row_markup(row: RowView) -> Markup:
    """A queue row's markup, rendered once per distinct view and then reused: the list is the hottest page.

    The template sees only `row`, whose fields are everything the row shows, so equal views are
    the same markup in every request and every process.
    """
    return Markup(current_app.jinja_env.get_template("queue/_row.html").render(row=row))
