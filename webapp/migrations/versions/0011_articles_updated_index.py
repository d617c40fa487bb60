"""articles by last change: the queue's poll asks what changed since it last asked

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX, no batch: a rebuild of articles on SQLite would lose its expression index.
    op.create_index("ix_articles_updated", "articles", ["updated_at", "id"], unique=False)


def downgrade():
    op.drop_index("ix_articles_updated", table_name="articles")
