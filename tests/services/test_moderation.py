"""Moderation services: decisions, heat, reopen, undo and bulk, with version checks and audit events."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import REAL_SEED, fresh
from webapp.models import APPROVED, PENDING, REJECTED, Article, AuditEvent, Claim, db
from webapp.services import changes, claims, moderation
from webapp.services.seed_import import import_paths
from webapp.services.undo import GRACE, TooLate, undo


def events(article_id: int) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id == article_id).order_by(AuditEvent.id)
    ).all()


def test_approve_sets_state_bumps_version_and_writes_one_event(article, make_user):
    maria = make_user("maria")
    event = moderation.decide(article.id, maria, APPROVED, version=1)
    stored = fresh(article.id)
    assert (stored.status, stored.decided_by_id, stored.version) == (APPROVED, maria.id, 2)
    assert stored.decided_at is not None
    [audit] = events(article.id)
    assert audit.id == event["id"] and (audit.action, audit.actor_id) == ("approve", maria.id)
    assert audit.before == {
        "status": PENDING,
        "heat": -1,
        "decided_by_id": None,
        "decided_at": None,
        "reject_reason": None,
        "version": 1,
    }
    assert (
        audit.after["status"] == APPROVED
        and audit.after["version"] == 2
        and audit.after["decided_by_id"] == maria.id
    )


def test_reject_keeps_the_reason_and_approve_drops_it(article, make_user):
    maria = make_user("maria")
    moderation.decide(article.id, maria, REJECTED, 1, reason="  off topic  ")
    assert fresh(article.id).reject_reason == "off topic"
    moderation.decide(article.id, maria, APPROVED, 2, reason="ignored")
    assert fresh(article.id).reject_reason is None


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(article, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    moderation.decide(article.id, maria, APPROVED, 1)
    with pytest.raises(changes.Conflict):
        moderation.decide(article.id, lee, REJECTED, 1)
    stored = fresh(article.id)
    assert (stored.status, stored.decided_by_id, stored.version) == (APPROVED, maria.id, 2)
    assert len(events(article.id)) == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "'nothing' is not"),
        ("-1", "'-1' is not"),
        ("3.5", "'3.5' is not"),
        ("201", "201 is too high"),
        ("abc", "'abc' is not"),
        ("١٢", "is not"),
    ],
)
def test_heat_outside_0_to_heat_max_is_refused_and_nothing_saved(article, make_user, value, message):
    with pytest.raises(changes.InvalidInput) as refused:
        moderation.set_heat(article.id, make_user("maria"), value, 1, heat_max=200)
    assert refused.value.field == "heat" and message in str(refused.value)
    assert fresh(article.id).heat == -1 and fresh(article.id).version == 1 and events(article.id) == []


def test_heat_is_saved_and_audited(article, make_user):
    moderation.set_heat(article.id, make_user("maria"), " 120 ", 1, heat_max=200)
    assert fresh(article.id).heat == 120
    assert [(e.action, e.before["heat"], e.after["heat"]) for e in events(article.id)] == [("heat", -1, 120)]


def test_reopen_returns_to_pending(article, make_user):
    maria = make_user("maria")
    moderation.decide(article.id, maria, REJECTED, 1, "dup")
    moderation.reopen(article.id, maria, 2)
    stored = fresh(article.id)
    assert (stored.status, stored.decided_by_id, stored.decided_at, stored.reject_reason) == (
        PENDING,
        None,
        None,
        None,
    )


def test_undo_restores_the_previous_state_and_is_audited(article, make_user):
    maria = make_user("maria")
    moderation.set_heat(article.id, maria, 80, 1, heat_max=200)
    event = moderation.decide(article.id, maria, REJECTED, 2, "weak")
    undo(event["id"], maria)
    stored = fresh(article.id)
    assert (stored.status, stored.heat, stored.reject_reason, stored.version) == (PENDING, 80, None, 4)
    undo_event = events(article.id)[-1]
    assert undo_event.action == "undo" and undo_event.after["undoes"] == event["id"]


def test_undo_after_someone_else_changed_it_is_a_conflict(article, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    event = moderation.decide(article.id, maria, APPROVED, 1)
    moderation.set_heat(article.id, lee, 50, 2, heat_max=200)
    with pytest.raises(changes.Conflict):
        undo(event["id"], maria)
    assert fresh(article.id).status == APPROVED and fresh(article.id).heat == 50


def test_only_your_own_changes_can_be_undone(article, make_user):
    event = moderation.decide(article.id, make_user("maria"), APPROVED, 1)
    with pytest.raises(LookupError, match=f"no change of yours numbered {event['id']}"):
        undo(event["id"], make_user("lee"))
    assert (fresh(article.id).status, fresh(article.id).version) == (APPROVED, 2)
    assert len(events(article.id)) == 1


def test_bulk_changes_the_current_ones_and_skips_the_changed(app, make_user, tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_bytes(REAL_SEED.read_bytes())
    import_paths([str(tmp_path)], max_bytes=2**21)
    a, b, c = db.session.scalars(select(Article).order_by(Article.identity)).all()
    maria, lee = make_user("maria"), make_user("lee")
    moderation.set_heat(b.id, lee, 10, 1, heat_max=200)
    outcome = moderation.bulk_decide([(a.id, 1), (b.id, 1), (c.id, 1)], maria, APPROVED)
    assert [e["article_id"] for e in outcome.events] == [a.id, c.id] and outcome.skipped == [b.id]
    assert [fresh(x.id).status for x in (a, b, c)] == [APPROVED, PENDING, APPROVED]
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "approve"))
        == 2
    )


def test_decision_releases_the_claim(article, make_user):
    maria = make_user("maria")
    claims.claim(article.id, maria, 300)
    moderation.decide(article.id, maria, APPROVED, 1)
    assert db.session.get(Claim, article.id) is None


def test_claims_are_kept_for_their_holder_and_expire(article, make_user):
    maria, lee = make_user("maria"), make_user("lee")
    first = claims.claim(article.id, maria, 300)
    assert first.user_id == maria.id
    assert claims.claim(article.id, lee, 300).user_id == maria.id
    assert moderation.moderation_state(article.id).claimed_by == "maria"
    later = first.expires_at + timedelta(seconds=1)
    assert moderation.moderation_state(article.id, now=later).claimed_by is None
    assert claims.claim(article.id, lee, 300, now=later).user_id == lee.id


def test_recent_decisions_and_latest_undoable(article, make_user):
    maria = make_user("maria")
    assert moderation.latest_undoable(maria, 10) is None
    event = moderation.decide(article.id, maria, APPROVED, 1)
    assert [e.id for e in moderation.recent_decisions(maria)] == [event["id"]]
    assert moderation.latest_undoable(maria, 10).id == event["id"]
    moderation.set_heat(article.id, make_user("lee"), 5, 2, heat_max=200)
    assert moderation.latest_undoable(maria, 10) is None


def test_mark_duplicate_rejects_naming_the_other_and_reads_back(app, make_user, tmp_path):
    for name in ("first", "second"):
        (tmp_path / f"{name}.txt").write_bytes(REAL_SEED.read_bytes())
    import_paths([str(tmp_path)], max_bytes=2**21)
    first, second = db.session.scalars(select(Article).order_by(Article.identity)).all()
    event = moderation.mark_duplicate(second.id, first.id, make_user("maria"), 1)
    stored = fresh(second.id)
    assert (event["action"], stored.status) == ("reject", REJECTED)
    assert stored.reject_reason == moderation.duplicate_reason(first)
    assert stored.reject_reason.startswith(f"duplicate of #{first.id} “")
    assert moderation.marked_duplicate_of(stored.status, stored.reject_reason) == first.id
    assert moderation.marked_duplicate_of(PENDING, stored.reject_reason) is None
    assert moderation.marked_duplicate_of(REJECTED, "off topic") is None


def test_mark_duplicate_of_itself_or_of_nothing_is_refused(article, make_user):
    maria = make_user("maria")
    for other_id in (article.id, 999):
        with pytest.raises(changes.InvalidInput, match=f"no other article {other_id}") as refused:
            moderation.mark_duplicate(article.id, other_id, maria, 1)
        assert refused.value.field == "duplicate"
    assert fresh(article.id).status == PENDING and events(article.id) == []


def test_load_article_brings_what_the_panel_shows_with_its_topics_in_order_or_none(article):
    loaded = moderation.load_article(article.id)
    assert (loaded.id, loaded.title, loaded.status) == (article.id, article.title, PENDING)
    assert loaded.topics == tuple(topic.name for topic in article.topics) and loaded.topics
    assert moderation.load_article(999) is None


def test_undo_is_refused_once_its_window_and_the_grace_are_over(article, make_user):
    maria = make_user("maria")
    event = moderation.decide(article.id, maria, APPROVED, 1)
    made = event["created_at"]
    late = made + timedelta(seconds=10) + GRACE
    with pytest.raises(TooLate, match="Too late to undo: a change can be undone for 10 seconds"):
        undo(event["id"], maria, 10, now=late)
    assert (fresh(article.id).status, fresh(article.id).version) == (APPROVED, 2)
    undo(event["id"], maria, 10, now=late - timedelta(milliseconds=1))
    assert fresh(article.id).status == PENDING
