"""article image URL for the queue's rows, and each user's compact-rows choice

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    # Plain ADD COLUMN, no batch: a rebuild of articles on SQLite would lose its expression index.
    op.add_column("articles", sa.Column("image_url", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("compact_rows", sa.Boolean(), nullable=False, server_default=sa.false()))
    _copy_first_image_urls()


def _copy_first_image_urls():
    """Copy each article's first image URL out of its stored `images` (JSON text) into the new column.

    A copy of stored data, not a rule of the app: which URLs are shown is decided when rendering.
    """
    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("images", sa.Text))
    target = sa.table("articles", sa.column("id", sa.Integer), sa.column("image_url", sa.Text))
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.images)
            .where(articles.c.id > last_id, articles.c.images.is_not(None))
            .order_by(articles.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        updates = [
            {"article_id": article_id, "url": url}
            for article_id, url in ((row.id, _first_url(row.images)) for row in rows)
            if url is not None
        ]
        if updates:
            connection.execute(
                target.update()
                .where(target.c.id == sa.bindparam("article_id"))
                .values(image_url=sa.bindparam("url")),
                updates,
            )
        last_id = rows[-1].id


def _first_url(images_json: str) -> str | None:
    try:
        images = json.loads(images_json)
    except ValueError:
        return None
    if isinstance(images, list) and images and isinstance(images[0], dict):
        url = images[0].get("url")
        return url if isinstance(url, str) else None
    return None


def downgrade():
    op.drop_column("users", "compact_rows")
    op.drop_column("articles", "image_url")
