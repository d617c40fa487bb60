"""articles by decider and time: "you: 57 today" reads one moderator's decisions of the day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:10:00

The count ranged over every decision made today (ix_articles_decisions starts with decided_at) and
filtered them by moderator: on a desk of twenty, ten thousand index entries on every answer.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX, no batch: a rebuild of articles on SQLite would lose its triggers.
    op.create_index("ix_articles_decider_day", "articles", ["decided_by_id", "decided_at"], unique=False)


def downgrade():
    op.drop_index("ix_articles_decider_day", table_name="articles")
