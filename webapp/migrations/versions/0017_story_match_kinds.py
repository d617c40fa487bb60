"""story match kinds: 'duplicate' (the same story) or 'covered' (only in one related list), and longer reasons

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 03:40:00

"""

import logging
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Frozen here: the app's rule may change after this revision, the data it migrated may not.
RELATED_ENTRY = "related entry of it"


def upgrade():
    with _story_matches_rebuilt() as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="duplicate")
        )
        batch_op.alter_column(
            "reason", existing_type=sa.String(length=40), type_=sa.String(length=200), existing_nullable=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_story_matches_kind"), "kind IN ('duplicate', 'covered')"
        )
    # A related-list link alone said "possible duplicate"; without the second signal that today's
    # rule asks for, it is only covered together until `seeds reindex` judges it again.
    matches = sa.table("story_matches", sa.column("reason"), sa.column("kind"))
    op.execute(matches.update().where(matches.c.reason == RELATED_ENTRY).values(kind="covered"))
    _refresh_duplicate_of("kind = 'duplicate'")
    count = (
        op.get_bind().execute(sa.text("SELECT count(*) FROM story_matches WHERE kind = 'covered'")).scalar()
    )
    if count:
        logging.getLogger("alembic.runtime.migration").warning(
            "%d related-list matches are now 'covered together': run `flask --app webapp seeds reindex` "
            "to find the possible duplicates among them",
            count,
        )


def downgrade():
    _refresh_duplicate_of("1 = 1")
    op.execute(
        sa.text(
            f"UPDATE story_matches SET reason = '{RELATED_ENTRY}' "
            "WHERE kind = 'covered' OR length(reason) > 40"
        )
    )
    with _story_matches_rebuilt() as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_story_matches_kind"), type_="check")
        batch_op.alter_column(
            "reason", existing_type=sa.String(length=200), type_=sa.String(length=40), existing_nullable=False
        )
        batch_op.drop_column("kind")


def _refresh_duplicate_of(condition: str) -> None:
    """Each article's duplicate_of_id: the oldest article it may duplicate among the matches kept."""
    op.execute(
        "UPDATE articles SET duplicate_of_id = (SELECT min(other_id) FROM story_matches "
        f"WHERE story_matches.article_id = articles.id AND {condition})"
    )


class _story_matches_rebuilt:
    """batch_alter_table('story_matches'): on SQLite a rebuild, whose reflection of the articles it refers
    to meets the expression index SQLAlchemy cannot reflect (ix_articles_queue_quality), harmlessly."""

    def __enter__(self):
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        self.batch = op.batch_alter_table("story_matches", schema=None)
        return self.batch.__enter__()

    def __exit__(self, *exc_info):
        self.batch.__exit__(*exc_info)
        self.warnings.__exit__(*exc_info)
        return False
