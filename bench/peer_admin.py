"""The peer for `bench.peer`: Flask-Admin's list view of Copydesk's articles table, read-only.

    DATABASE_URL=sqlite:////tmp/bench.db gunicorn -w 2 --worker-class sync -b 127.0.0.1:8000 \\
        "bench.peer_admin:create_app()"

`GET /admin/article/?page=N` (0-based) lists the pending articles 50 to a page, newest published
first (then by id), with the columns the queue shows: title, provider, published, quality, heat,
status and the count of duplicate suggestions. It is Flask-Admin as its documentation sets it up:
a `ModelView` on the same `Article` model and database (Flask-SQLAlchemy), its base query narrowed to
pending articles by `get_query` / `get_count_query`; Flask-Admin pages with OFFSET and counts the
matching rows for its pager on every page. No login (Flask-Admin has none of its own): that only
spares it work Copydesk does. Installed with the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import os

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView

from webapp.models import PENDING, Article, db

PAGE_SIZE = 50
LIST_PATH = "/admin/article/"


class ArticleListView(ModelView):
    """The articles table, pending ones only, newest first; nothing can be created, edited or deleted."""

    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    page_size = PAGE_SIZE
    column_list = (
        "title",
        "provider_name",
        "published_at",
        "quality",
        "heat",
        "status",
        "suggestion_count",
    )
    column_default_sort = [("published_at", True), ("id", True)]

    def get_query(self):
        return super().get_query().filter(Article.status == PENDING)

    def get_count_query(self):
        return super().get_count_query().filter(Article.status == PENDING)


def create_app() -> Flask:
    """Flask-Admin on DATABASE_URL, with the article list view at /admin/article/."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or os.urandom(32).hex()
    db.init_app(app)
    admin = Admin(app, name="Articles")
    admin.add_view(ArticleListView(Article, db))
    return app
