"""Configuration from the environment."""

import re
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.factories import ROOT, make_app
from webapp import create_app
from webapp.config import ConfigError, engine_options, from_environment, instance_path
from webapp.models import db


def test_defaults_sqlite_in_instance_folder_and_2_mib(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SECRET_KEY", "SEED_MAX_BYTES", "COPYDESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment(str(tmp_path), overrides={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'copydesk.db'}"
    assert config["SEED_MAX_BYTES"] == 2 * 1024 * 1024


def test_development_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("COPYDESK_ENV", raising=False)
    first = from_environment(str(tmp_path), overrides={})["SECRET_KEY"]
    second = from_environment(str(tmp_path), overrides={})["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("COPYDESK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set when COPYDESK_ENV=production"):
        create_app()


def test_production_takes_secret_key_and_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COPYDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example/copydesk")
    config = from_environment(str(tmp_path), overrides={})
    assert config["SECRET_KEY"] == "from-the-environment"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.example/copydesk"
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "value, message",
    [("lots", "SEED_MAX_BYTES must be a whole number, got 'lots'"), ("0", "must be above zero")],
)
def test_bad_seed_max_bytes_is_named(monkeypatch, tmp_path, value, message):
    monkeypatch.setenv("SEED_MAX_BYTES", value)
    with pytest.raises(ConfigError, match=message):
        from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})


def test_seed_max_bytes_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEED_MAX_BYTES", "4096")
    assert from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})["SEED_MAX_BYTES"] == 4096


def test_reject_reasons_have_news_desk_defaults_and_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("REJECT_REASONS", raising=False)
    assert from_environment(str(tmp_path), overrides={})["REJECT_REASONS"] == (
        "off-topic",
        "duplicate",
        "paywalled",
        "low quality",
        "outdated",
        "wrong category",
    )
    monkeypatch.setenv("REJECT_REASONS", " rumour ;satire; ;")
    assert from_environment(str(tmp_path), overrides={})["REJECT_REASONS"] == ("rumour", "satire")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (";".join(str(n) for n in range(10)), "lists 10 reasons; at most 9"),
        ("x" * 101, "longer than 100 characters"),
        ("spam; spam", "lists a reason twice"),
    ],
)
def test_bad_reject_reasons_are_named(monkeypatch, tmp_path, value, message):
    monkeypatch.setenv("REJECT_REASONS", value)
    with pytest.raises(ConfigError, match=message):
        from_environment(str(tmp_path), overrides={})


POOL_VARIABLES = ("DB_POOL_SIZE", "DB_MAX_OVERFLOW", "DB_POOL_RECYCLE", "DB_STATEMENT_TIMEOUT_MS")
POSTGRESQL = "postgresql+psycopg://copydesk@db.example/copydesk"


@pytest.fixture
def pool_defaults(monkeypatch):
    for name in POOL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("environment", "pool", "timeout"),
    [
        ({}, (5, 10, 1800), "15000"),
        (dict(zip(POOL_VARIABLES, ("20", "0", "300", "2500"), strict=True)), (20, 0, 300), "2500"),
    ],
    ids=["defaults", "from the environment"],
)
def test_postgresql_pool_and_statement_timeout(pool_defaults, monkeypatch, environment, pool, timeout):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert engine_options(POSTGRESQL) == {
        "pool_size": pool[0],
        "max_overflow": pool[1],
        "pool_recycle": pool[2],
        "pool_pre_ping": True,
        "connect_args": {"options": f"-c plan_cache_mode=force_custom_plan -c statement_timeout={timeout}"},
    }


def test_a_statement_timeout_of_0_leaves_the_servers_own(pool_defaults, monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "0")
    assert engine_options(POSTGRESQL)["connect_args"] == {"options": "-c plan_cache_mode=force_custom_plan"}


def test_a_sqlite_file_gets_no_pool_settings(pool_defaults, tmp_path):
    assert engine_options(f"sqlite:///{tmp_path / 'copydesk.db'}") == {}


def test_metrics_are_closed_to_everyone_by_default(monkeypatch, tmp_path):
    for name in ("METRICS_TOKEN", "METRICS_ALLOW"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})
    assert (config["METRICS_TOKEN"], config["METRICS_ALLOW"]) == (None, ())


def test_metrics_token_and_addresses_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("METRICS_TOKEN", "s" * 16)
    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/8, 192.168.1.7 ,, ::1, 10.1.2.3/16")
    config = from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})
    assert config["METRICS_TOKEN"] == "s" * 16
    assert [str(network) for network in config["METRICS_ALLOW"]] == [
        "10.0.0.0/8",
        "192.168.1.7/32",
        "::1/128",
        "10.1.0.0/16",
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_POOL_SIZE", "0", "DB_POOL_SIZE must be above zero, got 0"),
        ("DB_MAX_OVERFLOW", "-1", "DB_MAX_OVERFLOW must be zero or above, got -1"),
        ("DB_POOL_RECYCLE", "half an hour", "DB_POOL_RECYCLE must be a whole number, got 'half an hour'"),
        ("DB_STATEMENT_TIMEOUT_MS", "1.5", "DB_STATEMENT_TIMEOUT_MS must be a whole number, got '1.5'"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be zero or above, got -1"),
        ("TRUSTED_PROXIES", "10.0.0.1", "TRUSTED_PROXIES must be a whole number, got '10.0.0.1'"),
        ("SQLITE_CHECKPOINT_SECONDS", "-1", "SQLITE_CHECKPOINT_SECONDS must be zero or above, got -1"),
    ],
)
def test_bad_pool_and_proxy_settings_are_named(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})


def test_a_slow_statement_is_cancelled_on_postgresql(monkeypatch, migrated):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "200")
    app = make_app(migrated)
    with app.app_context():
        try:
            if db.engine.dialect.name != "postgresql":
                # SQLite has no statement timeout: none is set, and the PostgreSQL pass runs the rest.
                assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
                return
            started = time.monotonic()
            with pytest.raises(OperationalError, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(5)"))
            assert time.monotonic() - started < 3
            db.session.rollback()
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "200ms"
            assert db.session.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
        finally:
            db.session.remove()
            db.engine.dispose()


def test_instance_folder_is_the_checkouts_own_unless_named(monkeypatch, tmp_path):
    monkeypatch.delenv("COPYDESK_INSTANCE", raising=False)
    assert create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}).instance_path == str(
        ROOT / "instance"
    )
    monkeypatch.setenv("COPYDESK_INSTANCE", str(tmp_path / "desk"))
    assert instance_path(ROOT) == str(tmp_path / "desk")


def test_installed_without_a_checkout_the_instance_folder_is_flasks_default(monkeypatch, tmp_path):
    monkeypatch.delenv("COPYDESK_INSTANCE", raising=False)
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    assert instance_path(site_packages) is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 16 characters long"),
        (
            "METRICS_ALLOW",
            "10.0.0.0/8, intranet",
            "METRICS_ALLOW: 'intranet' is not an IP address or network",
        ),
        ("METRICS_ALLOW", "10.0.0.300", "METRICS_ALLOW: '10.0.0.300' is not"),
    ],
)
def test_bad_metrics_settings_are_named(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})


def test_logs_are_json_in_production_and_left_alone_in_development(monkeypatch, tmp_path):
    for name in ("LOG_FORMAT", "LOG_LEVEL", "COPYDESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    development = from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})
    assert (development["LOG_FORMAT"], development["LOG_LEVEL"]) == (None, "INFO")
    production = from_environment(str(tmp_path), overrides={"SECRET_KEY": "x", "COPYDESK_ENV": "production"})
    assert production["LOG_FORMAT"] == "json"
    assert production["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True


def test_log_format_and_level_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOG_FORMAT", " Text ")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    config = from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})
    assert (config["LOG_FORMAT"], config["LOG_LEVEL"]) == ("text", "DEBUG")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of json, text, got 'xml'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got 'loud'"),
    ],
)
def test_bad_log_settings_are_named(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        from_environment(str(tmp_path), overrides={"SECRET_KEY": "x"})
