"""/healthz and /readyz: open to anyone, /healthz without the database, /readyz saying what is not ready."""

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp

from tests.factories import make_app
from webapp import MIGRATIONS
from webapp.models import db
from webapp.services.health import head_revisions

SECRET = "pg-password-never-shown"
# Nothing listens on port 1: connecting is refused at once.
UNREACHABLE = f"postgresql+psycopg://copydesk:{SECRET}@127.0.0.1:1/copydesk"


@pytest.mark.parametrize("role", [None, "moderator", "lead", "admin"])
def test_probes_answer_everyone_the_same(client, login, role):
    if role:
        login("someone", role)
    for path, body in (("/healthz", "ok\n"), ("/readyz", "ready\n")):
        response = client.get(path)
        assert (response.status_code, response.get_data(as_text=True)) == (200, body)
        assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers


@pytest.fixture
def unreachable(app):
    """The app on a PostgreSQL server that is not there, with a password in its URL."""
    down = make_app(UNREACHABLE)
    yield down.test_client()
    with down.app_context():
        db.engine.dispose()


def test_healthz_does_not_ask_the_database(unreachable):
    response = unreachable.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")


def test_readyz_says_the_database_is_unreachable_and_nothing_more(unreachable):
    response = unreachable.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready: database unreachable\n"


def test_readyz_names_both_revisions_when_the_database_is_behind(app, client):
    head = "".join(head_revisions(str(MIGRATIONS)))
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    stamp(revision=previous)
    try:
        response = client.get("/readyz")
    finally:
        stamp(revision="head")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == (
        f"not ready: database at revision {previous}, code expects {head}\n"
    )
    assert client.get("/readyz").status_code == 200


def test_readyz_on_a_database_never_migrated(app, tmp_path):
    empty = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    response = empty.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True).startswith("not ready: database at revision none (not migrated),")
    with empty.app_context():
        db.engine.dispose()
