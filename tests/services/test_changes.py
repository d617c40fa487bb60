"""The one version-checked, audited change every moderation action is made of."""

import pytest
from sqlalchemy import select

from tests.factories import REAL_SEED
from webapp.models import PENDING, Article, AuditEvent, db
from webapp.services import changes
from webapp.services.changes import Change
from webapp.services.seed_import import import_paths


@pytest.fixture
def articles(app, tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_bytes(REAL_SEED.read_bytes())
    import_paths([str(tmp_path)], max_bytes=2**21)
    return db.session.scalars(select(Article).order_by(Article.identity)).all()


def stored(article_id: int) -> Article:
    db.session.expire_all()
    return db.session.get(Article, article_id)


def audit_events() -> list[AuditEvent]:
    """The articles' events (creating a user writes one about their account)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id.is_not(None)).order_by(AuditEvent.id)
    ).all()


def test_a_stale_version_is_skipped_unchanged_and_unaudited(articles, make_user):
    a = articles[0]
    applied = []
    change = Change("heat", {"heat": 7}, apply_extra=lambda: applied.append(True))
    outcome = changes.apply([(a.id, 2)], make_user("maria"), change)
    assert (outcome.events, outcome.skipped, outcome.missing) == ([], [a.id], [])
    assert (stored(a.id).heat, stored(a.id).version) == (-1, 1)
    assert applied == [] and audit_events() == []
    with pytest.raises(changes.Conflict) as conflict:
        changes.single(outcome, a.id)
    assert conflict.value.article_id == a.id


def test_a_missing_article_is_a_lookup_error(articles, make_user):
    outcome = changes.apply([(999, 1)], make_user("maria"), Change("heat", {"heat": 7}))
    assert outcome.missing == [999] and audit_events() == []
    with pytest.raises(LookupError, match="no article 999"):
        changes.single(outcome, 999)


def test_each_changed_article_gets_one_event_with_its_state_before_and_after(articles, make_user):
    a, b, c = articles
    maria = make_user("maria")
    changes.apply_one(b.id, 1, maria, Change("heat", {"heat": 5}))
    applied = []
    change = Change(
        "reopen",
        {"status": PENDING, "heat": 9},
        before_extra={"note": "before"},
        after_extra={"note": "after"},
        apply_extra=lambda: applied.append(True),
        undoes=42,
    )
    outcome = changes.apply([(a.id, 1), (b.id, 1), (c.id, 1)], maria, change)
    assert [event["article_id"] for event in outcome.events] == [a.id, c.id] and outcome.skipped == [b.id]
    assert len(applied) == 2
    events = audit_events()
    assert [(e.action, e.article_id) for e in events] == [("heat", b.id), ("reopen", a.id), ("reopen", c.id)]
    assert [e.id for e in events[1:]] == [event["id"] for event in outcome.events]
    event = events[1]
    assert (event.actor_id, event.before["heat"], event.before["version"]) == (maria.id, -1, 1)
    assert event.before["note"] == "before"
    assert (event.after["heat"], event.after["version"], event.after["note"], event.after["undoes"]) == (
        9,
        2,
        "after",
        42,
    )
    assert [stored(x.id).heat for x in (a, b, c)] == [9, 5, 9]
    assert [stored(x.id).version for x in (a, b, c)] == [2, 2, 2]


def test_a_change_of_no_column_still_bumps_the_version_and_is_audited(articles, make_user):
    a = articles[0]
    event = changes.apply_one(a.id, 1, make_user("maria"), Change("merge", after_extra={"merges": {}}))
    assert stored(a.id).version == 2
    [audit] = audit_events()
    assert audit.id == event["id"] and audit.after["merges"] == {} and "merges" not in audit.before
