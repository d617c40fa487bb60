"""claims, and the quality sort key index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 14:57:42.618044

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "claims",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_claims_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_claims_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_claims")),
    )
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_index("ix_articles_queue_quality")
    op.create_index(
        "ix_articles_queue_quality", "articles", ["status", sa.text("coalesce(quality, -1)"), "id"]
    )


def downgrade():
    op.drop_index("ix_articles_queue_quality", table_name="articles")
    op.create_index("ix_articles_queue_quality", "articles", ["status", "quality", "id"])
    op.drop_table("claims")
