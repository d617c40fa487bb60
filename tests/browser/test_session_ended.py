"""A session that ends while the queue is open: a banner with a way back, never the login page in the panel.

Each way a session ends is tried during an htmx action (Reject, with a reason typed) and while
opening an article; the banner's link logs in and comes back to the same article, the reason
still typed.
"""

import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.factories import PASSWORD, assert_no_reload, expect, queue_with

BANNER = "Your session ended: log in again"
REASON = "Off-topic: a football transfer rumour"
IDLE_MINUTES = 12 * 60  # the server's SESSION_IDLE_MINUTES (the default)


def _serializer(secret: str):
    app = Flask("forge")
    app.secret_key = secret
    return SecureCookieSessionInterface().get_signing_serializer(app)


def _rewrite_session(page, secret: str, change) -> None:
    """Sign the session cookie again, with `change` applied to its data, under `secret`."""
    cookie = next(each for each in page.context.cookies() if each["name"] == "session")
    data = _serializer(page.server_secret).loads(cookie["value"])
    change(data)
    page.context.add_cookies([{**cookie, "value": _serializer(secret).dumps(data)}])


def _idle(page, cli, username):
    def long_ago(data):
        data["seen_at"] = int(time.time()) - IDLE_MINUTES * 60 - 60

    _rewrite_session(page, page.server_secret, long_ago)


def _cookies_cleared(page, cli, username):
    page.context.clear_cookies()


def _logged_out_in_another_tab(page, cli, username):
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Log out").click()
    other.wait_for_url(re.compile(r"/login"))
    other.close()


def _secret_rotated(page, cli, username):
    _rewrite_session(page, "the server's previous secret", lambda data: None)


def _csrf_token_mangled(page, cli, username):
    page.evaluate(
        """() => {
        document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": "mangled"}));
        for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = "mangled";
    }"""
    )


def _demoted(page, cli, username):
    cli("users", "set-role", username, "moderator")


def _disabled(page, cli, username):
    cli("users", "disable", username)


ENDINGS = {
    "idle": _idle,
    "cookies-cleared": _cookies_cleared,
    "logged-out-in-another-tab": _logged_out_in_another_tab,
    "secret-rotated": _secret_rotated,
    "csrf-token-mangled": _csrf_token_mangled,
    "demoted": _demoted,
    "disabled": _disabled,
}


@pytest.fixture
def desk_user(server_env, run_cli, logged_in_page, console_errors):
    """Factory: a new lead of their own (so that ending their sessions touches no other test), logged in."""

    def make():
        username = f"s{uuid.uuid4().hex[:10]}"
        run_cli(
            "users",
            "create",
            username,
            "--role",
            "lead",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        page = logged_in_page(username)
        page.server_secret = server_env["SECRET_KEY"]
        return page, username

    yield make
    # The refusals themselves are the point: Chromium logs each as a failed resource.
    console_errors[:] = [e for e in console_errors if not re.search(r"status of 40[013]\b", e)]


def _log_in_again(page, cli, username, ending, back):
    """Follow the banner's link (once it leads back to `back`), log in, and land on `back`."""
    page.wait_for_function(
        """back => {
            const link = document.querySelector("#session-ended a");
            const url = link && new URL(link.href);
            return url && url.pathname === "/login" && url.searchParams.get("next") === back;
        }""",
        arg=back,
    )
    link = page.locator("#session-ended").get_by_role("link", name="log in again")
    if ending == "disabled":
        cli("users", "enable", username)
    link.click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: _path_and_query(url) == back)


def _path_and_query(url: str) -> str:
    """/articles/5?q=… : an article's address keeps the queue's filters (a reload shows the same queue)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _assert_banner_and_no_login_page(page):
    banner = page.locator("#session-ended")
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text(BANNER)
    expect(page.locator("form.login")).to_have_count(0)
    expect(page.get_by_label("Password")).to_have_count(0)
    assert urlsplit(page.url).path != "/login"
    assert_no_reload(page)


@pytest.mark.parametrize("ending", ENDINGS)
def test_action_after_the_session_ended_shows_the_banner_and_keeps_the_reason(
    desk_user, story, run_cli, ending
):
    title = story()
    page, username = desk_user()
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(title)
    article_path = _path_and_query(page.url)
    panel.get_by_label("Reason", exact=True).fill(REASON)

    ENDINGS[ending](page, run_cli, username)
    panel.get_by_role("button", name="Reject").click()

    _assert_banner_and_no_login_page(page)
    expect(panel.get_by_role("heading", level=2)).to_have_text(title)
    expect(panel.locator(".moderation .status")).to_have_text("Pending")
    _log_in_again(page, run_cli, username, ending, article_path)
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(title)
    expect(panel.get_by_label("Reason", exact=True)).to_have_value(REASON)
    panel.get_by_role("button", name="Reject").click()
    expect(panel.locator(".moderation .reason")).to_have_text(f"Reason: {REASON}")


@pytest.mark.parametrize("ending", ENDINGS)
def test_opening_an_article_after_the_session_ended_shows_the_banner(desk_user, story, run_cli, ending):
    title = story()
    page, username = desk_user()
    row = queue_with(page, title)
    # Opening it asks for its address with the queue's filters, which the link back keeps.
    query = urlsplit(page.url).query
    article_path = row.locator("a[data-open]").get_attribute("href") + (f"?{query}" if query else "")

    ENDINGS[ending](page, run_cli, username)
    row.locator("a[data-open]").click()

    _assert_banner_and_no_login_page(page)
    _log_in_again(page, run_cli, username, ending, article_path)
    expect(page.locator("#panel").get_by_role("heading", level=2)).to_have_text(title)
