"""The Alembic migrations build exactly the schema the models describe."""

import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp import MIGRATIONS
from webapp.formats.rollups import IMPORTS
from webapp.models import SEARCH_SCHEMA, db


# Neither SQLite nor PostgreSQL reflection reads expression indexes back: the test below
# covers that one (ix_articles_queue_quality) by name.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Generating approximate signature for index")
def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, kind, parent: name not in SEARCH_SCHEMA}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_db_upgrade_command_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        assert (
            MigrationContext.configure(connection).get_current_revision()
            == ScriptDirectory(str(MIGRATIONS)).get_current_head()
        )


def test_quality_sort_index_exists_with_its_expression(app):
    from sqlalchemy import text

    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_articles_queue_quality'")
            ).scalar()
        else:
            sql = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_queue_quality'")
            ).scalar()
    normalised = sql.lower().replace("'-1'::integer", "-1").replace("(-1)", "-1")
    assert "coalesce(quality, -1)" in normalised


def test_upgrading_a_sqlite_database_that_holds_data(tmp_path):
    """Every migration runs on a database holding users, articles and decisions (SQLite rebuilds tables)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.factories import make_app

    app = make_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, role, active, created_at) "
                    "VALUES (1, 'maria', 'x', 'moderator', 1, '2024-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO articles (identity, source_name, content_hash, source_text, category, "
                    "title, published_at, web_url, heat, provider_name, key_order, body, status, "
                    "decided_by_id, version, imported_at, updated_at) "
                    "VALUES ('a', 'a.md', 'h', 't', 'news', 'T', '2024-01-01 00:00:00', 'https://e.com', "
                    "-1, 'P', '[]', '', 'approved', 1, 2, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO articles (identity, source_name, content_hash, source_text, category, "
                    "title, published_at, web_url, heat, provider_name, key_order, body, status, version, "
                    "imported_at, updated_at) "
                    "VALUES ('b', 'b.md', 'h', 't', 'news', 'T', '2024-01-01 00:00:00', "
                    "'http://www.e.com/', -1, 'P', '[]', '', 'pending', 1, '2024-01-01 00:00:00', "
                    "'2024-01-01 00:00:00')"
                )
            )
            for position in (0, 1):
                connection.execute(
                    text(
                        "INSERT INTO related_links (article_id, position, title, web_url, key_order) "
                        f"VALUES (1, {position}, 'Login.gov to add facial recognition tech', "
                        f"'https://e{position}.com/x', '[]')"
                    )
                )
        upgrade()
        with db.engine.connect() as connection:  # rollups not built: the stats aggregate the articles
            assert connection.execute(text("SELECT count(*) FROM rollup_builds")).scalar() == 0
        # Migrations make the schema only; the derived data of older articles comes from `seeds reindex`
        # and `stats rebuild-rollups`.
        assert app.test_cli_runner().invoke(args=["seeds", "reindex"]).exit_code == 0
        assert app.test_cli_runner().invoke(args=["stats", "rebuild-rollups"]).exit_code == 0
        with db.engine.connect() as connection:
            assert (
                connection.execute(
                    text("SELECT suggestion_count FROM articles WHERE identity = 'a'")
                ).scalar()
                == 1
            )
            # The story index (0006) finds the two articles at one address.
            assert connection.execute(
                text("SELECT article_id, other_id, reason FROM story_matches ORDER BY 1")
            ).all() == [(1, 2, "same URL"), (2, 1, "same URL")]
            assert connection.execute(
                text("SELECT duplicate_of_id FROM articles ORDER BY id")
            ).scalars().all() == [2, 1]
            assert connection.execute(text("SELECT positions, reason FROM duplicate_suggestions")).one() == (
                "[0, 1]",
                "same headline",
            )
            token = connection.execute(text("SELECT session_token FROM users")).scalar()
            assert len(token) == 32
            assert (
                connection.execute(text("SELECT decided_by_id FROM articles WHERE identity = 'a'")).scalar()
                == 1
            )
            assert connection.execute(text("SELECT count(*) FROM rollup_builds")).scalar() == 1
            imported = text("SELECT sum(count) FROM stats_rollups WHERE grain = :grain")
            assert connection.execute(imported, {"grain": IMPORTS}).scalar() == 2
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        db.engine.dispose()


def test_an_upgrade_leaves_the_apps_loggers_on(runner):
    """alembic.ini's logging config once disabled every logger that existed: the app's went silent."""
    app_logger = logging.getLogger("webapp.services.wal_checkpoints")
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert not app_logger.disabled


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_story_match_kinds_migrate_up_and_down_with_data(tmp_path):
    """0017: a related-list match becomes 'covered together' (until `seeds reindex` judges it), the
    own keys' matches stay possible duplicates; and back."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.factories import make_app

    app = make_app(f"sqlite:///{tmp_path / 'kinds.db'}")
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as connection:
            for identity in ("a", "b", "c"):
                connection.execute(
                    text(
                        "INSERT INTO articles (identity, source_name, content_hash, source_text, "
                        "category, title, published_at, web_url, heat, provider_name, key_order, body, "
                        "status, version, imported_at, updated_at) VALUES (:identity, 'x.md', 'h', 't', "
                        "'news', 'T', '2024-01-01 00:00:00', 'https://e.com', -1, 'P', '[]', '', "
                        "'pending', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
                    ),
                    {"identity": identity},
                )
            connection.execute(
                text(
                    "INSERT INTO story_matches (article_id, other_id, reason) VALUES "
                    "(1, 2, 'same URL'), (2, 1, 'same URL'), (3, 1, 'related entry of it')"
                )
            )
            connection.execute(text("UPDATE articles SET duplicate_of_id = CASE id WHEN 1 THEN 2 ELSE 1 END"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT article_id, other_id, kind FROM story_matches ORDER BY 1")
            ).all()
            assert rows == [(1, 2, "duplicate"), (2, 1, "duplicate"), (3, 1, "covered")]
            duplicate_of = connection.execute(
                text("SELECT duplicate_of_id FROM articles ORDER BY id")
            ).scalars()
            assert duplicate_of.all() == [2, 1, None]
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE story_matches SET kind = 'duplicate', reason = :reason WHERE article_id = 3"),
                {"reason": "related entry of it, shared names (geoffrey, hinton), published 2 h apart"},
            )
        downgrade(revision="0016")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT article_id, reason FROM story_matches ORDER BY 1")).all()
            assert rows == [(1, "same URL"), (2, "same URL"), (3, "related entry of it")]
            duplicate_of = connection.execute(
                text("SELECT duplicate_of_id FROM articles ORDER BY id")
            ).scalars()
            assert duplicate_of.all() == [2, 1, 1]
        upgrade()
        db.engine.dispose()
