"""Real-browser fixtures: the app under gunicorn on a fresh SQLite database, driven by Debian's Chromium."""

import base64
import contextlib
import functools
import json
import os
import re
import socket
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from tests.factories import PASSWORD, ROOT, SEEDS, real_seed_titled, shown_alert
from webapp import create_app
from webapp.models import db

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:
    # Collected all the same: the browser fixture then skips each test, which CI counts as a failure.
    PlaywrightError = sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
# The machine has no outside network: without the background-networking flags Chromium stalls on update,
# sync and QUIC probes.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {"maria": "moderator", "lee": "lead", "ada": "admin"}
# Articles' own images live on the outlets' servers, which this machine cannot reach: every request
# that leaves the app is answered with this 1x1 grey PNG, so thumbnails load and nothing goes out.
THIRD_PARTY = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg=="
)
STARTUP_SECONDS = 20


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "screenshot: takes a picture for docs/; runs first, on the real seed alone"
    )


def pytest_collection_modifyitems(items):
    # The server's database lives for the whole session: before other tests import their seeds, the
    # pictures in docs/ show the queue as a new user sees it.
    items.sort(key=lambda item: item.get_closest_marker("screenshot") is None)


def flask_cli(env, *args, stdin=None, check=True) -> subprocess.CompletedProcess:
    """Run the command `flask --app webapp ARGS` against the browser tests' database, with `env` as the
    environment: the same command, in this process (a process of its own spent two seconds starting,
    a hundred times a run)."""
    with _environment(env):
        app = create_app()
        with app.app_context():  # as `flask` pushes one for every command
            try:
                result = app.test_cli_runner().invoke(args=list(args), input=stdin)
            finally:
                db.session.remove()
                db.engine.dispose()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"flask {' '.join(args)} raised:\n{result.output}\n{trace}", pytrace=False)
    completed = subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    if check and completed.returncode != 0:
        pytest.fail(
            f"flask {' '.join(args)} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}",
            pytrace=False,
        )
    return completed


@contextlib.contextmanager
def _environment(env):
    """os.environ is `env` while the block runs (the app reads its settings from it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    """Environment shared by gunicorn and the CLI: a fresh SQLite database, a fixed secret, development."""
    # Always a temporary SQLite file, even when TEST_DATABASE_URL is set: the main suite empties that
    # database between its tests, which would pull the rows from under the running server.
    database = tmp_path_factory.mktemp("browser-db") / "copydesk.db"
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "browser-tests-secret",
        "COPYDESK_ENV": "development",
        "POLL_SECONDS": "1",
        "JOBS_FOLDER": str(database.parent / "jobs"),
    }


@pytest.fixture(scope="session")
def live_server(server_env, tmp_path_factory):
    """Base URL of the app under gunicorn, migrated, with the real seed and the users maria, lee and ada."""
    flask_cli(server_env, "db", "upgrade")
    flask_cli(server_env, "seeds", "import", str(SEEDS))
    for username, role in USERS.items():
        flask_cli(
            server_env, "users", "create", username, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
        )

    with serving(server_env, tmp_path_factory.mktemp("gunicorn")) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def serve():
    """Factory: serve(env, folder, worker=False) serves the app under gunicorn with `env` (and runs
    `jobs worker` beside it) until the session ends; its base URL. Logs go to `folder`."""
    with contextlib.ExitStack() as stack:

        def start(env, folder: Path, worker: bool = False) -> str:
            if worker:
                command = [sys.executable, "-m", "flask", "--app", "webapp", "jobs", "worker"]
                stack.enter_context(running(command, env, folder / "worker.log"))
            return stack.enter_context(serving(env, folder))

        yield start


@pytest.fixture(scope="session")
def cli_with():
    """Factory: cli_with(env, ARGS..., stdin=None) runs `flask --app webapp ARGS` with `env`."""
    return flask_cli


@contextlib.contextmanager
def serving(env, log_folder: Path):
    """The app under gunicorn with `env`, on a free port: its base URL while the block runs."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = log_folder / "gunicorn.log"
    command = ["-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "wsgi:app"]
    with running([sys.executable, *command], env, log_path) as server:
        _wait_until_serving(server, f"{base_url}/login", log_path)
        yield base_url


@contextlib.contextmanager
def running(command: list[str], env, log_path: Path):
    """A process of the app's (gunicorn, the job worker) from the checkout, stopped after the block."""
    with open(log_path, "w") as log:
        # A file, not a pipe: nobody reads its output while the tests run, and a full pipe blocks it.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(server, url, log_path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"gunicorn exited {server.returncode} before serving:\n{log_path.read_text()}", pytrace=False
            )
        try:
            with urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"gunicorn did not answer {url} within {STARTUP_SECONDS}s:\n{log_path.read_text()}", pytrace=False
    )


@pytest.fixture
def import_seed(server_env, live_server, tmp_path_factory):
    """Factory: write one seed file to a fresh folder, import it into the running app; its JSON report."""

    def import_(content: str | bytes, name: str | None = None) -> dict:
        # The file name's stem is the article's identity: a unique default keeps tests from updating
        # each other's.
        path = tmp_path_factory.mktemp("seed") / (name or f"browser_{uuid.uuid4().hex}.md")
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        # Exit status 1 only means some file was refused, which hostile seeds are for; the report says which.
        result = flask_cli(server_env, "seeds", "import", str(path), "--json", check=False)
        if result.returncode not in (0, 1):
            pytest.fail(
                f"seeds import {path} exited {result.returncode}:\n{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
        return json.loads(result.stdout)

    return import_


@pytest.fixture
def story(import_seed):
    """Factory: import the real seed under a new unique title (and other replacements); returns the title."""

    def make(**replacements) -> str:
        title = f"Story {uuid.uuid4().hex[:10]}"
        report = import_seed(real_seed_titled(title, **replacements))
        assert report["imported"] == 1, report
        return title

    return make


@pytest.fixture
def batch(server_env, tmp_path_factory):
    """Factory: import `count` copies of the real seed at once, titled "Batch <hex> NN"; their prefix."""

    def make(count: int = 10) -> str:
        prefix = f"Batch {uuid.uuid4().hex[:10]}"
        folder = tmp_path_factory.mktemp("batch")
        for number in range(count):
            (folder / f"batch_{uuid.uuid4().hex}.md").write_text(
                real_seed_titled(f"{prefix} {number:02}"), encoding="utf-8"
            )
        flask_cli(server_env, "seeds", "import", str(folder))
        return prefix

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, shared by the whole session."""
    if sync_playwright is None:
        pytest.skip("the playwright package is not installed: pip install -e '.[dev]'")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is absent: run .ci/install-browser (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors():
    """Console errors and uncaught exceptions of this test's pages; a test that expects some removes them."""
    errors = []
    yield errors
    if errors:
        pytest.fail("errors in the browser console:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page_on(browser, console_errors):
    """Factory: page_on(base_url) is a page in a fresh browser context (own cookies) on that server,
    closed after the test."""
    contexts = []

    def open_page(base_url: str):
        context = browser.new_context(base_url=base_url, accept_downloads=True)
        context.route(THIRD_PARTY, _placeholder_image)
        contexts.append(context)
        context.on("page", lambda page: _watch(page, console_errors))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(page_on, live_server):
    """Factory: a page in a fresh browser context (own cookies) on the live server, closed after the test."""
    return functools.partial(page_on, live_server)


def _placeholder_image(route):
    route.fulfill(status=200, content_type="image/png", body=PLACEHOLDER_PNG)


def _watch(page, errors):
    refused_documents = set()

    def on_response(response):
        kind = response.request.resource_type
        if (kind == "document" and 400 <= response.status < 500) or (
            kind in ("xhr", "fetch") and response.status in (409, 422)
        ):
            refused_documents.add(response.url)

    def on_console(message):
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # Chromium logs every 4xx/5xx as "Failed to load resource". A page's own 4xx is the app's answer
        # (a wrong password is a 401), and so is a 409 or 422 to an htmx request (a conflict, a bad
        # heat); /favicon.ico is Chromium's own probe, made once per browser, so it would fail whichever
        # test comes first. A 5xx page, or a failing script, style or htmx request, stays an error.
        if message.text.startswith("Failed to load resource") and (
            url in refused_documents or urlsplit(url).path == "/favicon.ico"
        ):
            return
        errors.append(f"console error at {url or page.url}: {message.text}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}"))


@pytest.fixture
def page(new_page):
    """A fresh page in its own browser context; console errors and CSP violations fail the test."""
    return new_page()


@pytest.fixture
def logged_in_on(page_on):
    """Factory: logged_in_on(base_url, username) logs in on a fresh page of the server at `base_url`."""
    return lambda base_url, username: log_in(functools.partial(page_on, base_url), username)


@pytest.fixture
def logged_in_page(new_page):
    """Factory: logged_in_page(username) logs in through the real login form on a fresh page, returned."""
    return functools.partial(log_in, new_page)


def log_in(new_page, username: str, password: str = PASSWORD):
    """Log in through the real login form on a fresh page of `new_page()`; the page."""
    page = new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    try:
        page.wait_for_url(lambda url: urlsplit(url).path != "/login", timeout=5000)
    except PlaywrightError:
        alert = shown_alert(page)
        why = alert.inner_text() if alert.count() else "no error shown"
        pytest.fail(f"logging in as {username!r} failed: {why}", pytrace=False)
    return page


@pytest.fixture
def run_cli(server_env):
    """Factory: run_cli(ARGS..., stdin=None) runs `flask --app webapp ARGS` on the server's database."""
    return functools.partial(flask_cli, server_env)
