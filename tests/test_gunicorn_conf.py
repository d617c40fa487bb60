"""gunicorn.conf.py: settings from the environment that gunicorn accepts, and an access log of JSON lines."""

import gc
import json
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from tests.factories import ROOT

CONF = ROOT / "gunicorn.conf.py"
VARIABLES = ("BIND", "PORT", "WEB_CONCURRENCY", "TRUSTED_PROXIES")


@pytest.fixture
def settings(monkeypatch):
    """gunicorn.conf.py read with the environment given (only its own variables), as gunicorn reads it."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def read(**environment) -> dict:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return {k: v for k, v in runpy.run_path(str(CONF)).items() if not k.startswith("_")}

    return read


def gunicorn_config(settings: dict) -> Config:
    """A gunicorn Config with every setting the file names, each checked by gunicorn's own validator."""
    config = Config()
    for name, value in settings.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_defaults_serve_on_localhost_with_two_workers_a_cpu_and_one(settings):
    read = settings()
    config = gunicorn_config(read)
    assert config.bind == ["127.0.0.1:8000"]
    assert config.workers == 2 * len(os.sched_getaffinity(0)) + 1
    assert config.forwarded_allow_ips == []
    assert (config.timeout, config.graceful_timeout) == (30, 30)
    assert config.max_requests == 1000 and config.max_requests_jitter == 100
    assert config.preload_app is False


def test_reading_the_settings_imports_nothing_of_the_app():
    # A HUP starts new workers from the master: had it imported webapp, they would keep the old code.
    check = (
        f"import runpy, sys; runpy.run_path({str(CONF)!r}); print([m for m in sys.modules if 'webapp' in m])"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_the_environment_sets_address_workers_and_trusted_proxies(settings):
    config = gunicorn_config(
        settings(BIND="0.0.0.0:9000, [::]:9000", WEB_CONCURRENCY="3", TRUSTED_PROXIES="1")
    )
    assert config.bind == ["0.0.0.0:9000", "[::]:9000"]
    assert config.workers == 3
    assert config.forwarded_allow_ips == ["*"]


def test_port_alone_keeps_to_localhost(settings):
    assert gunicorn_config(settings(PORT="5001")).bind == ["127.0.0.1:5001"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEB_CONCURRENCY", "many", "WEB_CONCURRENCY must be a whole number, at least 1, got 'many'"),
        ("PORT", "0", "PORT must be a whole number, at least 1, got '0'"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be a whole number, at least 0, got '-1'"),
    ],
)
def test_a_bad_value_is_named(settings, name, value, message):
    with pytest.raises(SystemExit, match=message):
        settings(**{name: value})


HOSTILE_AGENT = 'curl "quoted" \\ back\\slash \n newline \x00 nul é %(h)s'


def test_each_access_log_line_is_one_json_object_whatever_the_request_holds(settings, tmp_path):
    read = settings()
    config = gunicorn_config(read)
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = read["logger_class"](config)
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "abc-123")], sent=1802)
    request = SimpleNamespace(headers=[("USER-AGENT", HOSTILE_AGENT)])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": '/login?next="/x"',
        "PATH_INFO": '/log"in\\',
        "QUERY_STRING": 'next="/x"',
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.7",
    }
    try:
        logger.access(response, request, environ, timedelta(milliseconds=12, microseconds=345))
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=1))
    finally:
        # gunicorn's loggers are the process's: the next test must not write into this one's file.
        for log in (logger.access_log, logger.error_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
    first, second = (json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines())
    assert first == {
        "time": first["time"],
        "remote_addr": "198.51.100.7",
        "method": "GET",
        "path": '/log"in\\',
        "query": 'next="/x"',
        "status": 200,
        "bytes": 1802,
        "duration_ms": 12.345,
        "referer": None,
        "user_agent": HOSTILE_AGENT,
        "request_id": "abc-123",
    }
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert (second["user_agent"], second["duration_ms"]) == (None, 1000.0)


def test_on_starting_empties_the_metrics_folder_of_metric_files_only(settings, tmp_path, monkeypatch):
    folder = tmp_path / "run" / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    on_starting = settings()["on_starting"]
    on_starting(None)
    assert folder.is_dir()
    left = ["copydesk.db", "counter.db", "notes.txt", "counter_12.db.bak"]
    for name in ["counter_12.db", "histogram_345.db", "gauge_livesum_6.db", *left]:
        (folder / name).write_text("")
    on_starting(None)
    assert sorted(os.listdir(folder)) == sorted(left)


def test_without_a_metrics_folder_each_run_makes_its_own_and_removes_it_at_exit(settings, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored (unset) after the test
    read = settings()
    read["on_starting"](None)
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert os.path.isdir(folder) and os.path.basename(folder).startswith("copydesk-metrics-")
    read["on_exit"](None)
    assert not os.path.exists(folder)


def test_child_exit_drops_the_dead_workers_live_gauges(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_41.db", "gauge_liveall_41.db", "gauge_livesum_42.db", "counter_41.db"):
        (tmp_path / name).write_text("")
    settings()["child_exit"](None, SimpleNamespace(pid=41))
    # Its counters stay: what a worker counted before it died still happened.
    assert sorted(os.listdir(tmp_path)) == ["counter_41.db", "gauge_livesum_42.db"]


def test_each_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_reach(settings):
    config = gunicorn_config(settings())
    # gunicorn ignores a hook it does not know: the name must be one of its settings.
    assert config.post_worker_init.__module__ != "gunicorn.config"
    gc.unfreeze()
    try:
        config.post_worker_init(SimpleNamespace())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
