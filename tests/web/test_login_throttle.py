"""Login throttling: failed logins counted per address and per username, a 429 that says how long to
wait, and counters shared between processes through Redis."""

import pytest
from flask import request

from tests.factories import PASSWORD, csrf_token, make_app, soup
from webapp.config import ConfigError
from webapp.models import db


def attempt(client, username, password, address="127.0.0.1", forwarded_for=None):
    """POST /login from `address` (a proxy's, with `forwarded_for`) with a valid CSRF token."""
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
    )


def test_the_right_password_is_refused_after_ten_wrong_ones_for_that_user(client, make_user):
    make_user("maria")
    # From ten addresses, so that only the per-username counter can stop the eleventh.
    for n in range(10):
        assert attempt(client, "maria", "wrong password", f"127.0.0.{n + 2}").status_code == 401
    response = attempt(client, "Maria ", PASSWORD, "127.0.0.99")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    page = soup(response)
    assert "Too many failed logins" in page.select_one("p.error[role=alert]").text
    assert page.select_one("form input[name=username]") is not None
    assert client.get("/").status_code == 302


def test_one_address_trying_many_usernames_is_stopped(client, make_user):
    make_user("maria")
    for n in range(10):
        assert attempt(client, f"guess{n}", "wrong password").status_code == 401
    assert attempt(client, "maria", PASSWORD).status_code == 429
    assert attempt(client, "maria", PASSWORD, "127.0.0.2").status_code == 302


def test_a_locked_username_does_not_lock_out_the_others(client, make_user):
    make_user("maria")
    make_user("lead", role="lead")
    for n in range(11):
        attempt(client, "maria", "wrong password", f"127.0.0.{n + 2}")
    assert attempt(client, "lead", PASSWORD, "127.0.0.50").status_code == 302


def test_successful_logins_do_not_count(client, make_user):
    make_user("maria")
    for _ in range(15):
        assert attempt(client, "maria", PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_the_hourly_limit_holds_past_the_minute(app, client, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute; 3 per hour"
    make_user("maria")
    for _ in range(3):
        assert attempt(client, "maria", "wrong password").status_code == 401
    response = attempt(client, "maria", PASSWORD)
    assert response.status_code == 429 and 60 < int(response.headers["Retry-After"]) <= 3600
    assert "minutes" in soup(response).select_one("p.error").text


def test_logout_and_the_login_page_are_not_throttled(client, login):
    login("maria")
    for _ in range(12):
        assert client.get("/login").status_code == 200
    for _ in range(12):
        assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert attempt(client, "maria", PASSWORD).status_code == 302


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(
    app, migrated, make_user, hops
):
    proxied = make_app(migrated, TRUSTED_PROXIES=hops, LOGIN_RATE_LIMIT="3 per minute")
    make_user("maria")
    client = proxied.test_client()
    # Every request comes from the proxy at 10.0.0.1; three guesses from one client behind it.
    for n in range(3):
        assert attempt(client, f"guess{n}", "wrong", "10.0.0.1", "198.51.100.7").status_code == 401
    # That client cannot pass for another by forging an address before the one its proxy wrote...
    assert attempt(client, "maria", PASSWORD, "10.0.0.1", "192.0.2.66, 198.51.100.7").status_code == 429
    # ...but another client is counted on its own, when the proxy is trusted; untrusted, all are one.
    assert attempt(client, "maria", PASSWORD, "10.0.0.1", "198.51.100.8").status_code == (
        302 if hops else 429
    )
    with proxied.app_context():
        db.engine.dispose()


def test_a_bad_limit_in_the_environment_is_refused_with_its_name(monkeypatch, migrated):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "ten a minute")
    with pytest.raises(ConfigError, match="LOGIN_RATE_LIMIT must be limits like"):
        make_app(migrated)


@pytest.fixture
def redis_apps(app, migrated, login_counters):
    """Two apps (two workers, say) counting logins in Redis under a key prefix of this test's own."""
    apps = [
        make_app(
            migrated, RATELIMIT_STORAGE_URI=login_counters.url, RATELIMIT_KEY_PREFIX=login_counters.prefix
        )
        for _ in "ab"
    ]
    yield apps, login_counters.connection, login_counters.prefix
    for other in apps:
        with other.app_context():
            db.engine.dispose()


def test_failed_logins_are_counted_in_redis_across_processes(redis_apps, make_user):
    (first, second), connection, prefix = redis_apps
    make_user("maria")
    one, two = first.test_client(), second.test_client()
    for n in range(10):
        client = one if n % 2 else two
        assert attempt(client, "maria", "wrong password", f"127.0.0.{n + 2}").status_code == 401
    assert any(connection.scan_iter(f"*{prefix}*"))
    assert attempt(one, "maria", PASSWORD, "127.0.0.99").status_code == 429
    assert attempt(two, "maria", PASSWORD, "127.0.0.99").status_code == 429


def test_an_unreachable_redis_still_throttles_in_each_process(app, migrated, make_user):
    # Port 9 (discard) is closed here: the limiter falls back to counting in memory, with no 500.
    unreachable = make_app(migrated, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    make_user("maria")
    client = unreachable.test_client()
    for _ in range(10):
        assert attempt(client, "maria", "wrong password").status_code == 401
    assert attempt(client, "maria", PASSWORD).status_code == 429
    with unreachable.app_context():
        db.engine.dispose()


def test_the_limiter_runs_around_the_login_blueprint_only(app, client, login, monkeypatch):
    limiter = app.extensions["login_limiter"]
    checked = []
    check = limiter._check_request_limit
    for hooks in app.before_request_funcs.values():
        hooks[:] = [
            (lambda: checked.append(request.endpoint) or check()) if hook == check else hook for hook in hooks
        ]
    login()
    assert client.get("/").status_code == 200
    assert client.get("/stats").status_code in (200, 403)
    assert checked and set(checked) == {"auth.login"}  # the login page and the POST, nothing after
