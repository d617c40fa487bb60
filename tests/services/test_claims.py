"""Claims under contention: a live claim stands, an expired one is taken over, the holder renews."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Claim, User, db, utcnow
from webapp.services import claims


def claim_together(app, article_id: int, user_ids: list[int], now) -> list[int]:
    """Each user claims the article at once, in a thread and session of their own; who holds it, for each."""
    start = threading.Barrier(len(user_ids))
    holders, errors = {}, []

    def claim_as(user_id):
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                db.session.commit()  # the claim's own transaction starts at the barrier
                start.wait(timeout=10)
                holders[user_id] = claims.claim(article_id, user, 300, now=now).user_id
        except Exception as error:  # a thread's failure would otherwise pass unseen
            errors.append(error)

    threads = [threading.Thread(target=claim_as, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return [holders[user_id] for user_id in user_ids]


def claims_on(article_id: int) -> list[Claim]:
    db.session.expire_all()
    return db.session.scalars(select(Claim).where(Claim.article_id == article_id)).all()


@pytest.mark.parametrize("earlier_claim", ["none", "expired"])
def test_two_users_claiming_at_once_get_one_claim_and_both_see_the_same_holder(
    app, article, make_user, earlier_claim
):
    maria, lee, sam = make_user("maria"), make_user("lee"), make_user("sam")
    now = utcnow()
    if earlier_claim == "expired":
        claims.claim(article.id, sam, 300, now=now - timedelta(seconds=301))
    article_id, user_ids = article.id, [maria.id, lee.id]
    db.session.commit()
    holders = claim_together(app, article_id, user_ids, now)
    [stored] = claims_on(article_id)
    assert holders == [stored.user_id] * 2 and stored.user_id in user_ids
    assert stored.expires_at == now + timedelta(seconds=300)


def test_another_users_live_claim_stands_until_it_expires(article, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    now = utcnow()
    first = claims.claim(article.id, maria, 300, now=now)
    expires = first.expires_at
    assert claims.claim(article.id, lee, 300, now=now + timedelta(seconds=299)).user_id == maria.id
    assert [(c.user_id, c.expires_at) for c in claims_on(article.id)] == [(maria.id, expires)]
    taken = claims.claim(article.id, lee, 300, now=expires)
    assert (taken.user_id, taken.expires_at) == (lee.id, expires + timedelta(seconds=300))
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 1


def test_the_holder_renews_their_claim_in_place(article, make_user):
    maria = make_user("maria")
    now = utcnow()
    claims.claim(article.id, maria, 300, now=now)
    renewed = claims.claim(article.id, maria, 300, now=now + timedelta(seconds=120))
    assert (renewed.user_id, renewed.expires_at) == (maria.id, now + timedelta(seconds=420))
    assert len(claims_on(article.id)) == 1
