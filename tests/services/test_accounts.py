"""The `users` commands: the first admin, passwords, enabling and disabling, roles, listing, and
the last-admin guard."""

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, csrf_token, make_app
from webapp.models import User, db

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
