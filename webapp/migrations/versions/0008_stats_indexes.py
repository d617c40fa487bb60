"""stats indexes: imports by time (the backlog), decisions in a period (covering), events by action and time

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:16:00

"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX, no batch: a rebuild of articles on SQLite would lose its expression index.
    op.create_index("ix_articles_imported_at", "articles", ["imported_at"], unique=False)
    op.create_index(
        "ix_articles_decisions",
        "articles",
        ["decided_at", "status", "decided_by_id", "provider_name", "heat", "imported_at", "id"],
        unique=False,
    )
    op.create_index("ix_audit_events_action_created", "audit_events", ["action", "created_at"], unique=False)


def downgrade():
    op.drop_index("ix_audit_events_action_created", table_name="audit_events")
    op.drop_index("ix_articles_decisions", table_name="articles")
    op.drop_index("ix_articles_imported_at", table_name="articles")
