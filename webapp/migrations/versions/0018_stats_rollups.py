"""stats rollups: daily counts of decisions, imports and merges; decision times; pending by import time

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 04:00:00

A database that already holds articles gets empty rollups and no build: the dashboard aggregates
the articles as before until `copydesk stats rebuild-rollups` has filled them (a migration imports
nothing of the app, and the rollups' arithmetic is the app's). A database without articles has
nothing to count: its rollups are complete as created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_rollups",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("provider_name", sa.Text(), nullable=False),
        sa.Column("provider_domain", sa.Text(), nullable=False),
        sa.Column("heat_bucket", sa.Integer(), nullable=False),
        sa.Column("time_bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain",
            "day",
            "moderator_id",
            "status",
            "topics",
            "provider_name",
            "provider_domain",
            "heat_bucket",
            "time_bucket",
            name=op.f("pk_stats_rollups"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "decision_times",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("time_bucket", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("provider_name", sa.Text(), nullable=False),
        sa.Column("provider_domain", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_decision_times_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_decision_times")),
    )
    op.create_index("ix_decision_times_bucket", "decision_times", ["time_bucket", "day", "seconds"])
    op.create_index(
        "ix_decision_times_provider", "decision_times", ["provider_name", "time_bucket", "day", "seconds"]
    )
    op.create_index("ix_articles_status_imported", "articles", ["status", "imported_at"])
    builds = op.create_table(
        "rollup_builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_builds")),
    )
    if op.get_bind().execute(sa.text("SELECT NOT EXISTS (SELECT 1 FROM articles)")).scalar():
        op.execute(builds.insert().values(id=1, built_at=sa.func.current_timestamp()))


def downgrade():
    op.drop_table("rollup_builds")
    op.drop_index("ix_articles_status_imported", table_name="articles")
    op.drop_index("ix_decision_times_provider", table_name="decision_times")
    op.drop_index("ix_decision_times_bucket", table_name="decision_times")
    op.drop_table("decision_times")
    op.drop_table("stats_rollups")
