"""Fixtures: an app on a migrated test database (SQLite, or TEST_DATABASE_URL), a client, users, an article.

Plain helpers and constants live in factories.py.
"""

import os
import uuid
from dataclasses import dataclass
from functools import partial

import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from tests.factories import (
    PASSWORD,
    REDIS_URL,
    SEEDS,
    SHARED,
    FreshRequestClient,
    csrf_token,
    empty_tables,
    make_app,
)
from webapp.models import Article, db
from webapp.services import accounts
from webapp.services.accounts import create_user
from webapp.services.seed_import import import_paths


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # CI sets COPYDESK_NO_SKIPS=1: there a skip is a failure, never silence.
    if report.skipped and os.environ.get("COPYDESK_NO_SKIPS") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may skip (COPYDESK_NO_SKIPS=1): {report.longrepr}"
    return report


@pytest.fixture(autouse=True)
def cheap_password_hashing(request, monkeypatch):
    """Passwords hashed with one round of PBKDF2, not scrypt (0.12 s a hash, twice for each login:
    most of the suite's time). Checking reads the method from the hash, so logins still check.
    A test marked `real_password_hashing` gets what the app stores."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(
            accounts, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1")
        )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


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
def app(migrated, tmp_path):
    app = make_app(migrated, JOBS_FOLDER=str(tmp_path / "jobs"))
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()


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


@pytest.fixture
def article(app):
    """The product owner's real seed, imported: a pending article at version 1."""
    import_paths([str(SEEDS)], max_bytes=2**21)
    return db.session.scalar(select(Article))


@dataclass
class LoginCounters:
    url: str
    connection: redis.Redis
    prefix: str  # RATELIMIT_KEY_PREFIX: the keys of this module's tests alone

    def forget(self) -> None:
        """Delete the counters: every failed login counted under the prefix so far."""
        for key in self.connection.scan_iter(f"*{self.prefix}*"):
            self.connection.delete(key)


@pytest.fixture(scope="module")
def login_counters():
    """Redis for counting failed logins, under a key prefix of this module's own (deleted after it)."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as error:
        connection.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}): .ci/run starts it")
    counters = LoginCounters(REDIS_URL, connection, f"copydesk-test-{uuid.uuid4().hex}")
    yield counters
    counters.forget()
    connection.close()
