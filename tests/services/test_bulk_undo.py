"""Bulk decisions as one batch: undone as one (each decision reversed and audited), around articles
someone changed since; and the recent decisions saying which were undone."""

from datetime import timedelta

import pytest

from tests.factories import fresh, import_stories
from webapp.models import APPROVED, PENDING, REJECTED, AuditEvent, db
from webapp.services import changes, moderation, undo


@pytest.fixture
def three(app, tmp_path) -> list[int]:
    return import_stories(tmp_path, "abc")


def bulk(ids, user, verdict=APPROVED, reason=None):
    return moderation.bulk_decide([(article_id, 1) for article_id in ids], user, verdict, reason)


def test_a_bulk_decision_is_a_batch_and_a_single_one_is_not(three, make_user):
    maria = make_user("maria")
    outcome = bulk(three, maria, REJECTED, "  off-topic ")
    assert [event["after"]["batch"] for event in outcome.events] == [3, 3, 3]
    assert [fresh(article_id).reject_reason for article_id in three] == ["off-topic"] * 3
    first = db.session.get(AuditEvent, outcome.events[0]["id"])
    assert [event.id for event in changes.batch_of(first)] == [event["id"] for event in outcome.events]
    single = moderation.decide(three[0], maria, APPROVED, 2)
    assert "batch" not in single["after"]
    event = db.session.get(AuditEvent, single["id"])
    assert changes.batch_of(event) == [event]


def test_undo_batch_reverses_each_decision_and_is_a_batch_itself(three, make_user):
    maria = make_user("maria")
    outcome = bulk(three, maria)
    undone = undo.undo_batch(outcome.events[-1]["id"], maria)
    assert [fresh(article_id).status for article_id in three] == [PENDING] * 3
    assert undone.skipped == [] and len(undone.events) == 3
    # Audited as a reversal of each decision, one event per article.
    assert sorted(event["after"]["undoes"] for event in undone.events) == sorted(
        event["id"] for event in outcome.events
    )
    assert {event["action"] for event in undone.events} == {"undo"}
    assert [event["after"]["batch"] for event in undone.events] == [3, 3, 3]
    # Undone in turn, as one: the decisions stand again.
    undo.undo_batch(undone.events[0]["id"], maria)
    assert [fresh(article_id).status for article_id in three] == [APPROVED] * 3


def test_undo_batch_undoes_the_rest_when_someone_changed_one_since(three, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    outcome = bulk(three, maria)
    moderation.reopen(three[1], lee, 2)
    undone = undo.undo_batch(outcome.events[0]["id"], maria)
    assert undone.skipped == [three[1]]
    assert [fresh(article_id).status for article_id in three] == [PENDING, PENDING, PENDING]
    assert fresh(three[1]).version == 3 and fresh(three[0]).version == 3
    assert [event["article_id"] for event in undone.events] == [three[0], three[2]]


def test_undo_batch_is_the_users_own_and_within_the_window(three, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    outcome = bulk(three, maria)
    event_id = outcome.events[0]["id"]
    with pytest.raises(LookupError):
        undo.undo_batch(event_id, lee)
    late = fresh_event(event_id).created_at + timedelta(seconds=10) + undo.GRACE
    with pytest.raises(undo.TooLate):
        undo.undo_batch(event_id, maria, 10, now=late)
    assert [fresh(article_id).status for article_id in three] == [APPROVED] * 3


def fresh_event(event_id: int) -> AuditEvent:
    return db.session.get(AuditEvent, event_id)


def test_latest_undoable_offers_a_batch_while_any_of_it_can_be_undone(three, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    outcome = bulk(three, maria)
    assert moderation.latest_undoable(maria, 10).id == outcome.events[-1]["id"]
    moderation.reopen(three[2], lee, 2)  # the batch's last article
    assert moderation.latest_undoable(maria, 10).after["batch"] == 3
    moderation.reopen(three[0], lee, 2)
    moderation.reopen(three[1], lee, 2)
    assert moderation.latest_undoable(maria, 10) is None


def test_recent_decisions_mark_the_undone_ones(three, make_user):
    maria = make_user("maria")
    outcome = bulk(three[:2], maria)
    single = moderation.decide(three[2], maria, REJECTED, 1)
    recent = moderation.recent_decisions(maria)
    assert [(each.title, each.undone) for each in recent] == [
        ("Story c", False),
        ("Story b", False),
        ("Story a", False),
    ]
    undo.undo(single["id"], maria)
    undone_batch = undo.undo_batch(outcome.events[0]["id"], maria)
    assert [each.undone for each in moderation.recent_decisions(maria)] == [True, True, True]
    # Undoing the undo puts the decisions back in force.
    undo.undo_batch(undone_batch.events[0]["id"], maria)
    assert [each.undone for each in moderation.recent_decisions(maria)] == [True, False, False]
    # Someone else returning an article to pending is no undo: the decision still reads as made.
    moderation.reopen(three[0], make_user("lee"), fresh(three[0]).version)
    assert [each.undone for each in moderation.recent_decisions(maria)] == [True, False, False]
