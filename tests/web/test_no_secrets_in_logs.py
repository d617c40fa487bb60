"""A moderator's and a lead's day through the app with every logger at DEBUG (SQLAlchemy's statements
at INFO): no password, session cookie, session token, CSRF token or `secured` payload reaches the log,
and every request's line is JSON carrying the id its answer returned.

SQLAlchemy's engine at DEBUG would also log the rows it reads, secured payloads among them: that
switch is left to a developer's own machine, and LOG_LEVEL=DEBUG never turns it on
(`request_log.QUIET_LOGGERS`).
"""

import logging
import re

import pytest
from sqlalchemy import select

from tests.factories import HX, PASSWORD, REAL_SEED, FreshRequestClient
from webapp.models import Article, User, db
from webapp.web import request_log

WRONG_PASSWORD = "not the password 4711"


class RecordingClient(FreshRequestClient):
    """A test client that keeps every answer's request id and every session cookie it was given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_ids, self.cookies, self.csrf_tokens = [], set(), set()

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        self.request_ids.append(response.headers["X-Request-ID"])
        cookie = self.get_cookie("session")
        if cookie:
            self.cookies.add(cookie.value)
        return response

    def form_token(self, path: str) -> str:
        """The CSRF token of the page's forms."""
        html = self.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        self.csrf_tokens.add(token)
        return token

    def send(self, url: str, page: str = "/", **data):
        """POST a form as htmx sends it from `page`, with the page's CSRF token."""
        return self.post(url, data={"csrf_token": self.form_token(page), **data}, headers=HX)


@pytest.fixture
def every_logger_at_debug(json_log, monkeypatch):
    engine = logging.getLogger("sqlalchemy.engine")
    monkeypatch.setattr(engine, "level", logging.INFO)
    for each in list(logging.root.manager.loggerDict.values()):
        if isinstance(each, logging.Logger) and each is not engine and not each.name.startswith("sqlalchemy"):
            monkeypatch.setattr(each, "level", logging.NOTSET)
    logging.root.manager._clear_cache()
    yield json_log
    logging.root.manager._clear_cache()


def test_no_secret_reaches_the_log(app, make_user, tmp_path, every_logger_at_debug):
    (tmp_path / REAL_SEED.name).write_bytes(REAL_SEED.read_bytes())
    imported = app.test_cli_runner().invoke(args=["seeds", "import", str(tmp_path)])
    assert imported.exit_code == 0, imported.output
    article = db.session.scalar(select(Article))
    assert article.secured and len(article.secured) > 500
    make_user("lena", "lead")

    app.test_client_class = RecordingClient
    client = app.test_client()
    for password, status in ((WRONG_PASSWORD, 401), (PASSWORD, 302)):
        form = {"username": "lena", "password": password, "csrf_token": client.form_token("/login")}
        assert client.post("/login", data=form).status_code == status
    page = f"/articles/{article.id}"
    assert client.get(f"{page}?q=facial&status=all").status_code == 200
    steps = [
        client.send(f"{page}/heat", page, version=1, heat="120"),
        client.send(f"{page}/merge", page, version=2, position=["0", "1"]),
        client.send(f"{page}/approve", page, version=3),
    ]
    approval = db.session.scalar(select(Article.version).where(Article.id == article.id))
    undo_form = client.get(page).get_data(as_text=True)
    steps.append(client.send(f"{page}/reject", page, version=approval, reason="outdated: from 2019, said so"))
    steps.append(client.send(f"{page}/reopen", page, version=approval + 1))
    steps.append(client.send(f"{page}/approve", page, version=approval + 2))
    assert [step.status_code for step in steps] == [200] * 6
    assert "undo" in undo_form
    started = client.post("/exports", data={"csrf_token": client.form_token("/exports"), "format": "yaml"})
    export = client.get(f"{started.location}/download")  # the job ran in the request (JOBS_IMMEDIATE)
    assert article.secured in export.get_data(as_text=True)
    export.close()
    client.get("/metrics", headers={"Authorization": "Bearer whatever"})
    client.post("/logout", data={"csrf_token": client.form_token("/")})

    lines = every_logger_at_debug()
    session_token = db.session.scalar(select(User.session_token).where(User.username == "lena"))
    secrets = {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "secured": article.secured,
        # SQLAlchemy cuts a long parameter short when it logs it: its start would still be there.
        "secured's start": article.secured[:40],
        "session token": session_token,
        **{f"session cookie {n}": value for n, value in enumerate(client.cookies)},
        **{f"CSRF token {n}": value for n, value in enumerate(client.csrf_tokens)},
    }
    assert len(client.cookies) >= 2 and len(client.csrf_tokens) >= 2
    written = "\n".join(str(line) for line in lines)
    assert [name for name, value in secrets.items() if value in written] == []
    # Something was logged beyond the requests: SQLAlchemy's statements, without their parameters.
    statements = [line for line in lines if line["logger"].startswith("sqlalchemy.engine")]
    assert statements and any("hidden due to hide_parameters" in line["message"] for line in statements)

    requests = [line for line in lines if line["logger"] == request_log.__name__]
    assert [line["request_id"] for line in requests] == client.request_ids
    assert len(set(client.request_ids)) == len(client.request_ids)
    assert all(line["route"] and line["status"] and "duration_ms" in line for line in requests)
