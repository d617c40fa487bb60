"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.models import db


# Neither SQLite nor PostgreSQL reflection reads expression indexes back: the test below
# covers that one (ix_articles_queue_quality) by name.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Generating approximate signature for index")
def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_db_upgrade_command_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0003"


def test_quality_sort_index_exists_with_its_expression(app):
    from sqlalchemy import text

    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_articles_queue_quality'")).scalar()
        else:
            sql = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_queue_quality'")).scalar()
    normalised = sql.lower().replace("'-1'::integer", "-1").replace("(-1)", "-1")
    assert "coalesce(quality, -1)" in normalised
