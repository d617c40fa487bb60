"""Error pages: a user's mistake gets a page that says what went wrong, never a traceback."""

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _csrf_error(error: CSRFError):
    message = "The form had expired or did not come from this site. Reload the page and try again."
    return render_template("errors/error.html", code=400, title="Form expired", message=message), 400


def _http_error(error: HTTPException):
    return render_template(
        "errors/error.html", code=error.code, title=error.name, message=error.description
    ), error.code
