"""session tokens: a new password or a disabled account ends every session

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 15:47:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table rebuild on SQLite); each existing user then gets a random token.
    op.add_column(
        "users", sa.Column("session_token", sa.String(length=32), nullable=False, server_default="")
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_hex(16))
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
