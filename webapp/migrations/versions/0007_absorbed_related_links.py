"""related links added from a duplicate article: which article each came from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:56:03

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilding related_links on SQLite reflects articles too, whose expression index it cannot
    # read; articles itself is left as it is.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("related_links", schema=None) as batch_op:
            batch_op.add_column(sa.Column("source_article_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_related_links_source_article_id_articles"),
                "articles",
                ["source_article_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("related_links", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_related_links_source_article_id_articles"), type_="foreignkey"
            )
            batch_op.drop_column("source_article_id")
