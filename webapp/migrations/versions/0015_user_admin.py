"""users: a one-time password to replace at the next login, and when each user last logged in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00

For the admins' Users page (/admin/users): a password an admin made is one-time, and the page lists
each user's last login. Users created before keep their passwords as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("users", "last_login_at")
    op.drop_column("users", "must_change_password")
