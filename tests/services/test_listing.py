"""The queue listing: filters, sorts and keyset pages that neither skip nor repeat a row."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import BindParameter, select, update
from sqlalchemy.sql import visitors

from tests.factories import write_seed
from webapp.models import APPROVED, REJECTED, Article, db
from webapp.services import moderation
from webapp.services.filtering import InvalidCursor
from webapp.services.listing import (
    CHANGES_OVERLAP,
    CHANGES_PAGE,
    FILTERS,
    SORTS,
    QueueFilters,
    _count_query,
    _page_query,
    changed_since,
    parse_filters,
    queue_page,
)
from webapp.services.seed_import import import_paths

STALE = timedelta(hours=48)


def load(folder) -> dict[str, int]:
    report = import_paths([str(folder)], max_bytes=2**21)
    assert report.invalid == 0, report.errors
    return dict(db.session.execute(select(Article.identity, Article.id)).all())


def walk(filters: QueueFilters, limit: int) -> list[int]:
    ids, cursor = [], None
    while True:
        page = queue_page(filters, cursor, STALE, limit=limit)
        ids += [row.id for row in page.rows]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


SORT_KEYS = {
    "newest": lambda a: (a.published_at, a.id),
    "oldest": lambda a: (a.published_at, a.id),
    "quality": lambda a: (-1 if a.quality is None else a.quality, a.id),
    "heat": lambda a: (a.heat, a.id),
}


def load_tied_seeds(folder) -> list[int]:
    """23 articles whose sort keys tie in small groups (no quality, unset heat), their ids in order."""
    for i in range(23):
        write_seed(
            folder,
            f"s{i:02}",
            published=f"2023-10-{10 + i % 4:02}T08:00:00Z",
            quality=None if i % 5 == 0 else i % 3,
            heat=i % 4 * 10 - 1 if i % 2 else -1,
        )
    return sorted(load(folder).values())


def assert_in_order(ids: list[int], sort: str) -> None:
    keys = [SORT_KEYS[sort](db.session.get(Article, i)) for i in ids]
    assert keys == sorted(keys, reverse=sort != "oldest")


@pytest.mark.parametrize("sort", ["newest", "oldest", "quality", "heat"])
def test_keyset_pages_cover_every_row_once_in_order_even_with_ties(app, tmp_path, sort):
    load_tied_seeds(tmp_path)
    paged = walk(QueueFilters(sort=sort), limit=4)
    everything = walk(QueueFilters(sort=sort), limit=100)
    assert paged == everything and len(set(paged)) == 23
    assert_in_order(paged, sort)


@pytest.mark.parametrize("sort", ["newest", "oldest", "quality", "heat"])
def test_every_status_pages_merge_the_statuses_in_order_even_with_ties(app, tmp_path, sort):
    ids = load_tied_seeds(tmp_path)
    for status, decided in ((APPROVED, ids[::3]), (REJECTED, ids[1::3])):
        db.session.execute(update(Article).where(Article.id.in_(decided)).values(status=status))
    db.session.commit()
    paged = walk(QueueFilters(status="all", sort=sort), limit=4)
    assert paged == walk(QueueFilters(status="all", sort=sort), limit=100)
    assert sorted(paged) == ids
    assert_in_order(paged, sort)
    pending = set(ids) - set(ids[::3]) - set(ids[1::3])
    stale = walk(QueueFilters(status="all", sort=sort, stale=True), limit=4)  # stale: pending only
    assert set(stale) == pending and len(stale) == len(pending)


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("status", ["all", "pending"])
def test_a_page_reads_its_sorts_index_on_sqlite_rather_than_sorting_the_table(app, sort, status):
    # Both went unnoticed with few articles: every status sorted the whole table, and so did the
    # quality sort (its -1, bound as a value, did not match the index's expression): 300 ms at 100,000.
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL plans by its statistics, which a test's few articles do not show
    in_use = () if status == "all" else ("status",)
    values = {"status": status, "now": datetime.now(UTC), "after_key": 1, "after_id": 1}
    for with_cursor in (False, True):
        plan = sqlite_plan(_page_query(sort, in_use, with_cursor, 51, ()), values)
        reads = [step for step in plan if " articles " in f"{step} " and "PRIMARY KEY" not in step]
        assert reads and all("INDEX ix_articles_queue_" in step for step in reads), plan


@pytest.mark.parametrize("plans", [("fetch",), ("provider-fetch",)])
def test_a_count_of_matches_reads_their_status_from_the_sort_keys_index_on_sqlite(app, plans):
    # Read from each match's row, which holds a whole seed, 9,600 matches took 44 ms at 1,000,000.
    if db.engine.dialect.name != "sqlite":
        return
    values = {"status": "pending", "search": "word", "provider": "%word%", "cap": 10}
    plan = sqlite_plan(_count_query(("status",), plans), values)
    assert any("COVERING INDEX ix_articles_sort_keys (id=? AND status=?)" in step for step in plan), plan
    assert not any(step.startswith("SEARCH articles USING INTEGER PRIMARY KEY") for step in plan), plan


def sqlite_plan(statement, values: dict) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of the statement, its steps as text, with `values` bound by name."""
    compiled = statement.compile(db.engine)
    bound = tuple(values.get(name, compiled.params.get(name)) for name in compiled.positiontup)
    explained = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", bound)
    return [row[-1] for row in explained]


def test_row_carries_the_related_count(app, tmp_path):
    write_seed(tmp_path, "one")
    load(tmp_path)
    assert queue_page(QueueFilters(), None, STALE).rows[0].related_count == 1


def test_filters_combine(app, tmp_path, make_user):
    write_seed(tmp_path, "ai", title="Robots everywhere", topics=["AI"], provider="Alpha")
    write_seed(
        tmp_path,
        "cv",
        title="Cameras everywhere",
        topics=["Computer Vision"],
        provider="Beta",
        published="2023-10-01T00:00:00Z",
    )
    write_seed(
        tmp_path,
        "both",
        title="Robots with cameras",
        topics=["AI", "Computer Vision"],
        provider="Beta",
        excerpt="100% _wild_",
    )
    ids = load(tmp_path)
    moderation.decide(ids["both"], make_user("maria"), APPROVED, 1)

    def listed(**values):
        return {row.id for row in queue_page(QueueFilters(**values), None, STALE).rows}

    assert listed() == {ids["ai"], ids["cv"]}
    assert listed(status="all", topic="AI") == {ids["ai"], ids["both"]}
    assert listed(status="approved") == {ids["both"]}
    assert listed(status="all", provider="Beta", topic="Computer Vision") == {ids["cv"], ids["both"]}
    assert listed(status="all", q="robots") == {ids["ai"], ids["both"]}
    assert listed(status="all", q="100%") == {ids["both"]}
    assert listed(status="all", q="100%_wild") == {ids["both"]}  # punctuation separates words, wildcards none
    assert listed(status="all", q='"wild 100"') == set()  # a phrase keeps its order
    assert listed(status="all", published_to=date(2023, 10, 1)) == {ids["cv"]}
    assert listed(status="all", published_from=date(2023, 10, 2)) == {ids["ai"], ids["both"]}
    assert listed(category="sport") == set()


def test_stale_filter_uses_the_configured_age(app, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    write_seed(tmp_path, "old", published=(now - timedelta(hours=50)).isoformat())
    write_seed(tmp_path, "new", published=(now - timedelta(hours=2)).isoformat())
    ids = load(tmp_path)
    assert [r.id for r in queue_page(QueueFilters(stale=True), None, STALE).rows] == [ids["old"]]
    assert queue_page(QueueFilters(stale=True), None, timedelta(hours=72)).rows == []


def test_parse_filters_reports_bad_values_by_field():
    filters, errors = parse_filters(
        {"status": "lost", "sort": "random", "published_from": "yesterday", "q": "  x  ", "stale": "1"}
    )
    assert filters == QueueFilters(q="x", stale=True)
    assert set(errors) == {"status", "sort", "published_from"}
    assert errors["published_from"] == "From: 'yesterday' is not a date like 2023-10-19."


def test_as_args_round_trips_through_parse_filters():
    filters = QueueFilters(status="all", sort="heat", topic="AI", published_from=date(2023, 1, 2), stale=True)
    assert parse_filters(filters.as_args()) == (filters, {})
    assert QueueFilters().as_args() == {}


@pytest.mark.parametrize("cursor", ["nonsense", "x~1", "2023-01-01~y"])
def test_invalid_cursor_is_refused(app, cursor):
    with pytest.raises(InvalidCursor):
        queue_page(QueueFilters(), cursor, STALE)


def test_changed_since_lists_only_the_changed(app, tmp_path, make_user):
    write_seed(tmp_path, "a")
    write_seed(tmp_path, "b")
    ids = load(tmp_path)
    since = datetime.now(UTC)
    assert changed_since(since).ids == []
    moderation.decide(ids["a"], make_user("maria"), APPROVED, 1)
    page = changed_since(since)
    assert page.ids == [ids["a"]] and not page.more


def test_changed_since_pages_through_more_than_500_changes_and_drops_none(app, tmp_path, make_user):
    for number in range(510):
        write_seed(tmp_path, f"s{number:03}")
    ids = sorted(load(tmp_path).values())
    since = datetime.now(UTC)
    # One bulk decision: every change has the same time, so only the id keeps the pages apart.
    outcome = moderation.bulk_decide([(article_id, 1) for article_id in ids], make_user("maria"), APPROVED)
    assert len(outcome.events) == 510
    upto = ids[-11]  # the page lists all but the ten newest
    seen, position, pages = [], (since, 0), 0
    while True:
        page = changed_since(*position, upto)
        seen += page.ids
        pages += 1
        if not page.more:
            break
        position = (page.since, page.after_id)
    assert pages == 3 and len(page.ids) == 500 - 2 * CHANGES_PAGE
    assert seen == ids[:-10]
    # The next poll looks back CHANGES_OVERLAP, not only after what it was sent.
    later = datetime.now(UTC)
    assert later - CHANGES_OVERLAP - timedelta(seconds=1) <= page.since <= later - CHANGES_OVERLAP
    assert page.after_id == 0


def test_changed_since_looks_back_over_a_change_stamped_before_it_was_committed(app, tmp_path, make_user):
    write_seed(tmp_path, "a")
    ids = load(tmp_path)
    poll_time = datetime.now(UTC)
    # A change stamped just before a poll ran but committed after it: the next poll still sees it.
    moderation.decide(ids["a"], make_user("maria"), APPROVED, 1)
    db.session.execute(Article.__table__.update().values(updated_at=poll_time - timedelta(seconds=1)))
    db.session.commit()
    next_poll = changed_since(poll_time - CHANGES_OVERLAP, now=poll_time)
    assert changed_since(next_poll.since, next_poll.after_id).ids == [ids["a"]]


EVERY_FILTER = QueueFilters(
    status=APPROVED,
    q="x",
    topic="AI",
    provider="P",
    category="news",
    published_from=date(2023, 1, 1),
    published_to=date(2023, 1, 2),
    stale=True,
    duplicates=True,
)


def _named_parameters(condition) -> set[str]:
    return {
        each.key
        for each in visitors.iterate(condition)
        if isinstance(each, BindParameter) and not each.unique
    }


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_binds_exactly_the_parameters_of_its_condition(name):
    each = FILTERS[name]
    assert each.in_use(EVERY_FILTER) and not each.in_use(QueueFilters(status="all"))
    values = each.values(EVERY_FILTER, datetime(2023, 1, 1, tzinfo=UTC))
    assert set(values) == _named_parameters(each.condition())
    assert None not in values.values()


def test_the_default_queue_filters_on_status_only():
    assert [name for name, each in FILTERS.items() if each.in_use(QueueFilters())] == ["status"]
