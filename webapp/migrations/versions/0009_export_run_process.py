"""export runs: the output and the process writing each run, and the status 'interrupted'

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("output", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("process_start", sa.Text(), nullable=True))
        batch_op.alter_column(
            "status", existing_type=sa.String(length=10), type_=sa.String(length=20), existing_nullable=False
        )
        batch_op.drop_constraint(batch_op.f("ck_export_runs_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_export_runs_status"), "status IN ('running', 'complete', 'failed', 'interrupted')"
        )


def downgrade():
    op.execute("UPDATE export_runs SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table("export_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_export_runs_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_export_runs_status"), "status IN ('running', 'complete', 'failed')"
        )
        batch_op.alter_column(
            "status", existing_type=sa.String(length=20), type_=sa.String(length=10), existing_nullable=False
        )
        batch_op.drop_column("process_start")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
        batch_op.drop_column("output")
