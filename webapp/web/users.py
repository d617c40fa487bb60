"""The admins' Users page: the list filtered by role and state, a new user, and each change to an account.

The changes are the `users` commands' own service functions (services/accounts.py), so the page and
the command line keep one set of rules. A one-time password is shown in the answer that made it and
nowhere else: it is never stored, flashed or put in a URL.
"""

from dataclasses import dataclass

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..models import ROLES, utcnow
from ..services import accounts
from ..services.accounts import AccountError, UserFilters
from .auth import role_required
from .rendering import fragment_or_page, render
from .templating import sentence

bp = Blueprint("users", __name__, url_prefix="/admin/users")

ONE_TIME, TYPED = "one-time", "typed"  # the new user's password: made here and shown once, or typed twice


@dataclass(frozen=True)
class Note:
    """What a row (or the new-user form) says after a change: done, refused, or a password to hand over."""

    text: str
    error: bool = False
    password: str | None = None


@bp.get("")
@role_required("admin")
def index():
    """Every user, filtered by role and state; htmx gets the rows only, as the filters change."""
    filters, errors = accounts.parse_filters(request.args)
    return _page(filters, status=422 if errors else 200, errors=errors)


@bp.post("")
@role_required("admin")
def create():
    """Add a user: a one-time password shown once (changed at their first login), or one typed twice."""
    form = request.form
    values = {
        "username": form.get("username", ""),
        "role": form.get("role", ""),
        "password_kind": TYPED if form.get("password_kind") == TYPED else ONE_TIME,
    }
    one_time = values["password_kind"] == ONE_TIME
    password = accounts.one_time_password() if one_time else form.get("password", "")
    try:
        if not one_time and password != form.get("password_again", ""):
            raise AccountError("the two passwords differ", "password_again")
        user = accounts.create_user(
            values["username"], password, values["role"], one_time=one_time, actor_id=current_user.id
        )
    except AccountError as error:
        create_errors = {f"new-{error.field or 'username'}": sentence(str(error))}
        return _create_answer(status=422, values=values, create_errors=create_errors)
    created = Note(f"Created {user.role} {user.username}.", password=password if one_time else None)
    [row] = accounts.user_rows(UserFilters(), utcnow(), user.id)
    return _no_store(_create_answer(created=created, user=row, notes={}))


@bp.post("/<int:user_id>/role")
@role_required("admin")
def change_role(user_id):
    """Give a user another role; their sessions end. The last active admin stays an admin."""
    role = request.form.get("role", "")
    user = _user(user_id)
    if user.role == role:
        return _row_answer(user_id, Note(f"{user.username} is already {role}."))
    return _change(
        user_id, accounts.set_role, "{name} is now {role}; their open sessions have ended.", role=role
    )


@bp.post("/<int:user_id>/disable")
@role_required("admin")
def disable(user_id):
    """Stop a user logging in; their open session ends at their next click. Not the last active admin."""
    done = "{name} is disabled; their open sessions end at their next click."
    return _change(user_id, accounts.set_active, done, active=False)


@bp.post("/<int:user_id>/enable")
@role_required("admin")
def enable(user_id):
    """Let a disabled user log in again."""
    return _change(user_id, accounts.set_active, "{name} may log in again.", active=True)


@bp.post("/<int:user_id>/reset-password")
@role_required("admin")
def reset_password(user_id):
    """Give a user a one-time password, shown here once; they must change it at their next login."""
    done = "{name}'s sessions have ended. Their one-time password, shown this once:"
    return _change(user_id, accounts.reset_password, done, gives_password=True)


@bp.post("/<int:user_id>/end-sessions")
@role_required("admin")
def end_sessions(user_id):
    """Log a user out everywhere, at their next click."""
    return _change(
        user_id, accounts.end_user_sessions, "{name}'s sessions have ended: they must log in again."
    )


def _user(user_id: int) -> accounts.UserRow:
    rows = accounts.user_rows(UserFilters(), utcnow(), user_id)
    if not rows:
        abort(404, "There is no such user.")
    return rows[0]


def _change(user_id: int, change, done: str, gives_password: bool = False, **arguments):
    """`change(username, **arguments)` made by this admin; the answer is the user's row saying `done`
    (with the password it made), or why it was refused (422)."""
    name = _user(user_id).username
    try:
        result = change(name, actor_id=current_user.id, **arguments)
    except AccountError as error:
        return _row_answer(user_id, Note(sentence(str(error)), error=True), status=422)
    note = Note(done.format(name=name, **arguments), password=result if gives_password else None)
    return _row_answer(user_id, note)


def _row_answer(user_id: int, note: Note, status: int = 200):
    """htmx: the row, with the note. A browser: the page with the note in the row when it is a refusal or
    holds a password (shown once, never kept), else back to the list with the note as a message."""

    def page():
        if note.error or note.password:
            return _page(UserFilters(), status=status, notes={user_id: note})
        flash(note.text)
        return redirect(url_for("users.index"), 303)

    def row():
        body = render_template("users/_row.html", **_context(user=_user(user_id), note=note))
        return make_response(body, status)

    response = fragment_or_page(row, page)
    return _no_store(response) if note.password else response


def _create_answer(status: int = 200, **context):
    """htmx: the new-user form again (saying what it did or refused), with a new user's row out of band."""
    return fragment_or_page(
        lambda: make_response(render_template("users/_created.html", **_context(**context)), status),
        lambda: _page(UserFilters(), status=status, **context),
    )


def _page(filters: UserFilters, status: int = 200, **context):
    users = accounts.user_rows(filters, utcnow())
    return render(
        "users/index.html",
        "users/_filtered.html",
        status=status,
        **_context(users=users, filters=filters, states=accounts.STATES, **context),
    )


def _context(**context) -> dict:
    """What the page's templates read, with `context` over it."""
    defaults = {"errors": {}, "notes": {}, "values": {}, "create_errors": {}, "created": None}
    return {**defaults, "roles": ROLES, "now": utcnow(), **context}


def _no_store(response):
    # The answer holds a password: no cache, and no back button, may show it again.
    response.headers["Cache-Control"] = "no-store"
    return response
