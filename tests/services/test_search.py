"""Full-text search (services/search.py through the queue's listing): what matches, kept in step with
every change, the plan chosen by frequency giving the same rows, relevance, and the migration."""

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text

from webapp.formats.search_query import SearchQueryError, parse
from webapp.models import APPROVED, Article, Provider, db
from webapp.services import listing, merging, moderation, search
from webapp.services.filtering import provider_pattern
from webapp.services.listing import QueueFilters, count_matching, matches, queue_page
from webapp.services.seed_import import import_paths
from webapp.services.undo import undo

STALE = timedelta(hours=48)


def seed(
    folder,
    name,
    title,
    *,
    excerpt="An excerpt",
    provider="Example",
    domain="example.com",
    related=("Other news",),
    day=19,
    category="news",
):
    lines = [
        "---",
        f"category: {category}",
        f'title: "{title}"',
        f'excerpt: "{excerpt}"',
        f"publishedDateTime: 2023-10-{day:02}T13:22:00Z",
        f'webUrl: "https://example.com/{name}"',
        "provider:",
        f'  name: "{provider}"',
        f"  domain: {domain}",
        "related:",
    ]
    for position, related_title in enumerate(related):
        lines += [f'  - title: "{related_title}"', f"    webUrl: https://r.example/{name}/{position}"]
    (folder / f"{name}.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")


def load(folder) -> dict[str, int]:
    report = import_paths([str(folder)], max_bytes=2**21)
    assert report.invalid == 0, report.errors
    return dict(db.session.execute(select(Article.identity, Article.id)).all())


def found(q: str, **filters) -> set[int]:
    filters = {"status": "all"} | filters
    return {row.id for row in queue_page(QueueFilters(q=q, **filters), None, STALE).rows}


@pytest.fixture
def desk(app, tmp_path):
    seed(tmp_path, "night", "Election night in Lisbon", excerpt="Polls close at eight")
    seed(tmp_path, "owl", "Night owls and the election", provider="Owl Gazette")
    seed(tmp_path, "select", "Selected sports results", related=("Electoral maps explained",))
    seed(tmp_path, "cafe", "Café culture", excerpt="Espresso prices")
    return load(tmp_path)


def test_words_phrases_and_prefixes_over_every_searched_column(desk):
    assert found("election") == {desk["night"], desk["owl"]}
    assert found("ELECTION night") == {desk["night"], desk["owl"]}  # every word, in any order and case
    assert found('"election night"') == {desk["night"]}  # a phrase: together, in order
    assert found("elect*") == {desk["night"], desk["owl"], desk["select"]}  # "Electoral", a related title
    assert found("polls") == {desk["night"]}  # the excerpt
    assert found("gazette") == {desk["owl"]}  # the provider
    assert found("maps explained") == {desk["select"]}  # a related title
    assert found("lisbon owls") == set()
    assert found("sports", status="pending") == {desk["select"]}


def test_accents_are_matched_as_the_database_folds_them(desk):
    assert found("café") == {desk["cafe"]}
    if db.engine.dialect.name == "sqlite":  # FTS5's unicode61 drops accents; PostgreSQL's 'simple' keeps them
        assert found("cafe") == {desk["cafe"]}


HOSTILE = [
    "NEAR(election night)",
    "title:election",
    "election OR sports",
    "-election",
    "^night",
    "election AND",
    "'; DROP TABLE articles; --",
    "a\\b",
    "night:*",
    "!election & (night | owls)",
    "<-> <2>",
    "{title excerpt}: night",
    "election\0night",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_the_databases_syntax_typed_in_the_box_is_searched_as_words(desk, q):
    try:
        query = parse(q)
    except SearchQueryError:
        return
    rows = found(q)
    assert count_matching(QueueFilters(status="all", q=q), STALE, 100) == len(rows)
    assert db.session.scalar(select(Article.id).limit(1)) is not None  # nothing dropped
    assert all(word.isalnum() for term in query.terms for word in term.words)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_any_text_is_refused_with_a_message_or_searched(desk, q):
    try:
        parse(q)
    except SearchQueryError as error:
        assert str(error).startswith("Search: ")
        return
    queue_page(QueueFilters(status="all", q=q), None, STALE)
    count_matching(QueueFilters(status="all", q=q), STALE, 100)


def test_search_follows_a_reimport_in_the_same_transaction(app, tmp_path):
    seed(tmp_path, "one", "Harbour strike", related=("Dockers vote",))
    ids = load(tmp_path)
    assert found("harbour") == found("dockers") == {ids["one"]}
    seed(tmp_path, "one", "Airport strike", related=("Pilots vote",))
    report = import_paths([str(tmp_path)], max_bytes=2**21)
    assert report.updated == 1
    assert found("harbour") == found("dockers") == set()
    assert found("airport") == found("pilots") == {ids["one"]}


def test_decisions_merges_and_absorbed_links_keep_the_search_in_step(app, tmp_path, make_user):
    maria = make_user("maria")
    seed(tmp_path, "main", "Flood warning", related=("River rises", "River rises again"))
    seed(tmp_path, "copy", "Flood warning issued", related=("Sandbags handed out",))
    ids = load(tmp_path)
    main, copy = ids["main"], ids["copy"]
    moderation.decide(main, maria, APPROVED, 1)
    assert found("flood", status="approved") == {main}
    assert found("flood", status="pending") == {copy}
    merging.merge(main, maria, 2, [0, 1])
    assert found("river") == {main}  # merged entries fold under the kept one; their titles stay searchable
    assert found("sandbags") == {copy}
    event = merging.absorb(main, maria, 3, copy)
    assert found("sandbags") == {main, copy}
    assert matches(QueueFilters(status="all", q="sandbags"), STALE, main)
    undo(event["id"], maria, 10)
    assert found("sandbags") == {copy}
    assert not matches(QueueFilters(status="all", q="sandbags"), STALE, main)


@pytest.fixture
def many(app, tmp_path):
    """30 articles: "common" in every one, "rare" in three; dates, ids and heat spread."""
    for number in range(30):
        words = "common rare" if number % 10 == 3 else "common"
        seed(tmp_path, f"a{number:02}", f"{words} story {number}", day=1 + number % 28)
    return load(tmp_path)


PLANS = ["probe", "match-set", "fetch"]


def force_plan(monkeypatch, plan: str) -> None:
    """Make the search's page plan `plan` for any query that matches (PostgreSQL: fetch for match-set)."""
    fetch = plan == "fetch"
    monkeypatch.setattr(search, "MIN_FETCH_ALL", 10**9 if fetch else 0)
    monkeypatch.setattr(search, "MATCH_SET_FROM", 0)
    monkeypatch.setattr(search, "MATCH_SET_UNTIL", 0 if plan == "probe" else 10**12)
    monkeypatch.setattr(search, "POSTGRESQL_PROBE_COST", 0 if plan == "probe" else 10**9)


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sort", ["newest", "oldest", "quality", "heat"])
def test_all_plans_give_the_same_pages(many, monkeypatch, plan, sort):
    force_plan(monkeypatch, plan)
    for q, expected in (("common", 30), ("rare", 3), ("common rare", 3), ("absent", 0), ("comm*", 30)):
        filters = QueueFilters(status="all", q=q, sort=sort)
        ids, cursor = [], None
        while True:
            page = queue_page(filters, cursor, STALE, limit=4)
            ids += [row.id for row in page.rows]
            cursor = page.next_cursor
            if not cursor:
                break
        everything = queue_page(QueueFilters(status="all", sort=sort), None, STALE, limit=100).rows
        assert ids == [row.id for row in everything if row.id in set(ids)]
        assert len(ids) == len(set(ids)) == expected


def test_the_plan_follows_the_words_frequency(many, monkeypatch):
    monkeypatch.setattr(search, "MIN_FETCH_ALL", 5)
    monkeypatch.setattr(search, "MATCH_SET_FROM", 0)
    monkeypatch.setattr(search, "MATCH_SET_UNTIL", 10)  # 30 articles: probed past sqrt(10 × 30) = 17 matches
    monkeypatch.setattr(search, "POSTGRESQL_PROBE_COST", 0)
    if db.engine.dialect.name != "sqlite":
        # The planner's estimate, without statistics in a test: either plan, both giving the same rows.
        assert search.search_filter(parse("common")).plan in ("tsvector", "tsvector-fetch")
        assert search.search_filter(parse("rare"), reads="count").plan == "tsvector"
        return
    assert search.search_filter(parse("common")).plan == "probe"
    assert search.search_filter(parse("rare")).plan == "fetch"
    assert search.search_filter(parse("common rare")).plan == "fetch"  # the rarest word bounds the matches
    assert search.search_filter(parse("comm*")).plan == "match-set"  # a prefix is never probed
    monkeypatch.setattr(search, "MIN_FETCH_ALL", 2)
    assert search.search_filter(parse("rare")).plan == "match-set"
    assert search.search_filter(parse("common")).plan == "probe"
    monkeypatch.setattr(search, "MATCH_SET_UNTIL", 100)  # sqrt(100 × 30) = 54
    assert search.search_filter(parse("common")).plan == "match-set"
    assert search.search_filter(parse("common"), reads="count").plan == "fetch"
    assert search.search_filter(parse("rare"), reads="one").plan == "probe"


def test_the_provider_plan_follows_how_many_articles_it_matches(many, monkeypatch):
    monkeypatch.setattr(search, "MIN_FETCH_ALL", 5)
    monkeypatch.setattr(search, "POSTGRESQL_PROBE_COST", 0)
    monkeypatch.setattr(search, "PROVIDER_PROBE_COST", 0)
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL's plan follows its planner's estimate, which needs the table's statistics.
        db.session.execute(text("ANALYZE articles"))
    assert search.provider_filter("exam").plan == "provider-probe"  # all 30 articles
    assert search.provider_filter("nobody").plan == "provider-fetch"
    for provider in ("exam", "nobody"):
        filters = QueueFilters(status="all", provider=provider, q="rare")
        assert len(queue_page(filters, None, STALE).rows) == (3 if provider == "exam" else 0)


def test_a_search_with_a_provider_or_category_is_counted_from_the_side_with_fewest_matches(app, tmp_path):
    """12 articles: "common" in all, "rare" in two; three from the Owl Gazette by name or domain (one of
    them rare), the rest from Example; four in sport, the rest news."""
    for number in range(12):
        owl = number in (0, 5, 9)
        seed(
            tmp_path,
            f"a{number:02}",
            f"common {'rare ' if number in (5, 7) else ''}story {number}",
            provider="Owl Gazette" if owl and number != 9 else "Example",
            domain="owl.news" if owl else "example.com",
            category="sport" if number in (0, 1, 2, 7) else "news",
        )
    load(tmp_path)
    # (q, provider, category): the count, and what drives it on SQLite ("search": the word's matches).
    cases = {
        ("common", "owl", ""): (3, "provider"),  # 3 owl articles against 12 matches
        ("rare", "owl", ""): (1, "search"),  # 2 matches against 3
        ("common", "exam", ""): (10, "provider"),
        ("rare", "exam", ""): (1, "search"),
        ("common", "", "sport"): (4, "category"),
        ("rare", "", "sport"): (1, "search"),
        ("common", "owl", "sport"): (1, "provider"),  # 3 owl articles against 4 in sport
        ("common", "exam", "sport"): (3, "category"),  # 4 in sport against 10 from example
    }
    plans_by_driver = {
        "search": ({"fetch", "provider-fetch"}, None),
        "provider": ({"match-set", "provider-fetch"}, None),
        "category": ({"match-set", "provider-probe"}, "category"),
    }
    for (q, provider, category), (expected, driving) in cases.items():
        filters = QueueFilters(status="all", q=q, provider=provider, category=category)
        if db.engine.dialect.name == "sqlite":
            plan = listing._count_plan(filters, STALE, 100)
            expected_plans, expected_driver = plans_by_driver[driving]
            assert set(plan.plans) <= expected_plans, (q, provider, category, plan.plans)
            assert plan.driver == expected_driver, (q, provider, category, plan.driver)
        assert count_matching(filters, STALE, 100) == expected, (q, provider, category)
        assert count_matching(filters, STALE, 2) == min(expected, 2), (q, provider, category)


def test_the_provider_plan_counts_matches_by_name_or_domain_exactly_up_to_its_cap(app, tmp_path):
    """Four articles match "prair" by name, three by domain, one by both: six in all."""
    outlets = [("Prairie Post", "post.example")] * 3 + [("Plains", "prairie.example")] * 2
    outlets += [("Prairie Daily", "prairie-daily.example"), ("Elsewhere", "elsewhere.example")]
    for number, (provider, domain) in enumerate(outlets):
        seed(tmp_path, f"p{number}", f"story {number}", provider=provider, domain=domain)
    load(tmp_path)
    connection = db.session.connection()
    for cap in range(1, 9):
        counted = connection.execute(
            search._provider_articles(), {"provider": provider_pattern("prair"), "cap": cap}
        ).scalar()
        assert (counted >= cap) == (cap <= 6), cap
        assert counted == 6 or cap <= 6, cap


@pytest.mark.parametrize("plan", PLANS)
def test_relevance_puts_title_matches_first_and_pages_through_every_match(app, tmp_path, monkeypatch, plan):
    force_plan(monkeypatch, plan)
    seed(tmp_path, "related", "Markets today", related=("Volcano erupts",), day=20)
    seed(tmp_path, "title", "Volcano erupts in Iceland", day=1)
    seed(tmp_path, "excerpt", "Flights cancelled", excerpt="Ash from the volcano", day=10)
    ids = load(tmp_path)
    filters = QueueFilters(status="all", q="volcano", sort=listing.RELEVANCE)
    first = queue_page(filters, None, STALE, limit=2)
    second = queue_page(filters, first.next_cursor, STALE, limit=2)
    assert [row.id for row in first.rows + second.rows] == [ids["title"], ids["excerpt"], ids["related"]]
    assert second.next_cursor is None
    newest = queue_page(QueueFilters(status="all", sort=listing.RELEVANCE), None, STALE).rows
    assert [row.id for row in newest] == [ids["related"], ids["excerpt"], ids["title"]]  # no search: newest


def test_a_relevance_page_counts_no_matches_on_sqlite(many, monkeypatch):
    def no_count(*args):
        raise AssertionError("a relevance page counted the matches")

    monkeypatch.setattr(search, "_matches_up_to", no_count)
    page = queue_page(QueueFilters(status="all", q="common", sort=listing.RELEVANCE), None, STALE)
    assert len(page.rows) == 30


def test_rows_mark_the_matching_words(desk):
    (row,) = queue_page(QueueFilters(status="all", q='"election night"'), None, STALE).rows
    assert row.marked_title == (("Election", True), (" ", False), ("night", True), (" in Lisbon", False))
    (plain,) = [r for r in queue_page(QueueFilters(status="all"), None, STALE).rows if r.id == row.id]
    assert plain.marked_title is None


def test_the_providers_table_follows_the_articles(desk):
    pairs = {
        tuple(row) for row in db.session.execute(select(Provider.name, Provider.domain, Provider.name_key))
    }
    assert pairs == {("Example", "example.com", "example"), ("Owl Gazette", "example.com", "owl gazette")}
    db.session.execute(
        Article.__table__.update().where(Article.id == desk["owl"]).values(provider_name="Hoot Daily")
    )
    names = set(db.session.scalars(select(Provider.name)))
    assert names == {"Example", "Hoot Daily"}
    assert {row.id for row in queue_page(QueueFilters(status="all", provider="HOOT"), None, STALE).rows} == {
        desk["owl"]
    }


def test_the_migration_goes_down_and_up_again_filling_the_search(app, tmp_path):
    seed(tmp_path, "old", "Glacier retreat", provider="Ice Weekly", related=("Meltwater lakes",))
    ids = load(tmp_path)
    db.session.commit()
    db.session.remove()
    downgrade(revision="0019")
    inspector = inspect(db.engine)
    assert "providers" not in inspector.get_table_names()
    assert "articles_fts" not in inspector.get_table_names()
    assert {"related_titles", "search_vector"}.isdisjoint(
        c["name"] for c in inspector.get_columns("articles")
    )
    upgrade()
    assert found("meltwater") == found("glacier") == {ids["old"]}
    assert set(db.session.scalars(select(Provider.name))) == {"Ice Weekly"}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            index = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search'")
            ).scalar()
            assert "gin (search_vector)" in index
