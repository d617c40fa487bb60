"""The metrics the services record (imports, exports, changes), and the stale pending count."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from tests.factories import SEEDS, write_seed
from webapp.models import APPROVED, Article, db
from webapp.services import exporting, merging, metrics, moderation, undo
from webapp.services.seed_import import import_paths


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_import_counts_its_files_by_outcome_and_is_timed(app, tmp_path):
    for name in ("a", "b"):
        write_seed(tmp_path, name)
    (tmp_path / "broken.md").write_text("no front matter", encoding="utf-8")
    before = {o: sample("copydesk_seed_files_total", outcome=o) for o in metrics.SEED_FILE_OUTCOMES}
    runs = sample("copydesk_import_duration_seconds_count", status="complete")
    import_paths([str(tmp_path)], max_bytes=2**21)
    import_paths([str(tmp_path)], max_bytes=2**21)
    moved = {
        o: sample("copydesk_seed_files_total", outcome=o) - before[o] for o in metrics.SEED_FILE_OUTCOMES
    }
    assert moved == {"imported": 2, "updated": 0, "unchanged": 2, "conflicts": 0, "invalid": 2}
    assert sample("copydesk_import_duration_seconds_count", status="complete") == runs + 2


def test_an_import_that_fails_is_timed_as_failed(app, tmp_path, monkeypatch):
    write_seed(tmp_path, "a")
    monkeypatch.setattr("webapp.services.seed_import._chunks", lambda *_: 1 / 0)
    failed = sample("copydesk_import_duration_seconds_count", status="failed")
    with pytest.raises(ZeroDivisionError):
        import_paths([str(tmp_path)], max_bytes=2**21)
    assert sample("copydesk_import_duration_seconds_count", status="failed") == failed + 1


def test_an_export_counts_its_articles_by_format_and_is_timed(app, make_user, tmp_path):
    import_paths([str(SEEDS)], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, make_user(), APPROVED, 1)
    written = sample("copydesk_exported_articles_total", format="zip")
    runs = sample("copydesk_export_duration_seconds_count", format="zip", status="complete")
    exporting.export(tmp_path / "out.zip", "zip", exporting.ExportFilters(), requested_by="test")
    assert sample("copydesk_exported_articles_total", format="zip") == written + 1
    assert sample("copydesk_export_duration_seconds_count", format="zip", status="complete") == runs + 1

    failed = sample("copydesk_export_duration_seconds_count", format="dir", status="failed")
    (tmp_path / "a-file").write_text("in the way")
    with pytest.raises(OSError):
        exporting.export(tmp_path / "a-file" / "out", "dir", exporting.ExportFilters(), requested_by="test")
    assert sample("copydesk_export_duration_seconds_count", format="dir", status="failed") == failed + 1


def test_every_change_is_counted_by_its_action(app, make_user, article):
    user = make_user()
    actions = ("heat", "merge", "undo", "reject", "approve", "reopen")
    before = {action: sample("copydesk_changes_total", action=action) for action in actions}
    moderation.set_heat(article.id, user, 10, 1, heat_max=200)
    event = merging.merge(article.id, user, 2, [0, 1])
    undo.undo(event["id"], user)
    moderation.decide(article.id, user, "rejected", 4, reason="off-topic")
    moderation.reopen(article.id, user, 5)
    outcome = moderation.bulk_decide([(article.id, 6), (article.id + 1000, 1)], user, APPROVED)
    assert len(outcome.events) == 1
    assert {
        action: sample("copydesk_changes_total", action=action) - before[action] for action in actions
    } == {action: 1 for action in actions}


def test_stale_pending_counts_pending_articles_published_before_the_limit(app, tmp_path):
    now = datetime.now(UTC)
    published = {"old": now - timedelta(hours=49), "edge": now - timedelta(hours=47), "new": now}
    for name, when in published.items():
        write_seed(tmp_path, name, published=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    write_seed(tmp_path, "old-approved", published="2020-01-01T00:00:00Z")
    import_paths([str(tmp_path)], max_bytes=2**21)
    db.session.execute(update(Article).where(Article.identity == "old-approved").values(status=APPROVED))
    db.session.commit()
    assert metrics.stale_pending(timedelta(hours=48)) == 1
    assert metrics.stale_pending(timedelta(hours=46)) == 2
    assert metrics.stale_pending(timedelta(hours=1000)) == 0
