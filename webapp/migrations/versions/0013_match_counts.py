"""match counts: filtered queue views' counts, shared by every app process

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 19:00:00

Each process used to keep them in memory, adjusted by the decisions it served: behind a balancer
two processes showed one moderator two different counts. Kept here, every process reads the same.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "match_counts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_match_counts")),
    )


def downgrade():
    op.drop_table("match_counts")
