"""One place decides whether a request gets the whole page or only the fragment it swaps."""

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted link, not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, partial: str, /, status: int = 200, **context):
    """Render `partial` for htmx, `page` otherwise; caches must keep the two apart."""
    response = make_response(render_template(partial if wants_fragment() else page, **context), status)
    response.vary.add("HX-Request")
    return response
