"""`db backup PATH`: SQLite's online backup while the app works, written atomically, restored and read back
by the app; on PostgreSQL, the pg_dump command to use instead.

These run on a SQLite file of their own whatever TEST_DATABASE_URL says: the command copies SQLite only.
"""

import shutil
import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask_migrate import upgrade
from sqlalchemy import select, text

from tests.factories import PASSWORD, csrf_token, make_app, real_seed_titled
from webapp.models import APPROVED, PENDING, REJECTED, Article, AuditEvent, User, db
from webapp.services.accounts import create_user
from webapp.services.moderation import decide
from webapp.services.seed_import import import_paths

ARTICLES = 12


@pytest.fixture
def desk(tmp_path):
    """An app on a migrated SQLite file of its own, with maria and ARTICLES pending articles."""
    path = tmp_path / "desk.db"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        create_user("maria", PASSWORD, "moderator")
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        for number in range(ARTICLES):
            (seeds / f"backup_{number}.md").write_text(real_seed_titled(f"Backup {number}"), encoding="utf-8")
        assert import_paths([str(seeds)], max_bytes=2**21).imported == ARTICLES
        yield app, path
        db.session.remove()
        db.engine.dispose()


def decisions() -> dict:
    """Every article's decision, and every audit event, as the current app's database holds them."""
    articles = db.session.execute(
        select(Article.title, Article.status, User.username, Article.reject_reason)
        .outerjoin(User, User.id == Article.decided_by_id)
        .order_by(Article.id)
    ).all()
    events = db.session.execute(
        select(AuditEvent.article_id, AuditEvent.action, AuditEvent.after).order_by(AuditEvent.id)
    ).all()
    return {"articles": [tuple(row) for row in articles], "events": [tuple(row) for row in events]}


def test_a_backup_taken_while_a_writer_is_busy_restores_every_decision(desk, tmp_path):
    app, path = desk
    maria = db.session.scalar(select(User).where(User.username == "maria"))
    ids = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    for number, article_id in enumerate(ids[:-2]):
        verdict = APPROVED if number % 2 else REJECTED
        decide(article_id, maria, verdict, 1, reason=f"reason {number}" if verdict == REJECTED else None)
    before = decisions()
    assert [status for _, status, _, _ in before["articles"]].count(PENDING) == 2
    # The decisions are still in the write-ahead log: a copy of the database file alone would miss them.
    assert Path(f"{path}-wal").stat().st_size > 0

    writer = sqlite3.connect(path)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE articles SET status = 'approved' WHERE id = ?", (ids[-1],))
        target = tmp_path / "backups" / "copydesk.db"
        target.parent.mkdir()
        result = app.test_cli_runner().invoke(args=["db", "backup", str(target)])
        assert result.exit_code == 0, result.output
        assert f"backed up the database to {target}" in result.output
        writer.commit()
    finally:
        writer.close()
    assert sorted(p.name for p in target.parent.iterdir()) == ["copydesk.db"]

    restored_path = tmp_path / "restored" / "copydesk.db"
    restored_path.parent.mkdir()
    shutil.copyfile(target, restored_path)
    restored = make_app(f"sqlite:///{restored_path}")
    with restored.app_context():
        try:
            assert db.session.scalar(text("PRAGMA integrity_check")) == "ok"
            assert decisions() == before
            client = restored.test_client()
            client.post(
                "/login", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(client)}
            )
            approved = BeautifulSoup(client.get("/?status=approved").get_data(as_text=True), "html.parser")
            assert len(approved.select("#queue-rows tr.row")) == (ARTICLES - 2) // 2
        finally:
            db.session.remove()
            db.engine.dispose()


def backup(app, *args):
    return app.test_cli_runner().invoke(args=["db", "backup", *map(str, args)])


def test_an_existing_file_is_replaced_only_with_force(desk, tmp_path):
    app, _path = desk
    target = tmp_path / "copydesk.db"
    target.write_text("last week's backup")
    refused = backup(app, target)
    assert refused.exit_code == 1
    assert f"{target} already exists: give --force to replace it" in refused.output
    assert target.read_text() == "last week's backup"
    assert backup(app, target, "--force").exit_code == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM articles").fetchone() == (ARTICLES,)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/copydesk.db", "cannot write {path}: the folder {parent} does not exist"),
        (".", "{path} is a folder: give the backup's file name, e.g. {path}/copydesk.db"),
        ("desk.db", "{path} is the database itself: give another file"),
        ("desk.db/copydesk.db", "cannot write {path}: {parent} is not a folder"),
    ],
)
def test_a_bad_path_is_refused_with_a_message(desk, tmp_path, where, message):
    app, _path = desk
    path = tmp_path / where if where != "." else tmp_path
    result = backup(app, path, "--force")
    assert result.exit_code == 1
    assert message.format(path=path, parent=path.parent) in result.output
    assert "Traceback" not in result.output


def test_on_postgresql_it_says_to_use_pg_dump_and_fails(tmp_path):
    url = "postgresql+psycopg://copydesk:s3cret@db.internal:5432/copydesk"
    app = make_app(url)
    result = backup(app, tmp_path / "copydesk.dump")
    assert result.exit_code == 1
    assert "this database is PostgreSQL: back it up with pg_dump" in result.output
    dump = f"pg_dump --format=custom --file={tmp_path}/copydesk.dump postgresql://copydesk@db.internal:5432/copydesk"
    assert dump in result.output
    assert "pg_restore --clean --if-exists --no-owner" in result.output
    assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == []
