"""The database going away: a 503 with our own error page (logged), and the app recovers by itself."""

import logging

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from tests.factories import soup
from webapp.models import db


def _refuse_connections(tmp_path):
    """A connect hook pointing new connections where nothing answers (a closed port, a missing folder)."""

    def refuse(dialect, _record, cargs, cparams):
        if dialect.name == "postgresql":
            cparams.update(host="127.0.0.1", port=1)
        else:
            cargs[0] = str(tmp_path / "missing-folder" / "copydesk.db")

    return refuse


def _server_restart():
    """What a PostgreSQL restart does to the pool: every open connection is cut (SQLite has no server)."""
    if db.engine.dialect.name != "postgresql":
        return
    # From outside the app's pool, whose connections are the ones to cut.
    outside = create_engine(db.engine.url, poolclass=NullPool)
    with outside.connect() as connection:
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    outside.dispose()
    assert cut >= 1


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_a_database_that_does_not_answer_is_a_503_page_and_then_it_recovers(
    app, client, login, article, tmp_path, caplog, headers
):
    article_id, title = article.id, article.title
    login()
    assert client.get("/", headers=headers).status_code == 200
    # The tests share one app context; in production each request ends its own, returning its connection.
    db.session.remove()
    _server_restart()
    # The pool's connections died with the server: the pre-ping notices and connects again.
    assert client.get("/", headers=headers).status_code == 200

    refuse = _refuse_connections(tmp_path)
    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "do_connect", refuse)
    try:
        with caplog.at_level(logging.ERROR):
            down = client.get(f"/articles/{article_id}", headers=headers)
        page = soup(down)
        assert down.status_code == 503
        assert page.h1.get_text(strip=True) == "503 · Service Unavailable"
        assert "The database is not answering" in page.main.get_text()
        assert "Traceback" not in down.get_data(as_text=True)
        assert "database unavailable" in caplog.text
    finally:
        event.remove(db.engine, "do_connect", refuse)

    back = client.get(f"/articles/{article_id}", headers=headers)
    assert back.status_code == 200 and title in back.get_data(as_text=True)
