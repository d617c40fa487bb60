"""What the panel offers for the same story twice, once the pair has been dealt with."""

from sqlalchemy import select

from tests.factories import write_seed
from webapp.models import APPROVED, REJECTED, Article, db
from webapp.services import merging, moderation
from webapp.services.seed_import import import_paths
from webapp.services.undo import undo

TITLE = "Council approves new cycle lanes for the city centre"


def two_copies(tmp_path) -> tuple[int, int]:
    for name in ("first", "second"):
        write_seed(tmp_path, name, title=TITLE)
    import_paths([str(tmp_path)], max_bytes=2**21)
    first, second = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    return first, second


def offer(article_id: int) -> dict[int, tuple[bool, bool, bool, bool]]:
    return {
        match.id: (match.can_mark, match.duplicate_of_this, match.links_added_here, match.links_added_there)
        for match in moderation.possible_duplicates(article_id)
    }


def test_both_copies_offer_to_mark_the_other_until_one_is_decided(app, tmp_path, make_user):
    first, second = two_copies(tmp_path)
    assert offer(first) == {second: (True, False, False, False)}
    assert offer(second) == {first: (True, False, False, False)}
    moderation.decide(second, make_user("maria"), APPROVED, 1)
    # An approved copy is the one that goes out: marking the other its duplicate is the point.
    assert offer(first) == {second: (True, False, False, False)}


def test_the_survivor_of_an_absorbed_duplicate_offers_no_mark(app, tmp_path, make_user):
    first, second = two_copies(tmp_path)
    maria = make_user("maria")
    moderation.mark_duplicate(second, first, maria, 1)
    assert offer(first) == {second: (False, True, False, False)}
    visible = db.session.get(Article, first).related_count
    event = merging.absorb(first, maria, 1, second)
    assert offer(first) == {second: (False, True, True, False)}
    db.session.expire_all()
    added = db.session.get(Article, first).related_count - visible
    assert added > 0 and added == db.session.get(Article, second).related_count
    assert offer(second) == {first: (True, False, False, True)}
    undo(event["id"], maria, 10)
    assert offer(first) == {second: (False, True, False, False)}


def test_a_copy_rejected_for_another_reason_is_not_offered_either(app, tmp_path, make_user):
    first, second = two_copies(tmp_path)
    moderation.decide(second, make_user("maria"), REJECTED, 1, "paywalled")
    assert offer(first) == {second: (False, False, False, False)}
