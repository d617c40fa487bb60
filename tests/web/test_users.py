"""The admins' Users page over HTTP: the list and its filters, a new user, each change to an account,
the same rules as the command line, CSRF, and what the audit log shows of it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import HX, PASSWORD, FreshRequestClient, csrf_token, soup
from webapp.models import APPROVED, Article, AuditEvent, User, db, utcnow
from webapp.services import accounts, moderation
from webapp.services.seed_import import import_paths

ADMIN_ROUTES = ["role", "disable", "enable", "reset-password", "end-sessions"]


@pytest.fixture
def admin(client, login):
    """The client, logged in as the admin `root`."""
    login("root", "admin")
    return client


@pytest.fixture
def other_client(app):
    """A second browser: its own cookies."""
    app.test_client_class = FreshRequestClient
    return app.test_client()


def log_in(client, username, password=PASSWORD):
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )


def send(client, url, headers=None, **data):
    """POST a form of the Users page, with the page's CSRF token."""
    return client.post(
        url, data={"csrf_token": csrf_token(client, "/admin/users"), **data}, headers=headers or {}
    )


def stored(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def rows(response) -> dict[str, dict[str, str]]:
    """The listed users: username -> their cells, by column label."""
    listed = {}
    for row in soup(response).select("tr.user"):
        cells = {cell["data-label"]: cell.get_text(" ", strip=True) for cell in row.select("[data-label]")}
        listed[cells["User"].removesuffix(" you")] = cells
    return listed


def one_time_password(response) -> str:
    return soup(response).select_one("code.one-time-password").get_text()


def account_events() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id.is_(None)).order_by(AuditEvent.id)
    ).all()


def test_the_list_shows_each_users_role_state_dates_and_recent_decisions(admin, make_user):
    maria = make_user("maria")
    lee = make_user("lee", "lead")
    accounts.set_active("lee", False)
    import_paths(["seeds"], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, maria, APPROVED, 1)
    response = admin.get("/admin/users")
    assert response.status_code == 200
    listed = rows(response)
    assert set(listed) == {"root", "maria", "lee"}
    assert listed["maria"]["Role"] == "moderator" and listed["maria"]["State"] == "active"
    assert listed["maria"]["Decisions, 30 days"] == "1" and listed["lee"]["Decisions, 30 days"] == "0"
    assert listed["lee"]["State"] == "disabled" and listed["lee"]["Last login"] == "never"
    assert listed["root"]["Last login"] == "0 s ago" and listed["maria"]["Created"].endswith("s ago")
    row = soup(response).find("tr", id=f"user-{lee.id}")
    assert [button.get_text() for button in row.find_all("button")] == [
        "Change role lee",
        "Enable lee",
        "Reset password lee",
        "End sessions lee",
    ]
    assert [th.get_text() for th in soup(response).select("table.users thead th")] == [
        "User",
        "Role",
        "State",
        "Created",
        "Last login",
        "Decisions, 30 days",
        "Change",
    ]


def test_decisions_older_than_30_days_are_not_counted(admin, make_user):
    maria = make_user("maria")
    import_paths(["seeds"], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, maria, APPROVED, 1)
    article.decided_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert rows(admin.get("/admin/users"))["maria"]["Decisions, 30 days"] == "0"


def test_filters_by_role_and_state_as_a_page_and_as_rows(admin, make_user):
    make_user("maria")
    make_user("lee", "lead")
    make_user("lena", "lead")
    accounts.set_active("lena", False)
    assert set(rows(admin.get("/admin/users?role=lead"))) == {"lee", "lena"}
    assert set(rows(admin.get("/admin/users?state=disabled"))) == {"lena"}
    fragment = admin.get("/admin/users?role=lead&state=active", headers=HX)
    assert fragment.status_code == 200 and soup(fragment).find("html") is None
    assert set(rows(fragment)) == {"lee"}
    assert "HX-Request" in fragment.headers["Vary"]
    page = soup(admin.get("/admin/users?role=lead"))
    assert page.select_one('#user-filters select[name="role"] option[selected]').get_text() == "lead"
    none = admin.get("/admin/users?role=admin&state=disabled")
    assert rows(none) == {} and "No users match." in soup(none).get_text()


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("role=owner", "role", "Role must be one of moderator, lead, admin."),
        ("state=gone", "state", "State must be one of active, disabled."),
    ],
)
def test_a_bad_filter_is_a_422_named_beside_its_field(admin, query, field, message):
    page = admin.get(f"/admin/users?{query}")
    assert page.status_code == 422
    assert soup(page).find(id=f"error-{field}").get_text() == message
    assert soup(page).select_one(f'#user-filters select[name="{field}"]')["aria-invalid"] == "true"
    fragment = admin.get(f"/admin/users?{query}", headers=HX)
    assert fragment.status_code == 422
    slot = soup(fragment).find(id=f"error-{field}")
    # Text inside a <template> is left out of get_text(): the slot's markup is its text here.
    assert slot["hx-swap-oob"] == "true" and slot.decode_contents() == message
    assert set(rows(fragment)) == {"root"}  # the value that cannot be used filters nothing


def test_a_new_user_gets_a_one_time_password_shown_once(admin, other_client):
    response = send(admin, "/admin/users", HX, username="maria", role="moderator", password_kind="one-time")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    answer = soup(response)
    assert "Created moderator maria." in answer.find(id="new-user").get_text()
    password = one_time_password(response)
    assert len(password) == 16
    row = answer.find("tbody", attrs={"hx-swap-oob": "afterbegin:#user-rows"}).find("tr")
    assert row["id"] == f"user-{stored('maria').id}" and "one-time password" in row.decode_contents()
    assert answer.find("input", attrs={"name": "username"})["value"] == ""
    user = stored("maria")
    assert user.must_change_password and password not in user.password_hash
    assert password not in admin.get("/admin/users").get_data(as_text=True)
    login = log_in(other_client, "maria", password)
    assert login.status_code == 302
    assert other_client.get(login.location).location == "/account/password?next=/"


def test_a_new_user_with_a_password_typed_twice(admin, other_client):
    response = send(
        admin,
        "/admin/users",
        HX,
        username="lee",
        role="lead",
        password_kind="typed",
        password="a typed password",
        password_again="a typed password",
    )
    assert response.status_code == 200 and soup(response).select_one("code.one-time-password") is None
    assert (stored("lee").role, stored("lee").must_change_password) == ("lead", False)
    assert log_in(other_client, "lee", "a typed password").status_code == 302
    assert other_client.get("/").status_code == 200


@pytest.mark.parametrize(
    "form, slot, message",
    [
        (
            {"password": "a typed password", "password_again": "another one"},
            "password_again",
            "The two passwords differ.",
        ),
        (
            {"password": "short", "password_again": "short"},
            "password",
            "Password must be at least 8 characters.",
        ),
        ({"username": "  "}, "username", "Username must not be empty."),
        ({"username": "x" * 81}, "username", "Username must be at most 80 characters."),
        ({"username": "root"}, "username", "User 'root' already exists."),
        ({"role": "owner"}, "role", "Role must be one of moderator, lead, admin, got 'owner'."),
    ],
)
def test_a_refused_new_user_is_a_422_named_beside_its_field(admin, form, slot, message):
    data = {
        "username": "maria",
        "role": "moderator",
        "password_kind": "typed",
        "password": "a typed password",
        "password_again": "a typed password",
        **form,
    }
    for headers in (HX, {}):
        response = send(admin, "/admin/users", headers, **data)
        assert response.status_code == 422
        assert soup(response).find(id=f"error-new-{slot}").get_text() == message
        assert (
            soup(response).find(id="new-user").find("input", attrs={"name": "username"})["value"]
            == data["username"]
        )
    assert set(rows(admin.get("/admin/users"))) == {"root"}


def test_without_javascript_the_new_users_password_is_on_the_page(admin):
    response = send(admin, "/admin/users", username="maria", role="lead", password_kind="one-time")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = soup(response)
    assert page.find("html") and "Created lead maria." in page.find(id="new-user").get_text()
    assert len(one_time_password(response)) == 16 and "maria" in rows(response)


def test_disable_ends_the_users_open_session_at_their_next_request(admin, make_user, other_client):
    maria = make_user("maria")
    assert log_in(other_client, "maria").status_code == 302
    assert other_client.get("/").status_code == 200
    response = send(admin, f"/admin/users/{maria.id}/disable", HX)
    assert response.status_code == 200
    row = soup(response).find("tr", id=f"user-{maria.id}")
    assert "disabled" in row["class"] and "maria is disabled" in row.find(role="status").get_text()
    ended = other_client.get("/", headers=HX)
    assert ended.status_code == 401 and ended.headers["HX-Retarget"] == "#session-ended"
    assert other_client.get("/").location.startswith("/login")
    assert log_in(other_client, "maria").status_code == 401
    enabled = send(admin, f"/admin/users/{maria.id}/enable", HX)
    assert "maria may log in again." in soup(enabled).get_text()
    assert log_in(other_client, "maria").status_code == 302


def test_without_javascript_a_change_goes_back_to_the_list_saying_what_it_did(admin, make_user):
    maria = make_user("maria")
    response = send(admin, f"/admin/users/{maria.id}/disable")
    assert response.status_code == 303 and response.location == "/admin/users"
    page = soup(admin.get(response.location))
    assert (
        "maria is disabled; their open sessions end at their next click."
        in page.select_one(".flash").get_text()
    )
    assert rows(admin.get("/admin/users"))["maria"]["State"] == "disabled"


@pytest.mark.parametrize(
    "route, form, message",
    [
        ("disable", {}, "Cannot disable 'root': it is the last active admin."),
        ("role", {"role": "lead"}, "Cannot demote 'root': it is the last active admin."),
    ],
)
def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(admin, route, form, message):
    root = stored("root")
    for headers in (HX, {}):
        response = send(admin, f"/admin/users/{root.id}/{route}", headers, **form)
        assert response.status_code == 422
        row = soup(response).find("tr", id=f"user-{root.id}")
        assert row.find(role="alert").get_text(strip=True) == message
    assert (stored("root").role, stored("root").active) == ("admin", True)
    assert [event.action for event in account_events()] == ["user_create"]


def test_an_admin_may_be_disabled_while_another_stays(admin, make_user):
    deputy = make_user("deputy", "admin")
    assert send(admin, f"/admin/users/{deputy.id}/disable", HX).status_code == 200
    assert send(admin, f"/admin/users/{stored('root').id}/disable", HX).status_code == 422


def test_change_role_ends_their_sessions_and_says_so(admin, make_user, other_client):
    maria = make_user("maria")
    log_in(other_client, "maria")
    response = send(admin, f"/admin/users/{maria.id}/role", HX, role="lead")
    assert response.status_code == 200 and stored("maria").role == "lead"
    row = soup(response).find("tr", id=f"user-{maria.id}")
    assert row.find("td", attrs={"data-label": "Role"}).get_text() == "lead"
    assert "maria is now lead" in row.find(role="status").get_text()
    assert other_client.get("/").location.startswith("/login")
    same = send(admin, f"/admin/users/{maria.id}/role", HX, role="lead")
    assert "maria is already lead." in soup(same).get_text()
    assert [event.action for event in account_events()].count("user_role") == 1


def test_reset_password_shows_a_one_time_password_once(admin, make_user, other_client):
    maria = make_user("maria")
    log_in(other_client, "maria")
    response = send(admin, f"/admin/users/{maria.id}/reset-password", HX)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = one_time_password(response)
    assert other_client.get("/").location.startswith("/login")
    assert log_in(other_client, "maria", PASSWORD).status_code == 401
    assert log_in(other_client, "maria", password).status_code == 302
    assert other_client.get("/").location == "/account/password?next=/"
    page = send(admin, f"/admin/users/{maria.id}/reset-password")
    assert page.status_code == 200 and soup(page).find("html")
    assert one_time_password(page) != password
    assert soup(page).find("tr", id=f"user-{maria.id}").select_one("code.one-time-password")


def test_end_sessions_logs_the_user_out_everywhere(admin, make_user, other_client):
    maria = make_user("maria")
    log_in(other_client, "maria")
    response = send(admin, f"/admin/users/{maria.id}/end-sessions", HX)
    assert response.status_code == 200 and "maria's sessions have ended" in soup(response).get_text()
    assert other_client.get("/", headers=HX).status_code == 401
    assert log_in(other_client, "maria").status_code == 302 and other_client.get("/").status_code == 200


@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_an_unknown_user_is_a_404(admin, route):
    assert send(admin, f"/admin/users/99999/{route}", role="lead").status_code == 404


@pytest.mark.parametrize("route", ["", *(f"/{{user}}/{name}" for name in ADMIN_ROUTES)])
def test_every_change_needs_the_csrf_token(admin, make_user, route):
    maria = make_user("maria")
    url = "/admin/users" + route.format(user=maria.id)
    response = admin.post(url, data={"username": "eve", "role": "admin"})
    assert response.status_code == 400
    assert stored("eve") is None and (stored("maria").role, stored("maria").active) == ("moderator", True)
    assert [event.action for event in account_events()] == ["user_create", "user_create"]


def test_only_admins_see_the_users_link_and_everyone_change_password(client, login):
    for name, role in (("maria", "moderator"), ("lee", "lead"), ("root", "admin")):
        login(name, role)
        header = soup(client.get("/")).find("header")
        users = header.find("a", string="Users")
        assert (users["href"] if users else None) == ("/admin/users" if role == "admin" else None)
        assert header.find("a", string="Change password")["href"] == "/account/password"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_every_change_is_in_the_audit_log_with_its_own_action(admin, make_user):
    maria = make_user("maria")
    root_id = stored("root").id
    send(admin, "/admin/users", HX, username="lee", role="lead", password_kind="one-time")
    send(admin, f"/admin/users/{maria.id}/role", HX, role="lead")
    send(admin, f"/admin/users/{maria.id}/disable", HX)
    send(admin, f"/admin/users/{maria.id}/enable", HX)
    send(admin, f"/admin/users/{maria.id}/reset-password", HX)
    send(admin, f"/admin/users/{maria.id}/end-sessions", HX)
    events = account_events()[2:]  # after root's and maria's creation (no actor: not on the page)
    assert [(event.action, event.actor_id) for event in events] == [
        ("user_create", root_id),
        ("user_role", root_id),
        ("user_disable", root_id),
        ("user_enable", root_id),
        ("user_password_reset", root_id),
        ("user_sessions_end", root_id),
    ]
    assert [(event.before, event.after) for event in events[1:3]] == [
        ({"user": "maria", "role": "moderator"}, {"user": "maria", "role": "lead"}),
        ({"user": "maria", "active": True}, {"user": "maria", "active": False}),
    ]
    page = soup(admin.get("/audit"))
    cells = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")][1:] for tr in page.select("#audit-rows tr")
    ]
    assert cells[:6] == [
        ["root", "user_sessions_end", "user maria", "maria: sessions ended"],
        [
            "root",
            "user_password_reset",
            "user maria",
            "maria: one-time password made, own password → one-time password",
        ],
        ["root", "user_enable", "user maria", "maria: user enabled, disabled → active"],
        ["root", "user_disable", "user maria", "maria: user disabled, active → disabled"],
        ["root", "user_role", "user maria", "maria: role changed, moderator → lead"],
        ["root", "user_create", "user lee", "lee: user created, lead, active, one-time password"],
    ]
    options = [option.get_text() for option in page.select('select[name="action"] option')]
    assert {"user_create", "user_role", "user_disable", "password_change"} <= set(options)
    filtered = soup(admin.get("/audit?action=user_disable", headers=HX))
    assert [tr.find_all("td")[2].get_text() for tr in filtered.select("tr:not(.empty)")] == ["user_disable"]
    stored_text = " ".join(str((event.before, event.after)) for event in account_events())
    hashes = db.session.scalars(select(User.password_hash)).all()
    assert not any(stored_hash in stored_text for stored_hash in hashes)
    assert not re.search(r"scrypt|pbkdf2|'password'", stored_text)
