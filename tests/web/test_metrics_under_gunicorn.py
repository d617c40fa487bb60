"""/metrics and the request log under gunicorn.conf.py with two workers, as production runs them: one
scrape, whichever worker answers it, sums every worker's requests; a restart forgets the last run's
metrics; each request's JSON line (and its access log line) carries the id its answer returned."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest
from flask_migrate import upgrade
from prometheus_client.parser import text_string_to_metric_families

from bench.servers import free_port
from tests.factories import ROOT, make_app
from webapp.models import db

TOKEN = "gunicorn-test-scraper-token"
STARTUP_SECONDS = 20
# Leaves a metric file behind, as the last run of the server would have.
LAST_RUN = (
    "import prometheus_client as p; p.Counter('copydesk_changes', '', ['action']).labels('approve').inc(5)"
)


@pytest.fixture
def server(tmp_path):
    """The app under gunicorn.conf.py with two workers, in production: base URL, log file, metrics
    folder, the process, and the metric files a last run left there."""
    folder = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"} | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'copydesk.db'}",
        "SECRET_KEY": "gunicorn-test-secret",
        "COPYDESK_ENV": "production",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "WEB_CONCURRENCY": "2",
    }
    app = make_app(env["DATABASE_URL"])
    with app.app_context():
        upgrade()
        db.engine.dispose()
    folder.mkdir()
    subprocess.run([sys.executable, "-c", LAST_RUN], env=env, check=True)
    stale = os.listdir(folder)
    assert stale
    port = free_port()
    env["BIND"] = f"127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", log_path, folder, process, stale
    finally:
        process.send_signal(signal.SIGINT)  # a quick shutdown: nothing is left to finish
        process.wait(timeout=15)


def fetch(url: str, headers: dict | None = None):
    # Long enough never to give up on a request the server still answers (and counts): on a loaded
    # machine a worker's first answer has taken over 5 s. A refused connection fails at once.
    with urlopen(Request(url, headers=headers or {}), timeout=60) as response:
        return response.status, dict(response.headers), response.read().decode()


def wait_until_serving(url: str, process, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited {process.returncode}:\n{log_path.read_text()}", pytrace=False)
        try:
            fetch(url)
            return
        except (URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer within {STARTUP_SECONDS}s:\n{log_path.read_text()}", pytrace=False)


def logged_once(log_path: Path, request_id: str) -> list[dict]:
    """The log's JSON lines once the access line of `request_id` is in: gunicorn writes it after the
    answer has gone, so a client may read the log before it is there."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        if time.monotonic() > deadline or any(
            "logger" not in line and line.get("request_id") == request_id for line in lines
        ):
            return lines
        time.sleep(0.05)


def worker_pids(folder: Path) -> set[str]:
    return {m.group(1) for name in os.listdir(folder) if (m := re.fullmatch(r"histogram_(\d+)\.db", name))}


def scraped(base: str) -> dict:
    status, _, body = fetch(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_one_scrape_sums_both_workers_and_logs_each_request(server):
    base, log_path, folder, process, stale = server
    wait_until_serving(f"{base}/login", process, log_path)
    assert not set(stale) & set(os.listdir(folder)), "on_starting left the last run's files"
    sent = 1  # the request that found the server up
    with ThreadPoolExecutor(4) as pool:
        # Four at a time keep both workers busy; rounds go on until both have answered some (their files),
        # which on a loaded machine, with one worker still starting, can take a while.
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(worker_pids(folder)) < 2 and time.monotonic() < deadline:
            sent += sum(
                status == 200 for status, _, _ in pool.map(lambda _: fetch(f"{base}/login"), range(8))
            )
    assert len(worker_pids(folder)) == 2, os.listdir(folder)
    login = (("method", "GET"), ("route", "auth.login"), ("status", "2xx"))
    for _ in range(4):
        samples = scraped(base)
        assert samples[("copydesk_http_requests_total", login)] == sent
        assert samples[("copydesk_http_request_duration_seconds_count", login)] == sent
        assert ("copydesk_changes_total", (("action", "approve"),)) not in samples
        assert samples[("copydesk_articles", (("status", "pending"),))] == 0

    status, headers, _ = fetch(f"{base}/login", {"X-Request-ID": "trace-0123456789"})
    assert headers["X-Request-ID"] == "trace-0123456789"
    lines = logged_once(log_path, "trace-0123456789")
    requests = [line for line in lines if line.get("logger") == "webapp.web.request_log"]
    assert len(requests) == sent + 4 + 1
    [traced] = [line for line in requests if line["request_id"] == "trace-0123456789"]
    assert (traced["route"], traced["status"], traced["level"]) == ("auth.login", 200, "INFO")
    [access] = [line for line in lines if "logger" not in line and line["request_id"] == "trace-0123456789"]
    assert (access["path"], access["status"]) == ("/login", 200)
