"""duplicate suggestions: groups of related links that look like one article, stored at import

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 16:39:12

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_duplicate_suggestions_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_suggestions")),
    )
    with op.batch_alter_table("duplicate_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duplicate_suggestions_article_id"), ["article_id"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggestion_count", sa.Integer(), nullable=False, server_default="0"))
    _suggest_for_existing_articles()


def _suggest_for_existing_articles():
    # The suggestions of articles imported before this revision, as an import would store them.
    from webapp.formats.duplicates import LinkFields, related_suggestions

    links = sa.table(
        "related_links",
        sa.column("article_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("web_url", sa.Text),
        sa.column("amp_web_url", sa.Text),
        sa.column("cdn_amp_web_url", sa.Text),
        sa.column("merged_into_id", sa.Integer),
    )
    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("suggestion_count", sa.Integer))
    suggestions = sa.table(
        "duplicate_suggestions",
        sa.column("article_id", sa.Integer),
        sa.column("positions", sa.JSON),
        sa.column("reason", sa.String),
        sa.column("score", sa.Integer),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            links.c.article_id,
            links.c.position,
            links.c.title,
            links.c.web_url,
            links.c.amp_web_url,
            links.c.cdn_amp_web_url,
        )
        .where(links.c.merged_into_id.is_(None))
        .order_by(links.c.article_id, links.c.position)
    )
    by_article = {}
    for row in rows:
        by_article.setdefault(row.article_id, []).append(LinkFields(*row[1:]))
    for article_id, article_links in by_article.items():
        found = related_suggestions(article_links)
        if found:
            connection.execute(
                suggestions.insert(),
                [
                    {
                        "article_id": article_id,
                        "positions": list(s.positions),
                        "reason": s.reason,
                        "score": s.score,
                    }
                    for s in found
                ],
            )
            connection.execute(
                articles.update().where(articles.c.id == article_id).values(suggestion_count=len(found))
            )


def downgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("suggestion_count")

    with op.batch_alter_table("duplicate_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_suggestions_article_id"))

    op.drop_table("duplicate_suggestions")
