"""Error pages: a user's mistake gets a page that says what went wrong, never a traceback.

A bad parameter anywhere (`filtering.InvalidParameter`) is a 400 naming it; an id in a URL past
the database's integer range is a 404 like any missing row; a database that does not answer is a
503, logged, and the next request tries it again (the engine pings before reusing a connection).
"""

import re

from flask import abort, current_app, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from ..services.filtering import INT_MAX, InvalidParameter
from .auth import session_ended


class IdConverter(IntegerConverter):
    """`<int:...>` in our URLs: ASCII digits, up to the database's largest integer (else no match: 404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    # Before the blueprints register, so their rules are built with it.
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InvalidParameter, _bad_parameter)
    app.register_error_handler(OperationalError, _database_unavailable)


# A NUL reaches a query string percent-encoded, or as a raw byte.
_NUL_IN_QUERY = re.compile(rb"\x00|%00")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse_nul():
    """No parameter may hold a NUL: PostgreSQL text cannot store or compare one, and no form sends it."""
    # Most requests are GETs without one: the raw query string answers for them without parsing it.
    sources = [request.args] if _NUL_IN_QUERY.search(request.query_string) else []
    if request.mimetype in _FORM_TYPES:
        sources.append(request.form)
    for values in sources:
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, f"{name.replace(chr(0), '')!r} holds a NUL character, which no field may contain.")


def _csrf_error(error: CSRFError):
    # For htmx the token is as good as its session: one that no longer matches means the session
    # ended (logged out elsewhere, cookies cleared, a new secret) or the page is too old to trust.
    if request.htmx:
        return session_ended(400)
    message = "The form had expired or did not come from this site. Reload the page and try again."
    return render_template("errors/error.html", code=400, title="Form expired", message=message), 400


def _too_large(error: RequestEntityTooLarge):
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    message = (
        f"The upload is larger than {limit:,} bytes (MAX_UPLOAD_BYTES), or has too many files: "
        "send fewer files at a time, or a zip of them."
    )
    return render_template("errors/error.html", code=413, title="Upload too large", message=message), 413


def _http_error(error: HTTPException):
    if error.code == 403 and request.htmx:
        return session_ended(403, "Your account may no longer do this.")
    return render_template(
        "errors/error.html", code=error.code, title=error.name, message=error.description
    ), error.code


def _bad_parameter(error: InvalidParameter):
    return render_template("errors/error.html", code=400, title="Bad Request", message=str(error)), 400


def _database_unavailable(error: OperationalError):
    current_app.logger.error("database unavailable: %s", error.orig or error)
    # The page must not touch the database again: the layout asks for the user (flask-login loads it
    # from the database on first use) and their undo notice, so this page is drawn as for a visitor.
    g._login_user = AnonymousUserMixin()  # flask-login's own cache of the request's user
    message = "The database is not answering just now: try again in a minute."
    return render_template("errors/error.html", code=503, title="Service Unavailable", message=message), 503
