"""Users: create and change them, check their passwords, and make sure a first admin exists.

The `users` commands and the admins' Users page call these same functions, so both keep the same
rules (at least 8 characters; the last active admin stays an active admin). Every change to an
account writes an audit event: who (no one for the command line), what, and the state before and after.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask_login import UserMixin
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, Article, AuditEvent, User, db, role_at_least, utcnow
from .actions import (
    PASSWORD_CHANGE,
    USER_CREATE,
    USER_DISABLE,
    USER_ENABLE,
    USER_PASSWORD_RESET,
    USER_PASSWORD_SET,
    USER_ROLE,
    USER_SESSIONS_END,
)

# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))
PASSWORD_MIN = 8
USERNAME_MAX = User.__table__.c.username.type.length
STATES = ("active", "disabled")
DECISIONS_DAYS = 30  # the Users page counts each user's decisions over this many days


@dataclass(frozen=True, eq=False)
class SessionUser(UserMixin):
    """The logged-in user as each request needs it: read in one small query, not as an ORM object."""

    id: int
    username: str
    role: str
    active: bool
    session_token: str
    compact_rows: bool = False  # the queue one line per article (a preference, read with the session)
    must_change_password: bool = False  # logged in with a one-time password: nothing opens but changing it

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def has_role(self, role: str) -> bool:
        return role_at_least(self.role, role)


def session_user(user_id: int, token: str) -> SessionUser | None:
    """The active user with this id whose sessions carry `token`, or None."""
    row = db.session.connection().execute(_session_user_query(), {"user_id": user_id}).one_or_none()
    if row is None or not row.active or not secrets.compare_digest(row.session_token, token):
        return None
    return SessionUser(*row)


@cache
def _session_user_query():
    return select(
        User.id,
        User.username,
        User.role,
        User.active,
        User.session_token,
        User.compact_rows,
        User.must_change_password,
    ).where(User.id == bindparam("user_id"))


class AccountError(ValueError):
    """A user could not be created or changed; the message says why, `field` which value was refused."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def one_time_password() -> str:
    """A random password for an admin to hand over once: 16 characters, 96 random bits."""
    return secrets.token_urlsafe(12)


def create_user(
    username: str,
    password: str,
    role: str = "moderator",
    *,
    one_time: bool = False,
    actor_id: int | None = None,
) -> User:
    """Create an active user with a hashed password; `one_time`: they must change it at their first login."""
    username = _check_username(username)
    _check_role(role)
    _check_password(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists", "username")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        active=True,
        must_change_password=one_time,
    )
    db.session.add(user)
    _audit(
        USER_CREATE, actor_id, None, {"user": username, "role": role, "active": True, "one_time": one_time}
    )
    try:
        db.session.commit()
    except IntegrityError:  # created meanwhile by someone else
        db.session.rollback()
        raise AccountError(f"user {username!r} already exists", "username") from None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this name and password (their login recorded), or None."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def ensure_admin(password: str | None) -> str | None:
    """On a database with no user, create `admin`; returns the password it got, else None."""
    if db.session.scalar(select(func.count(User.id))):
        return None
    password = password or secrets.token_urlsafe(12)
    create_user("admin", password, role="admin")
    return password


def set_password(username: str, password: str, *, actor_id: int | None = None) -> User:
    """Give an existing user a new password, typed by an admin; their sessions end."""
    _check_password(password)
    user = _get_user(username)
    _replace_password(user, password, False, USER_PASSWORD_SET, actor_id)
    return user


def reset_password(username: str, *, actor_id: int | None = None) -> str:
    """Give a user a one-time password, which they must change at their next login; returns it."""
    password = one_time_password()
    _replace_password(_get_user(username), password, True, USER_PASSWORD_RESET, actor_id)
    return password


def change_own_password(user_id: int, current: str, new: str) -> User:
    """A user replaces their own password, knowing the current one; every session of theirs ends.

    The caller keeps the session it was asked from by logging it in again (its token is the new one).
    """
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise AccountError("no such active user")
    if not check_password_hash(user.password_hash, current):
        raise AccountError("the current password is not right", "current")
    _check_password(new)
    if new == current:
        raise AccountError("the new password must not be the current one", "password")
    _replace_password(user, new, False, PASSWORD_CHANGE, user.id)
    return user


def set_active(username: str, active: bool, *, actor_id: int | None = None) -> User:
    """Enable or disable a user (their sessions end); the last active admin cannot be disabled."""
    user = _get_user(username)
    if user.active == active:
        return user
    if not active:
        _keep_an_admin(user, "disable")
    user.active = active
    user.end_sessions()
    _audit(
        USER_ENABLE if active else USER_DISABLE,
        actor_id,
        {"user": user.username, "active": not active},
        {"user": user.username, "active": active},
    )
    db.session.commit()
    return user


def set_role(username: str, role: str, *, actor_id: int | None = None) -> User:
    """Change a user's role (their sessions end); the last active admin cannot be demoted."""
    _check_role(role)
    user = _get_user(username)
    if user.role == role:
        return user
    if role != "admin":
        _keep_an_admin(user, "demote")
    before = {"user": user.username, "role": user.role}
    user.role = role
    user.end_sessions()
    _audit(USER_ROLE, actor_id, before, {"user": user.username, "role": role})
    db.session.commit()
    return user


def end_user_sessions(username: str, *, actor_id: int | None = None) -> User:
    """Log a user out everywhere, at their next request (an admin's doing, audited)."""
    user = _get_user(username)
    user.end_sessions()
    _audit(USER_SESSIONS_END, actor_id, {"user": user.username}, {"user": user.username})
    db.session.commit()
    return user


def end_sessions(user_id: int) -> None:
    """Log this user out everywhere: every session cookie they hold stops working at once."""
    user = db.session.get(User, user_id)
    if user is not None:
        user.end_sessions()
        db.session.commit()


def set_compact_rows(user_id: int, compact: bool) -> None:
    """Remember whether this user's queue shows one line per article."""
    db.session.execute(update(User).where(User.id == user_id).values(compact_rows=compact))
    db.session.commit()


def list_users() -> list[User]:
    """Every user, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def usernames() -> list[str]:
    """Every username, sorted (the filter menus' moderators)."""
    return db.session.scalars(select(User.username).order_by(User.username)).all()


@dataclass(frozen=True)
class UserFilters:
    """The Users page's filters: a role, and active or disabled ("" for any)."""

    role: str = ""
    state: str = ""

    def as_args(self) -> dict[str, str]:
        return {key: value for key, value in (("role", self.role), ("state", self.state)) if value}


def parse_filters(args) -> tuple[UserFilters, dict[str, str]]:
    """The filters from a query, and a message for each value that cannot be used."""
    errors = {}
    role, state = args.get("role", "").strip(), args.get("state", "").strip()
    if role and role not in ROLES:
        errors["role"] = f"Role must be one of {', '.join(ROLES)}."
        role = ""
    if state and state not in STATES:
        errors["state"] = f"State must be one of {', '.join(STATES)}."
        state = ""
    return UserFilters(role, state), errors


@dataclass(frozen=True)
class UserRow:
    """A user as the Users page lists them."""

    id: int
    username: str
    role: str
    active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None
    decisions: int  # articles they approved or rejected in the last DECISIONS_DAYS days, as they stand now


def user_rows(filters: UserFilters, now: datetime, user_id: int | None = None) -> list[UserRow]:
    """The users the filters choose (or the one with `user_id`), by username, with their recent decisions."""
    decided = (
        select(Article.decided_by_id.label("user_id"), func.count().label("decisions"))
        .where(Article.decided_at >= now - timedelta(days=DECISIONS_DAYS), Article.decided_by_id.is_not(None))
        .group_by(Article.decided_by_id)
    )
    if user_id is not None:
        decided = decided.where(Article.decided_by_id == user_id)
    decided = decided.subquery()
    query = (
        select(
            User.id,
            User.username,
            User.role,
            User.active,
            User.must_change_password,
            User.created_at,
            User.last_login_at,
            func.coalesce(decided.c.decisions, 0),
        )
        .outerjoin(decided, decided.c.user_id == User.id)
        .order_by(User.username)
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.state:
        query = query.where(User.active.is_(filters.state == "active"))
    return [UserRow(*row) for row in db.session.execute(query)]


def _check_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty", "username")
    if len(username) > USERNAME_MAX:
        raise AccountError(f"username must be at most {USERNAME_MAX} characters", "username")
    if not username.isprintable():
        raise AccountError("username must not hold control characters", "username")
    return username


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}", "role")


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"password must be at least {PASSWORD_MIN} characters", "password")


def _get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"no user named {username.strip()!r}")
    return user


def _replace_password(user: User, password: str, one_time: bool, action: str, actor_id: int | None) -> None:
    """Give `user` this password (`one_time`: to change at their next login), end their sessions, audit it."""
    before = _password_state(user)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = one_time
    user.end_sessions()
    _audit(action, actor_id, before, _password_state(user))
    db.session.commit()


def _password_state(user: User) -> dict:
    """What an audit event keeps of a password change: whose, and whether it is one-time; never a hash."""
    return {"user": user.username, "one_time": user.must_change_password}


def _audit(action: str, actor_id: int | None, before: dict | None, after: dict) -> None:
    db.session.add(AuditEvent(actor_id=actor_id, action=action, article_id=None, before=before, after=after))


def _keep_an_admin(user: User, action: str) -> None:
    """Refuse to `action` `user` when they are the only active admin left."""
    if user.role != "admin" or not user.active:
        return
    # Locking every active admin row makes two concurrent refusals see each other's change.
    admins = db.session.scalars(
        select(User.id).where(User.role == "admin", User.active).with_for_update()
    ).all()
    if admins == [user.id]:
        db.session.rollback()
        raise AccountError(f"cannot {action} {user.username!r}: it is the last active admin")
