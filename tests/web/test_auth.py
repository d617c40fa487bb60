"""Logging in and out, sessions that end, and what anonymous users may see."""

import pytest

from tests.factories import HX, MINIMAL, PASSWORD, csrf_token, seed_text
from webapp.models import db
from webapp.services.seed_import import import_paths
from webapp.web import auth

T0 = 1_700_000_000
HOUR = 3600


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand: `clock.now` is the current time in seconds."""

    class Clock:
        now = T0

        def advance(self, seconds):
            self.now += seconds

    moving = Clock()
    monkeypatch.setattr(auth, "clock", lambda: moving.now)
    return moving


def session_cookie(client):
    return client.get_cookie("session").value


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_login_page_has_labelled_fields_and_strict_csp(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert (
        '<label for="username">Username</label>' in html and '<label for="password">Password</label>' in html
    )
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_login_then_queue_then_logout(client, make_user):
    make_user("maria")
    response = client.post(
        "/login?next=/", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username, password", [("maria", "wrong password"), ("nobody", PASSWORD)])
def test_wrong_login_does_not_reveal_whether_user_exists(client, make_user, username, password):
    make_user("maria")
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused_with_a_message(client, make_user):
    make_user("maria")
    response = client.post("/login", data={"username": "maria", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_needs_csrf(client, login):
    login()
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_only_redirects_within_the_site(client, make_user, target):
    make_user("maria")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.location == "/"


def test_disabled_user_is_logged_out_at_once(client, login):
    user = login()
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_queue_escapes_seed_text(client, login, tmp_path):
    path = tmp_path / "xss.md"
    path.write_text(seed_text(MINIMAL.replace('"A title"', '"<script>alert(1)</script>"')), encoding="utf-8")
    import_paths([str(path)], max_bytes=10_000)
    login()
    html = client.get("/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_unknown_page_is_a_plain_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "404 · Not Found" in response.get_data(as_text=True)


def test_a_new_password_ends_existing_sessions(client, login, runner):
    login("maria")
    assert client.get("/").status_code == 200
    result = runner.invoke(
        args=["users", "set-password", "maria", "--password-stdin"], input="another long password\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302


def test_re_enabling_does_not_revive_an_old_session(client, login, runner):
    login("maria")
    make_admin = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--password-stdin"], input="root password long\n"
    )
    assert make_admin.exit_code == 0, make_admin.output
    assert runner.invoke(args=["users", "disable", "maria"]).exit_code == 0
    assert runner.invoke(args=["users", "enable", "maria"]).exit_code == 0
    assert client.get("/").status_code == 302


def test_session_cookie_with_a_forged_token_is_anonymous(client, login):
    user = login("maria")
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:forged"
    assert client.get("/").status_code == 302


def test_a_cookie_copied_before_logout_is_refused_after_it(client, login):
    login("maria")
    copied = session_cookie(client)
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    client.set_cookie("session", copied)
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_a_copied_cookie_replayed_by_htmx_gets_401_and_a_way_to_the_login_page(client, login):
    login("maria")
    copied = session_cookie(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    client.set_cookie("session", copied)
    response = client.get(
        "/queue/changes",
        query_string={"since": "2024-01-01T00:00:00+00:00"},
        headers={**HX, "HX-Current-URL": "http://localhost/?status=pending"},
    )
    assert response.status_code == 401 and response.headers["HX-Retarget"] == "#session-ended"
    assert 'href="/login?next=%2F%3Fstatus%3Dpending"' in response.get_data(as_text=True)


def test_logout_ends_the_users_other_sessions_too(app, client, login):
    # Without a session table the per-user token is what the server holds: rotating it ends them all.
    login("maria")
    other = app.test_client()
    other.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert other.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert other.get("/").status_code == 302


def test_a_csrf_token_planted_before_login_does_not_work_after_it(client, make_user):
    make_user("maria")
    planted_token = csrf_token(client)
    planted_cookie = session_cookie(client)
    response = client.post(
        "/login", data={"username": "maria", "password": PASSWORD, "csrf_token": planted_token}
    )
    assert response.status_code == 302
    assert session_cookie(client) != planted_cookie
    assert client.post("/logout", data={"csrf_token": planted_token}).status_code == 400
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302


def test_login_as_someone_else_keeps_nothing_of_the_first_session(client, make_user):
    make_user("maria")
    lead = make_user("lead", role="lead")
    tokens = []
    for username in ("maria", "lead"):
        tokens.append(csrf_token(client, "/login" if not tokens else "/"))
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": tokens[-1]})
    with client.session_transaction() as session:
        assert session["_user_id"].startswith(f"{lead.id}:")
    assert client.post("/logout", data={"csrf_token": tokens[0]}).status_code == 400


def test_a_session_idle_too_long_ends_on_the_server(app, client, login, clock):
    app.config["SESSION_IDLE_MINUTES"] = 30
    login("maria")
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200, "activity renews the idle limit"
    clock.advance(31 * 60)
    assert client.get("/").status_code == 302
    clock.advance(-31 * 60)
    assert client.get("/").status_code == 302, "an expired session is forgotten, not only refused"


def test_the_queue_polling_by_itself_does_not_keep_a_session_alive(app, client, login, clock):
    app.config["SESSION_IDLE_MINUTES"] = 30
    login("maria")
    poll = {"query_string": {"since": "2024-01-01T00:00:00+00:00"}, "headers": HX}
    for _ in range(3):
        clock.advance(10 * 60)
        assert client.get("/queue/changes", **poll).status_code == 200
    clock.advance(5 * 60)
    assert client.get("/queue/changes", **poll).status_code == 401


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, client, login, clock):
    app.config["SESSION_IDLE_MINUTES"] = 60
    app.config["SESSION_MAX_HOURS"] = 8
    login("maria")
    for _ in range(16):
        clock.advance(HOUR / 2)
        assert client.get("/").status_code == 200
    clock.advance(60)
    assert client.get("/").status_code == 302


def test_a_session_from_before_the_lifetimes_were_kept_is_refused(client, login):
    login("maria")
    with client.session_transaction() as session:
        del session["started_at"]
    assert client.get("/").status_code == 302


def test_session_lifetimes_come_from_the_environment(monkeypatch, migrated):
    from tests.factories import make_app

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("SESSION_MAX_HOURS", "24")
    config = make_app(migrated).config
    assert (config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"]) == (15, 24)
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 24 * HOUR
