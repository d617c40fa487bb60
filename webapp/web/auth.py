"""Logging in and out, and the role check every view goes through."""

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from ..services.accounts import SessionUser, authenticate, session_user

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."


def init_app(app) -> None:
    login_manager.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    # Looked up on every request, so disabling a user or changing their password logs them out at once.
    number, _, token = user_id.partition(":")
    return session_user(int(number), token) if number.isdigit() else None


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
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        error = "Wrong username or password."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Log out."""
    logout_user()
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
