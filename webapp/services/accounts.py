"""Users: create and change them, check their passwords, and make sure a first admin exists."""

import secrets
from dataclasses import dataclass
from functools import cache

from flask_login import UserMixin
from sqlalchemy import bindparam, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, User, db, role_at_least

# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


@dataclass(frozen=True, eq=False)
class SessionUser(UserMixin):
    """The logged-in user as each request needs it: read in one small query, not as an ORM object."""

    id: int
    username: str
    role: str
    active: bool
    session_token: str
    compact_rows: bool = False  # the queue one line per article (a preference, read with the session)

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
        User.id, User.username, User.role, User.active, User.session_token, User.compact_rows
    ).where(User.id == bindparam("user_id"))


class AccountError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(username: str, password: str, role: str = "moderator") -> User:
    """Create an active user with a hashed password."""
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    _check_role(role)
    _check_password(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=generate_password_hash(password), role=role, active=True)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def ensure_admin(password: str | None) -> str | None:
    """On a database with no user, create `admin`; returns the password it got, else None."""
    if db.session.scalar(select(func.count(User.id))):
        return None
    password = password or secrets.token_urlsafe(12)
    create_user("admin", password, role="admin")
    return password


def set_password(username: str, password: str) -> User:
    """Give an existing user a new password."""
    _check_password(password)
    user = _get_user(username)
    user.password_hash = generate_password_hash(password)
    user.end_sessions()
    db.session.commit()
    return user


def set_active(username: str, active: bool) -> User:
    """Enable or disable a user; the last active admin cannot be disabled."""
    user = _get_user(username)
    if not active:
        _keep_an_admin(user, "disable")
    user.active = active
    user.end_sessions()
    db.session.commit()
    return user


def set_role(username: str, role: str) -> User:
    """Change a user's role; the last active admin cannot be demoted."""
    _check_role(role)
    user = _get_user(username)
    if role != "admin":
        _keep_an_admin(user, "demote")
    user.role = role
    user.end_sessions()
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


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters")


def _get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"no user named {username.strip()!r}")
    return user


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
