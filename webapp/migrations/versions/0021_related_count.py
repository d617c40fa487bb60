"""related count: each article's related entries not merged into another, kept on the article

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 15:30:00

The queue's rows show it: counted per row in the page's query, it cost a third of the query
(fifty correlated counts). Kept as `suggestion_count` is, by the import and by every change to the
related list (merge, unmerge, absorb, their undo), in the same transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("articles", sa.Column("related_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE articles SET related_count = (SELECT count(*) FROM related_links "
        "WHERE related_links.article_id = articles.id AND related_links.merged_into_id IS NULL)"
    )


def downgrade():
    # Plain SQL, as 0020 does: batch mode would copy the whole table on SQLite.
    op.execute("ALTER TABLE articles DROP COLUMN related_count")
