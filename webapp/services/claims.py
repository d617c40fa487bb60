"""Claims: "maria is reviewing this" for a few minutes, kept in the database, expiring by itself.

A claim is a courtesy so two moderators don't read the same article at once; the
article's version check is what guarantees that nobody overwrites anybody.
"""

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..models import Article, Claim, User, db, utcnow


def claim(article_id: int, user: User, seconds: int, now: datetime | None = None) -> Claim:
    """Claim the article for `user` (or renew their claim); another user's live claim is kept."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = db.session.execute(
        update(Claim)
        .where(Claim.article_id == article_id, (Claim.user_id == user.id) | (Claim.expires_at <= now))
        .values(user_id=user.id, expires_at=expires)
    )
    if taken.rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(Claim.__table__).values(article_id=article_id, user_id=user.id, expires_at=expires)
                )
        except IntegrityError:
            pass  # someone else's live claim: theirs stands
    db.session.commit()
    return db.session.get(Claim, article_id, populate_existing=True)


def release_all(article_ids: list[int]) -> None:
    """Drop the claims on these articles (they were decided); the caller commits."""
    db.session.execute(_release_statement(), {"ids": article_ids})


@cache
def _release_statement():
    return delete(Claim).where(Claim.article_id.in_(bindparam("ids", expanding=True)))


def with_live_claim(query):
    """Add `claimed_by` (a username) and `claimed_by_id` to a query on articles: the unexpired claim, if any.

    The query then needs a `now` parameter."""
    claimer = aliased(User)
    live = (Claim.article_id == Article.id) & (
        Claim.expires_at > bindparam("now", type_=Claim.expires_at.type)
    )
    return (
        query.add_columns(claimer.username.label("claimed_by"), Claim.user_id.label("claimed_by_id"))
        .outerjoin(Claim, live)
        .outerjoin(claimer, claimer.id == Claim.user_id)
    )
