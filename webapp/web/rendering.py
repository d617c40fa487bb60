"""One place decides what a request gets: the fragment htmx swaps in, or the page (or redirect) for a browser.

Every answer that could have gone either way says so with `Vary: HX-Request`, so no cache hands a
browser the fragment or htmx the page. Views never read the htmx headers themselves.
"""

import json
from collections.abc import Callable

from flask import Response, make_response, redirect, render_template, request


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
    response = fragment() if _wants_fragment() else page()
    response.vary.add("HX-Request")
    return response


def htmx_answer(body: str, status: int = 200, triggers: dict | None = None) -> Response:
    """A fragment to swap in (or nothing), firing `triggers` as events on the page (`HX-Trigger`)."""
    response = make_response(body, status)
    if triggers:
        response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def _wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted link, not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
