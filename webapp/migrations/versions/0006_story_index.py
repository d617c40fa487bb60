"""story index: keys of every article's own and related URLs and headlines, and the matches they make

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:51:43

"""

import logging
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "story_keys",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_story_keys_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "position", "key_hash", name=op.f("pk_story_keys")),
    )
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.create_index("ix_story_keys_key_hash", ["key_hash"], unique=False)

    op.create_table(
        "story_matches",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_story_matches_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["articles.id"], name=op.f("fk_story_matches_other_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "other_id", name=op.f("pk_story_matches")),
    )
    with op.batch_alter_table("story_matches", schema=None) as batch_op:
        batch_op.create_index("ix_story_matches_other_id", ["other_id"], unique=False)

    with _articles_rebuilt() as batch_op:
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_articles_duplicate_of_id_articles"),
            "articles",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _ask_for_reindex("story index")


class _articles_rebuilt:
    """batch_alter_table('articles'): on SQLite a rebuild, which loses the expression index
    SQLAlchemy cannot reflect (ix_articles_queue_quality); it is made again after."""

    def __enter__(self):
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        self.batch = op.batch_alter_table("articles", schema=None)
        return self.batch.__enter__()

    def __exit__(self, *exc_info):
        self.batch.__exit__(*exc_info)
        self.warnings.__exit__(*exc_info)
        if exc_info[0] is None and op.get_bind().dialect.name == "sqlite":
            op.execute("DROP INDEX IF EXISTS ix_articles_queue_quality")
            op.create_index(
                "ix_articles_queue_quality", "articles", ["status", sa.text("coalesce(quality, -1)"), "id"]
            )
        return False


def downgrade():
    with _articles_rebuilt() as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_articles_duplicate_of_id_articles"), type_="foreignkey")
        batch_op.drop_column("duplicate_of_id")

    with op.batch_alter_table("story_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_story_matches_other_id")

    op.drop_table("story_matches")
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_story_keys_key_hash")

    op.drop_table("story_keys")


def _ask_for_reindex(what: str) -> None:
    # Migrations are frozen history and never run the app's code, whose rules change after them:
    # articles imported before this revision get their story keys and matches from `seeds reindex`.
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM articles")).scalar()
    if count:
        logging.getLogger("alembic.runtime.migration").warning(
            "%d articles predate the %s: run `flask --app webapp seeds reindex` to compute them",
            count,
            what,
        )
