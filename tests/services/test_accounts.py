"""The `users` commands and the service functions they share with the Users page: the first admin,
passwords (one-time ones too), enabling and disabling, roles, ending sessions, listing, the last-admin
guard, and the audit event each change writes."""

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, SEEDS, csrf_token, make_app, soup
from webapp.models import APPROVED, Article, AuditEvent, User, db, utcnow
from webapp.services import accounts, moderation
from webapp.services.accounts import AccountError, UserFilters
from webapp.services.seed_import import import_paths

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def other_client(migrated):
    """A client of a second app on the same database: each request gets its own context and session,
    as in production."""
    other = make_app(migrated)
    yield other.test_client()
    with other.app_context():
        db.engine.dispose()


def log_in(client, username, password):
    """POST /login, seeing only what the command committed."""
    db.session.rollback()
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )


def stored(username):
    """The user as committed to the database."""
    db.session.rollback()
    return db.session.scalar(select(User).where(User.username == username))


def test_set_password_replaces_the_old_one(runner, client, make_user):
    make_user("maria")
    result = runner.invoke(
        args=["users", "set-password", "maria", "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "changed the password of 'maria'" in result.output
    assert log_in(client, "maria", PASSWORD).status_code == 401
    assert log_in(client, "maria", NEW_PASSWORD).status_code == 302


def test_set_password_prompts_twice(runner, client, make_user):
    make_user("maria")
    result = runner.invoke(args=["users", "set-password", "maria"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert log_in(client, "maria", NEW_PASSWORD).status_code == 302


def test_set_password_refuses_a_short_password(runner, client, make_user):
    make_user("maria")
    result = runner.invoke(args=["users", "set-password", "maria", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "password must be at least 8 characters" in result.output
    assert log_in(client, "maria", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "args",
    [
        ["set-password", "nobody", "--password-stdin"],
        ["disable", "nobody"],
        ["enable", "nobody"],
        ["set-role", "nobody", "lead"],
        ["reset-password", "nobody"],
        ["end-sessions", "nobody"],
    ],
)
def test_unknown_user_is_a_clear_error(runner, make_user, args):
    make_user("maria")
    result = runner.invoke(args=["users", *args], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output


def test_disabled_user_cannot_log_in_until_enabled(runner, client, make_user):
    make_user("maria")
    result = runner.invoke(args=["users", "disable", "maria"])
    assert result.exit_code == 0 and "disabled 'maria'" in result.output
    assert stored("maria").active is False
    assert log_in(client, "maria", PASSWORD).status_code == 401
    result = runner.invoke(args=["users", "enable", "maria"])
    assert result.exit_code == 0 and "enabled 'maria'" in result.output
    assert log_in(client, "maria", PASSWORD).status_code == 302


def test_disable_ends_an_open_session(runner, make_user, other_client):
    make_user("maria")
    assert log_in(other_client, "maria", PASSWORD).status_code == 302
    assert other_client.get("/").status_code == 200
    assert runner.invoke(args=["users", "disable", "maria"]).exit_code == 0
    response = other_client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_last_active_admin_cannot_be_disabled(runner, make_user):
    make_user("root", "admin")
    result = runner.invoke(args=["users", "disable", "root"])
    assert result.exit_code == 1 and "cannot disable 'root': it is the last active admin" in result.output
    assert stored("root").active is True


def test_an_admin_can_be_disabled_while_another_stays_active(runner, make_user):
    make_user("root", "admin")
    make_user("deputy", "admin")
    assert runner.invoke(args=["users", "disable", "deputy"]).exit_code == 0
    result = runner.invoke(args=["users", "disable", "root"])
    assert result.exit_code == 1 and "last active admin" in result.output


def test_set_role_changes_what_a_user_may_do(runner, make_user):
    make_user("maria")
    result = runner.invoke(args=["users", "set-role", "maria", "lead"])
    assert result.exit_code == 0 and "'maria' is now lead" in result.output
    assert stored("maria").role == "lead"


def test_set_role_refuses_an_unknown_role(runner, make_user):
    make_user("maria")
    result = runner.invoke(args=["users", "set-role", "maria", "owner"])
    assert result.exit_code == 2 and "'owner' is not one of" in result.output
    assert stored("maria").role == "moderator"


def test_last_active_admin_cannot_be_demoted(runner, make_user):
    make_user("root", "admin")
    result = runner.invoke(args=["users", "set-role", "root", "lead"])
    assert result.exit_code == 1 and "cannot demote 'root': it is the last active admin" in result.output
    assert stored("root").role == "admin"


def test_a_disabled_admin_does_not_count_as_the_remaining_admin(runner, make_user):
    make_user("root", "admin")
    make_user("old", "admin")
    assert runner.invoke(args=["users", "disable", "old"]).exit_code == 0
    result = runner.invoke(args=["users", "set-role", "root", "moderator"])
    assert result.exit_code == 1 and "last active admin" in result.output
    assert runner.invoke(args=["users", "set-role", "old", "lead"]).exit_code == 0


def test_an_admin_can_be_demoted_once_another_is_promoted(runner, make_user):
    make_user("root", "admin")
    make_user("maria")
    assert runner.invoke(args=["users", "set-role", "maria", "admin"]).exit_code == 0
    assert runner.invoke(args=["users", "set-role", "root", "moderator"]).exit_code == 0
    assert stored("root").role == "moderator"


def test_list_prints_one_line_per_user(runner, make_user):
    make_user("root", "admin")
    make_user("maria")
    assert runner.invoke(args=["users", "disable", "maria"]).exit_code == 0
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    today = stored("root").created_at.date().isoformat()
    assert [line.split() for line in result.output.splitlines()] == [
        ["maria", "moderator", "disabled", today],
        ["root", "admin", "active", today],
    ]


def test_list_json(runner, make_user):
    make_user("root", "admin")
    make_user("lee", "lead")
    assert runner.invoke(args=["users", "disable", "lee"]).exit_code == 0
    result = runner.invoke(args=["users", "list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [{k: v for k, v in row.items() if k != "created_at"} for row in rows] == [
        {"username": "lee", "role": "lead", "active": False},
        {"username": "root", "role": "admin", "active": True},
    ]
    assert all(
        datetime.fromisoformat(row["created_at"]) == stored(row["username"]).created_at for row in rows
    )
    assert {tuple(row) for row in rows} == {("username", "role", "active", "created_at")}


def test_list_of_no_users_is_empty(runner):
    plain, as_json = runner.invoke(args=["users", "list"]), runner.invoke(args=["users", "list", "--json"])
    assert (plain.exit_code, plain.output) == (0, "")
    assert as_json.exit_code == 0 and json.loads(as_json.output) == []


@pytest.mark.real_password_hashing
def test_ensure_admin_creates_admin_once_with_a_random_password(runner, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0 and "Created user 'admin' with password: " in first.output
    password = first.output.split("password: ")[1].split()[0]
    assert len(password) >= 12
    admin = db.session.scalar(select(User))
    assert (admin.username, admin.role) == ("admin", "admin")
    assert password not in admin.password_hash and admin.password_hash.startswith("scrypt:")
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0 and second.output == ""


def test_two_fresh_databases_get_different_admin_passwords(runner, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    first = runner.invoke(args=["users", "ensure-admin"])
    db.session.execute(User.__table__.delete())
    db.session.commit()
    second = runner.invoke(args=["users", "ensure-admin"])
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "Created user 'admin'" in first.output and first.output != second.output


def test_ensure_admin_takes_admin_password_from_environment(client, runner, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "from the environment")
    result = runner.invoke(args=["users", "ensure-admin"])
    assert result.exit_code == 0, result.output
    assert "from the environment" not in result.output
    response = client.post(
        "/login",
        data={"username": "admin", "password": "from the environment", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302


def test_users_create_reads_password_from_stdin(runner):
    result = runner.invoke(
        args=["users", "create", "lee", "--role", "lead", "--password-stdin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.username == "lee")) == "lead"
    again = runner.invoke(args=["users", "create", "lee", "--password-stdin"], input="a long password\n")
    assert again.exit_code == 1 and "user 'lee' already exists" in again.output


def one_time_from(output: str) -> str:
    return output.split("one-time password: ")[1].split()[0]


def events() -> list[tuple]:
    """Every account event: action, actor id, before, after."""
    db.session.rollback()
    found = db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id.is_(None)).order_by(AuditEvent.id)
    )
    return [(event.action, event.actor_id, event.before, event.after) for event in found]


def test_create_with_a_one_time_password_prints_it_once_and_it_must_be_changed(runner, client):
    result = runner.invoke(args=["users", "create", "maria", "--one-time"])
    assert result.exit_code == 0, result.output
    password = one_time_from(result.output)
    assert len(password) == 16 and stored("maria").must_change_password
    assert log_in(client, "maria", password).status_code == 302
    assert client.get("/").location == "/account/password?next=/"
    both = runner.invoke(args=["users", "create", "lee", "--one-time", "--password-stdin"], input="x" * 9)
    assert both.exit_code == 2 and "not both" in both.output


def test_reset_password_prints_a_one_time_password_and_ends_sessions(runner, make_user, other_client):
    make_user("maria")
    assert log_in(other_client, "maria", PASSWORD).status_code == 302
    result = runner.invoke(args=["users", "reset-password", "maria"])
    assert result.exit_code == 0 and "reset the password of 'maria'" in result.output
    password = one_time_from(result.output)
    assert other_client.get("/").location.startswith("/login")
    assert log_in(other_client, "maria", PASSWORD).status_code == 401
    assert log_in(other_client, "maria", password).status_code == 302
    assert other_client.get("/").location.startswith("/account/password")


def test_end_sessions_ends_an_open_session_and_keeps_the_password(runner, make_user, other_client):
    make_user("maria")
    assert log_in(other_client, "maria", PASSWORD).status_code == 302
    result = runner.invoke(args=["users", "end-sessions", "maria"])
    assert result.exit_code == 0 and "ended the sessions of 'maria'" in result.output
    assert other_client.get("/").location.startswith("/login")
    assert log_in(other_client, "maria", PASSWORD).status_code == 302


def test_the_commands_changes_are_audited_as_the_command_lines(runner, make_user, client, login):
    make_user("maria")
    for args in (
        ["set-role", "maria", "lead"],
        ["disable", "maria"],
        ["enable", "maria"],
        ["reset-password", "maria"],
        ["end-sessions", "maria"],
    ):
        assert runner.invoke(args=["users", *args]).exit_code == 0
    assert (
        runner.invoke(
            args=["users", "set-password", "maria", "--password-stdin"], input=NEW_PASSWORD
        ).exit_code
        == 0
    )
    assert events()[1:] == [
        ("user_role", None, {"user": "maria", "role": "moderator"}, {"user": "maria", "role": "lead"}),
        ("user_disable", None, {"user": "maria", "active": True}, {"user": "maria", "active": False}),
        ("user_enable", None, {"user": "maria", "active": False}, {"user": "maria", "active": True}),
        (
            "user_password_reset",
            None,
            {"user": "maria", "one_time": False},
            {"user": "maria", "one_time": True},
        ),
        ("user_sessions_end", None, {"user": "maria"}, {"user": "maria"}),
        (
            "user_password_set",
            None,
            {"user": "maria", "one_time": True},
            {"user": "maria", "one_time": False},
        ),
    ]
    login("lena", "lead")
    who = {
        tr.find_all("td")[1].get_text()
        for tr in soup(client.get("/audit?action=user_disable")).select("#audit-rows tr")
    }
    assert who == {"command line"}


def test_a_change_to_what_already_is_writes_no_event(make_user):
    make_user("maria")
    before = events()
    accounts.set_role("maria", "moderator")
    accounts.set_active("maria", True)
    assert events() == before


def test_a_refused_change_writes_no_event(make_user):
    make_user("root", "admin")
    before = events()
    for change in (lambda: accounts.set_active("root", False), lambda: accounts.set_role("root", "lead")):
        with pytest.raises(AccountError, match="last active admin"):
            change()
    assert events() == before


def test_created_users_are_audited_without_their_password(make_user):
    admin = make_user("root", "admin")
    accounts.create_user("maria", "a one-time password", "lead", one_time=True, actor_id=admin.id)
    assert events()[-1] == (
        "user_create",
        admin.id,
        None,
        {"user": "maria", "role": "lead", "active": True, "one_time": True},
    )


@pytest.mark.parametrize(
    "username, message",
    [("", "username must not be empty"), ("x" * 81, "at most 80 characters"), ("a\tb", "control characters")],
)
def test_a_username_must_fit_its_column_and_be_printable(runner, username, message):
    result = runner.invoke(args=["users", "create", username, "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1 and message in result.output
    assert accounts.list_users() == []


def test_logging_in_records_when(make_user):
    make_user("maria")
    assert accounts.authenticate("maria", "wrong password") is None
    assert stored("maria").last_login_at is None
    start = utcnow()
    assert accounts.authenticate("maria", PASSWORD).last_login_at >= start


def test_changing_my_own_password_checks_the_current_one_and_ends_my_sessions(make_user):
    maria = make_user("maria")
    accounts.reset_password("maria")
    token = stored("maria").session_token
    with pytest.raises(AccountError, match="current password") as refused:
        accounts.change_own_password(maria.id, PASSWORD, NEW_PASSWORD)
    assert refused.value.field == "current"
    password = accounts.reset_password("maria")
    with pytest.raises(AccountError, match="must not be the current one"):
        accounts.change_own_password(maria.id, password, password)
    with pytest.raises(AccountError, match="at least 8"):
        accounts.change_own_password(maria.id, password, "short")
    accounts.change_own_password(maria.id, password, NEW_PASSWORD)
    changed = stored("maria")
    assert not changed.must_change_password and changed.session_token != token
    assert accounts.authenticate("maria", NEW_PASSWORD) is not None
    assert events()[-1] == (
        "password_change",
        maria.id,
        {"user": "maria", "one_time": True},
        {"user": "maria", "one_time": False},
    )


def test_a_disabled_user_cannot_change_their_password(make_user):
    maria = make_user("maria")
    accounts.set_active("maria", False)
    with pytest.raises(AccountError):
        accounts.change_own_password(maria.id, PASSWORD, NEW_PASSWORD)


def test_the_list_counts_each_users_decisions_of_the_last_30_days_and_filters(make_user):
    maria, lee = make_user("maria"), make_user("lee", "lead")
    make_user("root", "admin")
    accounts.set_active("lee", False)
    import_paths([str(SEEDS)], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, maria, APPROVED, 1)
    now = utcnow()
    listed = {row.username: row for row in accounts.user_rows(UserFilters(), now)}
    assert [name for name in listed] == ["lee", "maria", "root"]
    assert (listed["maria"].decisions, listed["lee"].decisions, listed["root"].decisions) == (1, 0, 0)
    assert accounts.user_rows(UserFilters(), now + timedelta(days=31))[1].decisions == 0
    assert [row.username for row in accounts.user_rows(UserFilters(role="lead"), now)] == ["lee"]
    assert [row.username for row in accounts.user_rows(UserFilters(state="disabled"), now)] == ["lee"]
    assert [row.username for row in accounts.user_rows(UserFilters(state="active"), now)] == ["maria", "root"]
    assert [row.username for row in accounts.user_rows(UserFilters(), now, lee.id)] == ["lee"]


def test_the_lists_filters_are_parsed_with_a_message_for_each_bad_value():
    assert accounts.parse_filters({"role": "lead", "state": "active"}) == (UserFilters("lead", "active"), {})
    filters, errors = accounts.parse_filters({"role": "owner", "state": "gone"})
    assert filters == UserFilters() and set(errors) == {"role", "state"}
    assert UserFilters("lead").as_args() == {"role": "lead"}
