"""Logging in and out, sessions that end, login throttling, and the role check every view goes through."""

import math
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_login import LoginManager, current_user, login_required, login_user
from flask_login.utils import login_url
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from ..services.accounts import SessionUser, authenticate, end_sessions, session_user
from .rendering import fragment_or_page

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."

# Seconds since the epoch, read through this name so that tests can move the clock.
clock = time.time

# When the session began and when its user last did something: signed into the cookie, checked here.
STARTED = "started_at"
SEEN = "seen_at"
# Requests the page sends by itself (the queue's poll, the claim's renewal): they are not the user
# being active, so an open tab left alone still reaches its idle limit.
PASSIVE_ENDPOINTS = frozenset({"queue.changes", "articles.claim", "static"})
# htmx GETs that open a page of their own (an article beside the queue): if the session has ended,
# logging in comes back to that page rather than to the one it was opened from.
OPENS = frozenset({"articles.show"})
# Writing the last activity at most once a minute spares a new cookie on every request.
SEEN_RESOLUTION = 60


def init_app(app) -> None:
    login_manager.init_app(app)
    app.before_request(_end_expired_session)
    _init_limiter(app)


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    # Looked up on every request, so disabling a user or changing their password logs them out at once.
    number, _, token = user_id.partition(":")
    return session_user(int(number), token) if number.isdigit() else None


@login_manager.unauthorized_handler
def _unauthorized():
    """The login page, with a way back; htmx gets a 401 with the banner saying so (see `session_ended`)."""

    def to_login_page():
        flash(login_manager.login_message)
        return redirect(login_url("auth.login", next_url=_path_of(request.url)))

    # No flash for htmx: the poll keeps asking once the session has ended, and each flash would
    # pile up in the cookie until the login page said "Please log in" a hundred times.
    return fragment_or_page(lambda: session_ended(401), to_login_page)


def session_ended(status: int, detail: str = "") -> Response:
    """For htmx: a banner saying the session ended, with a link to log in and come back, never a page.

    The login page swapped into the panel would lose the queue and what the user typed; the banner
    goes into `#session-ended` instead (app.js lets it through, as htmx swaps no 4xx by itself).
    """
    back = request.url if request.method == "GET" and request.endpoint in OPENS else request.htmx.current_url
    next_url = _path_of(back) if back else None
    body = render_template(
        "_session_ended.html",
        login=login_url("auth.login", next_url=next_url),
        detail=detail,
        passive=request.endpoint in PASSIVE_ENDPOINTS,
    )
    response = make_response(body, status)
    response.headers["HX-Retarget"] = "#session-ended"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _end_expired_session() -> None:
    """Forget a login that has been idle, or alive, longer than the settings allow."""
    if "_user_id" not in session:
        return
    now = clock()
    started, seen = session.get(STARTED), session.get(SEEN)
    config = current_app.config
    if (
        not isinstance(started, int | float)
        or not isinstance(seen, int | float)
        or now - seen > config["SESSION_IDLE_MINUTES"] * 60
        or now - started > config["SESSION_MAX_HOURS"] * 3600
    ):
        _forget_session()
    elif request.endpoint not in PASSIVE_ENDPOINTS and now - seen >= SEEN_RESOLUTION:
        session[SEEN] = int(now)


def _forget_session() -> None:
    # A new session has no CSRF token: the next form gets a fresh one, and an old one stops working.
    session.clear()
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def role_required(role: str):
    """Only logged-in users with `role` or above; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with a username and password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user:
            # A fresh session, so nothing planted in the old one (its CSRF token) outlives the login.
            _forget_session()
            login_user(user)
            session[STARTED] = session[SEEN] = int(clock())
            return redirect(safe_next(request.args.get("next")))
        error = "Wrong username or password."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Log out: every session of this user ends on the server, not only this browser's cookie."""
    if current_user.is_authenticated:
        end_sessions(current_user.id)
    _forget_session()
    return redirect(url_for("auth.login"))


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the queue."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("queue.index")


def _init_limiter(app) -> None:
    """Throttle failed logins per address and per username, in this app's own storage."""
    # One limiter per app: Flask-Limiter keeps its storage and settings on the instance.
    limiter = Limiter(_client_address, app=app)
    app.extensions["login_limiter"] = limiter
    _limit_only_this_blueprint(app, limiter)
    # The other pages of this blueprint skip it at its first test.
    limiter.request_filter(_not_login)
    for key in (_client_address, _username_key):
        limiter.limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT"],
            key_func=key,
            methods=["POST"],
            # Only failed attempts count (a wrong password, an empty field): a user who gets in is not
            # brought nearer to being locked out, and a refusal does not lengthen the wait.
            deduct_when=lambda response: response.status_code in (400, 401),
        )(bp)


def _limit_only_this_blueprint(app, limiter: Limiter) -> None:
    """Run the limiter's request hooks for this blueprint's requests only, not around every page.

    Flask-Limiter adds them to the whole app; even skipping at once, they cost each page about
    90 µs (5 % of the queue's fragment, in process) for a limit that only the login has.
    """
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        own = [hook for hook in hooks[None] if _belongs_to(hook, limiter)]
        if not own:
            raise RuntimeError("Flask-Limiter's request hooks not found: does it add them another way now?")
        hooks[None] = [hook for hook in hooks[None] if hook not in own]
        hooks.setdefault(bp.name, []).extend(own)


def _belongs_to(hook, limiter: Limiter) -> bool:
    # A bound method of the limiter, or a partial of one of its methods given the limiter.
    return getattr(hook, "__self__", None) is limiter or limiter in getattr(hook, "args", ())


def _not_login() -> bool:
    return request.endpoint != "auth.login"


def _client_address() -> str:
    # The peer's address, or with TRUSTED_PROXIES the client's as our proxies forwarded it (security.py).
    return request.remote_addr or "unknown"


def _username_key() -> str:
    return "user:" + request.form.get("username", "").strip().casefold()[:200]


@bp.errorhandler(429)
def _too_many_logins(error):
    """The login page again, saying how long to wait (`Retry-After` says it to machines)."""
    limit = current_app.extensions["login_limiter"].current_limit
    seconds = max(1, math.ceil(limit.reset_at - time.time())) if limit else 60
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    error_message = f"Too many failed logins from here or for this user. Try again in {wait}."
    return render_template("auth/login.html", form=LoginForm(), error=error_message), 429
