"""Fixtures of the HTTP tests: logs captured as production writes them."""

import json
import logging

import pytest

from webapp.web import request_log


@pytest.fixture
def json_log(app, capsys, monkeypatch):
    """Logging as production sets it up, at DEBUG: a function returning the JSON lines written since."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *request_log.QUIET_LOGGERS)}
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(app.logger, "handlers", [])
    # The migrations' logging.config.fileConfig disabled every logger that existed then.
    for each in list(root.manager.loggerDict.values()):
        if isinstance(each, logging.Logger):
            monkeypatch.setattr(each, "disabled", False)
    request_log.configure_logging("json", "DEBUG")
    capsys.readouterr()

    def lines() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    yield lines
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
