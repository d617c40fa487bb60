"""Claims: "maria is reviewing this" for a few minutes, kept in the database, expiring by itself.

A claim is a courtesy so two moderators don't read the same article at once; the
article's version check is what guarantees that nobody overwrites anybody.
"""

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import aliased

from ..models import Article, Claim, User, db, upsert, utcnow


def claim(article_id: int, user: User, seconds: int, now: datetime | None = None, *, commit: bool = True):
    """Claim the article for `user` (or renew their claim); another user's live claim is kept.

    Returns who holds the claim and until when (`user_id`, `expires_at`). One upsert, which
    returns the claim when it took or renewed it: only a claim someone else holds is read again.
    `commit=False` leaves it to the caller's transaction (a decision that opens the next article).
    """
    now = now or utcnow()
    values = {
        "article_id": article_id,
        "user_id": user.id,
        "expires": now + timedelta(seconds=seconds),
        "now": now,
    }
    connection = db.session.connection()
    held = connection.execute(_claim_statement(connection.dialect.name), values).one_or_none()
    if held is None:
        held = connection.execute(_holder_statement(), values).one()
    if commit:
        db.session.commit()
    return held


@cache
def _claim_statement(dialect: str):
    table = Claim.__table__
    statement = upsert(
        table,
        dialect,
        article_id=bindparam("article_id"),
        user_id=bindparam("user_id"),
        expires_at=bindparam("expires", type_=table.c.expires_at.type),
    )
    # Taken over when it is the user's own or has expired; else the row stays and nothing is returned.
    now = bindparam("now", type_=table.c.expires_at.type)
    return statement.on_conflict_do_update(
        index_elements=[table.c.article_id],
        set_={"user_id": statement.excluded.user_id, "expires_at": statement.excluded.expires_at},
        where=(table.c.user_id == statement.excluded.user_id) | (table.c.expires_at <= now),
    ).returning(table.c.user_id, table.c.expires_at)


@cache
def _holder_statement():
    return select(Claim.user_id, Claim.expires_at).where(Claim.article_id == bindparam("article_id"))


def release_all(article_ids: list[int]) -> None:
    """Drop the claims on these articles (they were decided); the caller commits."""
    db.session.connection().execute(_release_statement(), {"ids": article_ids})


@cache
def _release_statement():
    table = Claim.__table__
    return delete(table).where(table.c.article_id.in_(bindparam("ids", expanding=True)))


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
