"""export runs: what each export wrote, for --since-last

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:30:05

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("feed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("format IN ('dir', 'zip', 'yaml')", name=op.f("ck_export_runs_format")),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed')", name=op.f("ck_export_runs_status")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_export_runs_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_runs")),
    )
    with op.batch_alter_table("export_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_runs_started_at"), ["started_at"], unique=False)

    op.create_table(
        "exported_articles",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_exported_articles_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["export_runs.id"],
            name=op.f("fk_exported_articles_run_id_export_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "article_id", name=op.f("pk_exported_articles")),
    )
    with op.batch_alter_table("exported_articles", schema=None) as batch_op:
        batch_op.create_index("ix_exported_articles_article_version", ["article_id", "version"], unique=False)


def downgrade():
    with op.batch_alter_table("exported_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_exported_articles_article_version")

    op.drop_table("exported_articles")
    with op.batch_alter_table("export_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_runs_started_at"))

    op.drop_table("export_runs")
