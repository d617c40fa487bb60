"""Logging in and out, sessions that end, and what anonymous users may see."""

import pytest

from tests.factories import MINIMAL, PASSWORD, csrf_token, seed_text
from webapp.models import db
from webapp.services.seed_import import import_paths


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
