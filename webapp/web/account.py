"""Each user's own account: changing their password, and a one-time password changed before anything else."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from ..services import accounts
from ..services.accounts import AccountError
from .auth import safe_next
from .rendering import fragment_or_page
from .templating import sentence

bp = Blueprint("account", __name__, url_prefix="/account")

# What a user with a one-time password may still reach: the page to change it, logging out, and what
# asks for no login at all.
BEFORE_CHANGING = frozenset(
    {
        "account.password",
        "auth.login",
        "auth.logout",
        "static",
        "health.healthz",
        "health.readyz",
        "metrics.scrape",
    }
)


def init_app(app) -> None:
    app.before_request(_password_first)


def _password_first():
    """A user logged in with a one-time password is sent to change it, whatever they asked for."""
    if request.endpoint is None or request.endpoint in BEFORE_CHANGING:
        return None
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    target = url_for("account.password", next=_back_to())

    def htmx_redirect():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response

    return fragment_or_page(htmx_redirect, lambda: redirect(target))


def _back_to() -> str | None:
    """Where the user was going, to go on to once the password is changed (a page, never a POST's target)."""
    if request.method != "GET" or request.htmx:
        return None
    return request.full_path.rstrip("?")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change my password: the current one, then the new one twice; my other sessions end."""
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("password", "") != form.get("password_again", ""):
                raise AccountError("the two new passwords differ", "password_again")
            user = accounts.change_own_password(
                current_user.id, form.get("current", ""), form.get("password", "")
            )
        except AccountError as error:
            errors[error.field or "current"] = sentence(str(error))
        else:
            # The new token ended every session of this user; this one goes on with it.
            login_user(user)
            flash("Your password is changed. Any other session of yours has ended.")
            return redirect(safe_next(request.args.get("next")), 303)
    page = render_template(
        "account/password.html",
        errors=errors,
        one_time=current_user.must_change_password,
        password_min=accounts.PASSWORD_MIN,
    )
    return page, 422 if errors else 200
