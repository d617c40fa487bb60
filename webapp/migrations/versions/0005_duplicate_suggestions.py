"""duplicate suggestions: groups of related links that look like one article, stored at import

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 16:39:12

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_duplicate_suggestions_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_suggestions")),
    )
    with op.batch_alter_table("duplicate_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duplicate_suggestions_article_id"), ["article_id"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggestion_count", sa.Integer(), nullable=False, server_default="0"))
    _ask_for_reindex("duplicate suggestions")


def downgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("suggestion_count")

    with op.batch_alter_table("duplicate_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_suggestions_article_id"))

    op.drop_table("duplicate_suggestions")


def _ask_for_reindex(what: str) -> None:
    # Migrations are frozen history and never run the app's code, whose rules change after them:
    # articles imported before this revision get their duplicate suggestions from `seeds reindex`.
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM articles")).scalar()
    if count:
        logging.getLogger("alembic.runtime.migration").warning(
            "%d articles predate the %s: run `flask --app webapp seeds reindex` to compute them",
            count,
            what,
        )
