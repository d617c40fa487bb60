"""A user's own password over HTTP: changing it (the current one, the new one twice; other sessions
end, this one goes on), and a one-time password that opens nothing else, on any route, until changed."""

import re

import pytest
from sqlalchemy import select

from tests.factories import HX, PASSWORD, FreshRequestClient, csrf_token, soup
from webapp.models import AuditEvent, User, db
from webapp.services import accounts
from webapp.web.account import BEFORE_CHANGING

NEW = "my own new password"


@pytest.fixture
def other_client(app):
    app.test_client_class = FreshRequestClient
    return app.test_client()


def log_in(client, username, password=PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url, data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )


def change(client, current=PASSWORD, new=NEW, again=None, url="/account/password"):
    token = csrf_token(client, "/account/password")
    data = {
        "csrf_token": token,
        "current": current,
        "password": new,
        "password_again": new if again is None else again,
    }
    return client.post(url, data=data)


def test_changing_my_password_keeps_this_session_and_ends_the_others(client, login, other_client):
    login("maria")
    assert log_in(other_client, "maria").status_code == 302
    response = change(client)
    assert response.status_code == 303 and response.location == "/"
    page = soup(client.get("/"))
    assert (
        "Your password is changed. Any other session of yours has ended."
        in page.select_one(".flash").get_text()
    )
    assert client.get("/", headers=HX).status_code == 200
    assert other_client.get("/", headers=HX).status_code == 401
    assert log_in(other_client, "maria").status_code == 401
    assert log_in(other_client, "maria", NEW).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password_change"))
    assert event.actor.username == "maria" and event.after == {"user": "maria", "one_time": False}


def test_the_page_asks_for_the_current_password_and_the_new_one_twice(client, login):
    login("maria")
    form = soup(client.get("/account/password")).find("form", class_="login")
    assert [field["name"] for field in form.find_all("input", type="password")] == [
        "current",
        "password",
        "password_again",
    ]
    assert form.find("input", attrs={"name": "csrf_token"})


@pytest.mark.parametrize(
    "current, new, again, slot, message",
    [
        ("not my password", NEW, NEW, "current", "The current password is not right."),
        (PASSWORD, NEW, "something else", "password_again", "The two new passwords differ."),
        (PASSWORD, "short", "short", "password", "Password must be at least 8 characters."),
        (PASSWORD, PASSWORD, PASSWORD, "password", "The new password must not be the current one."),
    ],
)
def test_a_refused_change_is_a_422_named_beside_its_field(client, login, current, new, again, slot, message):
    login("maria")
    response = change(client, current, new, again)
    assert response.status_code == 422
    page = soup(response)
    assert page.find(id=f"error-{slot}").get_text() == message
    assert page.find("input", attrs={"name": slot})["aria-invalid"] == "true"
    assert log_in(client, "maria").status_code == 302  # the password is as it was


def test_the_change_needs_the_csrf_token(client, login):
    login("maria")
    response = client.post(
        "/account/password", data={"current": PASSWORD, "password": NEW, "password_again": NEW}
    )
    assert response.status_code == 400
    assert log_in(client, "maria").status_code == 302


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/account/password").location.startswith("/login?next=")


@pytest.fixture
def one_time(client, make_user):
    """maria, logged in with a one-time password an admin made: the client, and that password."""
    make_user("maria")
    password = accounts.reset_password("maria")
    response = log_in(client, "maria", password, next_url="/stats")
    assert response.status_code == 302
    return client, password


def test_a_one_time_password_is_changed_before_anything_else_then_on_to_the_page_asked_for(one_time):
    client, password = one_time
    response = client.get("/decisions/recent")
    assert response.status_code == 302 and response.location == "/account/password?next=/decisions/recent"
    page = soup(client.get(response.location))
    assert "You logged in with a one-time password" in page.get_text()
    done = change(client, password, url=response.location)
    assert done.status_code == 303 and done.location == "/decisions/recent"
    assert client.get("/decisions/recent").status_code == 200
    assert not db.session.scalar(select(User.must_change_password).where(User.username == "maria"))


def test_htmx_is_sent_to_change_it_with_a_redirect_of_the_whole_page(one_time):
    client, _ = one_time
    response = client.get("/", headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/account/password"


def test_logging_out_is_allowed_with_a_one_time_password(one_time):
    client, _ = one_time
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 302 and response.location == "/login"


def test_no_route_opens_before_a_one_time_password_is_changed(app, one_time):
    """Every route of the URL map, asked for as a page and by htmx (GET, and POST with a valid token)."""
    client, _ = one_time
    token = csrf_token(client, "/account/password")
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BEFORE_CHANGING:
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for headers in ({}, HX):
                send = client.get if method == "GET" else client.post
                response = send(
                    url, data={"csrf_token": token} if method == "POST" else None, headers=headers
                )
                tried += 1
                where = response.headers.get("HX-Redirect") if headers else response.location
                assert (response.status_code, where and where.split("?")[0]) == (
                    204 if headers else 302,
                    "/account/password",
                ), f"{method} {url} {headers}"
    assert tried > 40
    assert {"users.index", "queue.index", "articles.approve", "exports.download"} <= {
        rule.endpoint for rule in app.url_map.iter_rules()
    }
