"""SQLite's checkpoints leave the requests' commits for a thread of the serving process
(services/wal_checkpoints.py): one approve in fifty otherwise waited on an fsync."""

import logging
import sqlite3
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from tests.factories import make_app
from webapp.models import db


def autocheckpoint(app) -> int:
    """`wal_autocheckpoint` on a connection the app opens now."""
    with app.app_context():
        db.engine.dispose()
        with db.engine.connect() as connection:
            return connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def file_app(tmp_path):
    """An app on a SQLite file of its own, checkpointing every second once it serves a request."""
    app = make_app(f"sqlite:///{tmp_path / 'desk.db'}", SQLITE_CHECKPOINT_SECONDS=1)
    with app.app_context():
        upgrade()
    yield app
    if "wal_checkpointer" in app.extensions:
        app.extensions["wal_checkpointer"].stop()
    with app.app_context():
        db.engine.dispose()


def test_until_it_serves_a_request_a_process_keeps_sqlites_own_checkpoints(file_app):
    assert not file_app.extensions["wal_checkpointer"].running
    assert autocheckpoint(file_app) == 1000


def test_the_first_request_starts_the_thread_and_commits_stop_checkpointing(file_app):
    assert file_app.test_client().get("/healthz").status_code == 200
    assert file_app.extensions["wal_checkpointer"].running
    assert autocheckpoint(file_app) == 0


def test_the_thread_copies_the_log_back_into_the_database(file_app):
    checkpointer = file_app.extensions["wal_checkpointer"]
    checkpointer.seconds = 0.05
    file_app.test_client().get("/healthz")
    with file_app.app_context(), db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (n INTEGER)"))
        connection.execute(text("INSERT INTO scratch VALUES (1), (2), (3)"))
    assert wait_for(lambda: checkpointer.last and checkpointer.last.log_frames > 0)
    assert wait_for(lambda: checkpointer.last.copied_frames == checkpointer.last.log_frames)
    assert not checkpointer.last.busy and checkpointer.failures == 0


def test_a_failing_checkpoint_is_logged_and_tried_again(file_app, tmp_path, caplog):
    checkpointer = file_app.extensions["wal_checkpointer"]
    checkpointer.seconds = 0.02
    checkpointer.database = str(tmp_path)  # a folder: SQLite cannot open it
    with caplog.at_level(logging.WARNING, logger="webapp.services.wal_checkpoints"):
        file_app.test_client().get("/healthz")
        assert wait_for(lambda: checkpointer.failures >= 2)
    assert checkpointer.running
    assert f"SQLite checkpoint of {tmp_path} failed" in caplog.text


def test_zero_seconds_leaves_checkpoints_to_sqlite(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'desk.db'}", SQLITE_CHECKPOINT_SECONDS=0)
    with app.app_context():
        upgrade()
    assert app.test_client().get("/healthz").status_code == 200
    assert "wal_checkpointer" not in app.extensions
    assert autocheckpoint(app) == 1000


def test_a_second_connection_sees_what_a_checkpointed_commit_wrote(file_app, tmp_path):
    file_app.test_client().get("/healthz")
    with file_app.app_context(), db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (n INTEGER)"))
        connection.execute(text("INSERT INTO scratch VALUES (7)"))
    checkpointer = file_app.extensions["wal_checkpointer"]
    with sqlite3.connect(tmp_path / "desk.db") as reader:
        assert checkpointer.checkpoint(reader).copied_frames > 0
        assert reader.execute("SELECT n FROM scratch").fetchall() == [(7,)]
