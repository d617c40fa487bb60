"""One log line per request, every line of a request carrying its id, and logging set up as asked.

A request's id comes from its `X-Request-ID` header when a proxy sent a sane one, else it is made
here; the answer carries it back in `X-Request-ID`. `LOG_FORMAT=json` (production's default) writes
JSON lines to stderr: time, level, logger, message, and in a request its id, the user's id, the route
(the URL rule's endpoint), method, path, status and duration in milliseconds. Nothing that could
hold a secret is logged: no body, no cookie, no header but the request id, and the path without
its query string (a login's `next`, a form sent by GET).
"""

import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request, request_finished, request_started
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id (a UUID, nginx's $request_id, a trace id) fits; anything longer or stranger is
# replaced rather than written into every line of the log.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# SQLAlchemy's engine logs statements at INFO and the rows it reads at DEBUG, which hold what the
# moderators see, secured payloads included: it stays quiet whatever LOG_LEVEL says.
QUIET_LOGGERS = ("sqlalchemy.engine",)

logger = logging.getLogger(__name__)


def init_app(app) -> None:
    if app.config["LOG_FORMAT"]:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
        # Flask's own handler on the app's logger would write each of its lines a second time.
        app.logger.removeHandler(default_handler)
    request_started.connect(_begin, app)
    request_finished.connect(_end, app)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (as logging's last resort does)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


class RequestContext(logging.Filter):
    """Adds the request's id and user's id to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.__dict__.setdefault("request_id", g.get("request_id"))
            record.__dict__.setdefault("user_id", _user_id())
        return True


def configure_logging(log_format: str, level: str) -> None:
    """Send every logger's records through one handler on the root, as JSON lines or text, at `level`.

    Called again (each app made in one process), it replaces its own handler and leaves any other."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.addFilter(RequestContext())
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def _begin(_app, **_extra) -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_log_started = time.perf_counter()


def _end(_app, response, **_extra) -> None:
    request_id = g.get("request_id")
    if request_id is None:
        return
    response.headers[REQUEST_ID_HEADER] = request_id
    if not logger.isEnabledFor(logging.INFO):
        return  # the line's fields cost more than a small page when no one writes it
    duration_ms = round((time.perf_counter() - g.request_log_started) * 1000, 1)
    logger.info(
        "%s %s %s %.1f ms",
        request.method,
        request.path.encode("unicode_escape").decode(),  # no line of its own in a text log
        response.status_code,
        duration_ms,
        extra={
            "request_id": request_id,
            "user_id": _user_id(),
            "route": request.url_rule.endpoint if request.url_rule else None,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )


def _user_id() -> int | None:
    # The user flask-login loaded for this request, if any: asking `current_user` would load one,
    # a database read for requests (static files, the login page) that never needed it.
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None
