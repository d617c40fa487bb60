"""The review queue."""

from flask import Blueprint, render_template
from sqlalchemy import func, select

from .auth import role_required
from .models import PENDING, STATUSES, Article, db

bp = Blueprint("queue", __name__)


@bp.get("/")
@role_required("moderator")
def index():
    """The queue: pending articles, newest published first."""
    articles = db.session.scalars(
        select(Article).where(Article.status == PENDING).order_by(Article.published_at.desc(), Article.id.desc()).limit(50)
    ).all()
    counts = dict(db.session.execute(select(Article.status, func.count()).group_by(Article.status)).all())
    return render_template("queue/index.html", articles=articles, counts={s: counts.get(s, 0) for s in STATUSES})
