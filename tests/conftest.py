"""Fixtures: an app on a migrated test database (SQLite, or TEST_DATABASE_URL), a client, helpers."""

import os
import re
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.models import db
from webapp.services.accounts import create_user

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REAL_SEED = SEEDS / "000_153b8be9e8e41660.txt"
# The product owner's shared folder: beside the checkout, or where COPYDESK_SHARED says (.ci/run
# sets it for a clone made elsewhere).
SHARED = Path(os.environ.get("COPYDESK_SHARED") or ROOT.parent / "shared")
PASSWORD = "correct horse battery"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # CI sets COPYDESK_NO_SKIPS=1: there a skip is a failure, never silence.
    if report.skipped and os.environ.get("COPYDESK_NO_SKIPS") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may skip (COPYDESK_NO_SKIPS=1): {report.longrepr}"
    return report


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def make_app(database_url, **config):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret", "TESTING": True, **config}
    )


@pytest.fixture(scope="session")
def migrated(database_url):
    app = make_app(database_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # A clean schema: earlier runs may have left tables in the shared test database.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(migrated):
    app = make_app(migrated)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


class FreshRequestClient(FlaskClient):
    """A test client whose requests load the logged-in user again, as separate requests do in production.

    The tests keep one app context open, which Flask reuses for every request, and flask-login
    and Flask-WTF cache the user and the CSRF token in `g`: without this a disabled user would
    seem to stay logged in, and a second client would get the first one's token.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshRequestClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def shared():
    if not SHARED.is_dir():
        pytest.skip(
            f"{SHARED} is absent (a fresh clone): the real corpus tests need it (set COPYDESK_SHARED)"
        )
    return SHARED


@pytest.fixture
def make_user(app):
    def make(username="maria", role="moderator", password=PASSWORD):
        return create_user(username, password, role)

    return make


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def login(client, make_user):
    def log_in(username="maria", role="moderator"):
        user = make_user(username, role)
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return log_in
