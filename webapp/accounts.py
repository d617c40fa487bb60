"""Users: create them, check their passwords, and make sure a first admin exists."""

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ROLES, User, db

# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(username: str, password: str, role: str = "moderator") -> User:
    """Create an active user with a hashed password."""
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters")
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
