"""Request logs: one JSON line per request with its id (also in the answer), every line of a request
carrying that id, the text format, and logging set up only when asked."""

import json
import logging

import pytest

from tests.factories import PASSWORD, csrf_token, make_app
from webapp.web import request_log
from webapp.web.request_log import StderrHandler


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == request_log.__name__]


def test_each_request_writes_one_json_line_with_its_id(client, json_log):
    response = client.get("/login?next=/articles/3%3Fsecret%3Dx")
    [line] = request_lines(json_log())
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    assert line["request_id"] == request_id
    assert line["level"] == "INFO"
    assert line["route"] == "auth.login" and line["method"] == "GET" and line["status"] == 200
    assert line["path"] == "/login" and "secret" not in json.dumps(line)
    assert line["message"].startswith("GET /login 200 ")
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].startswith("20") and line["time"].endswith("+00:00")


def test_a_sane_request_id_from_the_proxy_is_kept(client, json_log):
    response = client.get("/login", headers={"X-Request-ID": "f3b2c1d0-9a8b-4c7d-8e6f-5a4b3c2d1e0f"})
    assert response.headers["X-Request-ID"] == "f3b2c1d0-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
    assert request_lines(json_log())[0]["request_id"] == "f3b2c1d0-9a8b-4c7d-8e6f-5a4b3c2d1e0f"


@pytest.mark.parametrize("given", ["", "a" * 129, "two words", "id\u00e9", "x;rm -rf /", "<script>"])
def test_an_odd_request_id_is_replaced(client, json_log, given):
    response = client.get("/login", headers={"X-Request-ID": given})
    made = response.headers["X-Request-ID"]
    assert made != given and len(made) == 32
    assert request_lines(json_log())[0]["request_id"] == made


def test_the_logged_in_users_id_and_every_status_are_logged(client, login, json_log):
    user = login()
    client.get("/")
    client.get("/articles/987654")
    client.get("/no/such/page")
    lines = request_lines(json_log())
    assert [(line["route"], line["status"], line["user_id"]) for line in lines[-3:]] == [
        ("queue.index", 200, user.id),
        ("articles.show", 404, user.id),
        (None, 404, user.id),
    ]


def test_lines_logged_during_a_request_carry_its_id(app, client, json_log):
    def speak():
        logging.getLogger("webapp.somewhere").warning("something odd")
        return "ok"

    app.add_url_rule("/speak", view_func=speak)
    response = client.get("/speak")
    [odd] = [line for line in json_log() if line["message"] == "something odd"]
    assert odd["request_id"] == response.headers["X-Request-ID"]
    assert odd["level"] == "WARNING" and odd["logger"] == "webapp.somewhere"


def test_lines_outside_a_request_have_no_request_id(app, json_log):
    logging.getLogger("webapp.cli").info("nothing to do with a request")
    [line] = json_log()
    assert line["message"] == "nothing to do with a request"
    assert "request_id" not in line


def test_text_format_names_the_request(client, capsys, monkeypatch):
    handler = StderrHandler()
    handler.addFilter(request_log.RequestContext())
    handler.setFormatter(request_log.formatter("text"))
    logger = logging.getLogger(request_log.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "level", logging.INFO)
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    response = client.get("/login%0Afake%20line")
    logger.info("after the request")
    written = capsys.readouterr().err.splitlines()
    assert len(written) == 2
    request_id = response.headers["X-Request-ID"]
    assert f" INFO webapp.web.request_log [{request_id}] GET /login\\nfake line 404 " in written[0]
    assert written[1].endswith(" [-] after the request")


def test_logging_is_set_up_only_when_asked_and_once(migrated, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    engine_level = logging.getLogger("sqlalchemy.engine").level
    try:
        make_app(migrated)
        assert not [h for h in root.handlers if isinstance(h, StderrHandler)]
        for _ in range(2):
            app = make_app(migrated, LOG_FORMAT="json", LOG_LEVEL="WARNING")
        [handler] = [h for h in root.handlers if isinstance(h, StderrHandler)]
        assert root.level == logging.WARNING
        assert logging.getLogger("sqlalchemy.engine").level == logging.WARNING
        assert not app.logger.handlers
        assert type(handler.formatter).__name__ == "JsonFormatter"
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(engine_level)


def test_the_handler_writes_to_the_stderr_of_the_moment(capsys):
    handler = StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.emit(logging.makeLogRecord({"msg": "first"}))
    assert capsys.readouterr().err == "first\n"
    handler.emit(logging.makeLogRecord({"msg": "second"}))
    assert capsys.readouterr().err == "second\n"


def test_a_failed_login_is_logged_without_what_was_typed(client, json_log):
    token = csrf_token(client)
    client.post("/login", data={"username": "nobody", "password": PASSWORD, "csrf_token": token})
    written = json.dumps(json_log())
    assert "auth.login" in written
    assert PASSWORD not in written and token not in written
