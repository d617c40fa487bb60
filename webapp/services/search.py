"""Full-text search over articles: SQLite's FTS5 table, PostgreSQL's tsvector (migration 0018).

The queue, its counts and the article pages' "matches these filters" all search through
`search_filter`, which turns a parsed query into a condition on `articles`, chosen by how many
articles the query is likely to match:

- few (a rare word): every match is fetched from the full-text index, then sorted; reading a
  few thousand matches costs less than walking the sort's index past rows that do not match;
- many (a common word): the page's query walks its sort index (newest first, say) and asks the
  full-text index about each row (FTS5 answers `rowid = ? AND MATCH ?` from its doclists), so a
  page of 50 stops after about 50 / (the share of articles matching) rows, instead of fetching
  and sorting hundreds of thousands of matches;
- on SQLite, in between (a word in a few percent, or a prefix): the walk looks each row up in
  the matches' ids, read once into a set, rather than asking FTS5 about each row.

On SQLite the estimate is the query's matches, counted up to that limit (FTS5 reads rowids
fast); on PostgreSQL, its planner's estimate of
the matches (EXPLAIN: ANALYZE keeps the most common lexemes of `search_vector`). Left alone, the
planner walks the sort's index for a 1% word (60 ms at 100,000 articles, measured): the page
is ordered by an expression no index holds (`sorted_after_reading`), so the few matches are read
with their rows from the GIN index and sorted after.

Sorting by relevance ranks a capped candidate set: the RELEVANCE_CANDIDATES newest imported
matches (highest ids) that pass the other filters, so a very common word is ranked among its
latest matches rather than all of them.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Join,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
    update,
)
from sqlalchemy.ext.compiler import compiles

from ..formats.search_query import SearchQuery
from ..models import Article, ArticleCount, Provider, RelatedLink, db
from .filtering import provider_pattern

RELEVANCE_CANDIDATES = 1000
# SQLite has three plans for a page of a search, chosen by its matches (m) among all articles (n):
# - "fetch": every match read from FTS5 with its sort keys (ix_articles_sort_keys), then sorted:
#   about 1.6 µs a match;
# - "match-set": the matches' ids read once into a set (about 0.14 µs each), then the sort's index
#   walked, each row looked up in the set (about 0.5 µs a row), for 50 / (m / n) rows;
# - "probe": the sort's index walked, FTS5 asked about each row (about 15 µs a row).
# Fetching costs less than the set below about sqrt(17 n) matches (the floor: 4,100 at 1,000,000
# articles); the set less than probing up to about sqrt(40,000 n) (the ceiling: 200,000), where
# the probe's cost also depends on how the matches fall in the sort's order. Measured on the idle
# machine at 1,000,000 articles (bench/search.py's database), in ms, fetch / set / probe: a word in
# 500 articles 2.4 / 54 / 5,000; in 9,600: 19 / 3.6 / 94; 24,100: 32 / 6.4 / 81; 90,700:
# 55 / 13 / 33; 108,800: 64 / 20 / 49; 221,700: 97 / 30 / 3.0. Counting the matches up to the
# ceiling, to choose, costs about 0.06 µs a match (12 ms for a word in every article). A prefix is
# never probed: FTS5 merges the lists of every word it starts for each row (1.2 ms a row for
# talo*); its set took 6.8 ms, its fetch 28.
MATCH_SET_FROM = 17
MATCH_SET_UNTIL = 40_000
MIN_FETCH_ALL = 2000
# The provider filter and PostgreSQL's search have two plans, fetch and probe: fetching costs one
# unit a match, probing a cost of its own a row, and a page needs 50 matches, so 50 × total /
# matches rows: equal at matches ≈ sqrt(50 × that cost × total) (`_fetch_all_limit`).
# A provider probe compares the row's provider with a few names, without FTS5: about one unit
# (a common provider, 49,400 of 1,000,000 articles, 8 ms a page at one unit, 27 at ten).
PROVIDER_PROBE_COST = 1
# PostgreSQL: a row read along the sort's index costs about 12 µs (its search_vector read from the
# row), a match read first about 5 µs: 3,900 at 100,000 articles, 12,000 at 1,000,000. (On the idle
# machine a 1% word probed in 22 ms and was fetched in 33, but one unit, the crossover that suggests,
# sent relevance over that word probing for its 1,000 candidates: 450 ms instead of 100.)
POSTGRESQL_PROBE_COST = 3
# Weights of title, excerpt, provider and related titles in the relevance score.
FTS5_WEIGHTS = "10.0, 4.0, 2.0, 1.0"


class SearchFilter(NamedTuple):
    """A search as a queue filter: its plan (see `condition`; part of a statement's cache key), its values."""

    plan: str
    values: dict


def search_filter(query: SearchQuery, reads: str = "page") -> SearchFilter:
    """The condition that an article matches `query`, with the plan that suits what the statement `reads`.

    "page": rows in a sort index's order, up to a page: probing each row pays off for a common word,
    looking each row up in the matches read once (SQLite's "match-set") for a word in a few percent.
    "count": every match (up to a cap), in no order: fetching them from the index does.
    "one": one article, by its id: probing it does.
    "relevance": the newest matches, ranked (`relevance_candidates`): on SQLite, FTS5 reads them
    newest first whatever their number, so they are not counted for a plan.
    """
    if _dialect() == "postgresql":
        values = {"search": query.tsquery()}
        listed = reads in ("page", "relevance")
        few = listed and _planner_rows(values) <= _fetch_all_limit(POSTGRESQL_PROBE_COST)
        return SearchFilter("tsvector-fetch" if few else "tsvector", values)
    if reads == "page":
        return SearchFilter(_sqlite_page_plan(query), {"search": query.fts5()})
    return SearchFilter("probe" if reads == "one" else "fetch", {"search": query.fts5()})


def provider_filter(text: str, reads: str = "page") -> SearchFilter:
    """The provider filter (part of a name or domain, any case) with the plan that suits how many it matches.

    The names come from the providers table; on SQLite, a provider with few articles is read
    through the articles' provider indexes ("provider-fetch"), one with many by walking the
    sort's index and checking each row's provider against the names ("provider-probe").
    """
    values = {"provider": provider_pattern(text)}
    if reads == "page":
        postgresql = _dialect() == "postgresql"
        cap = _fetch_all_limit(POSTGRESQL_PROBE_COST if postgresql else PROVIDER_PROBE_COST)
        found = _provider_planner_rows(values) if postgresql else count_provider(values, cap)
        return SearchFilter("provider-probe" if found >= cap else "provider-fetch", values)
    return SearchFilter("provider-probe" if reads == "one" else "provider-fetch", values)


def count_matches(values: dict, cap: int) -> int:
    """The articles the search (its values, as `search_filter` binds them) matches, counted up to `cap`.

    SQLite only. FTS5 reads its matching rowids at about 0.06 µs each (3 ms for 28,000 at 1,000,000
    articles); fts5vocab's document counts read a word's whole list instead (70 ms for a word in
    every article).
    """
    return db.session.connection().execute(_capped_count(), {"search": values["search"], "cap": cap}).scalar()


def count_ceiling() -> int:
    """How far a count of matches goes to choose a plan: past it, a word is common (sqrt(40,000 n))."""
    return _crossover(MATCH_SET_UNTIL, _article_total_now())


def count_provider(values: dict, cap: int) -> int:
    """The articles the provider filter (its values) matches, counted up to `cap` (SQLite reads them off its
    indexes)."""
    return db.session.connection().execute(_provider_articles(), values | {"cap": cap}).scalar()


def _provider_planner_rows(values: dict) -> float:
    """How many articles PostgreSQL's planner expects the provider filter to match.

    Counting them read each one's row (wide: a whole seed), 73 ms up to the cap for a provider with
    50,000 articles at 1,000,000; the planner knows the common providers from its statistics.
    The names and domains are read first, so that it estimates them one by one."""
    names, domains = db.session.connection().execute(_provider_pairs(), values).one()
    return _estimated_rows(_provider_estimate(), {"names": names or [], "domains": domains or []})


@lru_cache(maxsize=1)
def _provider_pairs():
    return text(
        "SELECT array_agg(DISTINCT name) FILTER (WHERE name_key LIKE :provider ESCAPE '\\'), "
        "array_agg(DISTINCT domain) FILTER (WHERE domain_key LIKE :provider ESCAPE '\\') FROM providers"
    )


@lru_cache(maxsize=1)
def _provider_estimate():
    return text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM articles "
        "WHERE provider_name = ANY(CAST(:names AS text[])) OR provider_domain = ANY(CAST(:domains AS text[]))"
    )


def conditions(plans: tuple[str, ...], *, driven: bool = True) -> list[ColumnElement[bool]]:
    """The conditions of these plans' filters (values bound by name), but the one `source` reads from
    when the statement is `driven` by it."""
    driving = _driving(plans) if driven else None
    return [_condition(plan) for plan in plans if plan != driving]


def source(plans: tuple[str, ...]):
    """The ids the first "fetch" plan reads first (a subquery with an `id` column), or None."""
    driving = _driving(plans)
    if driving is None:
        return None
    return {"fetch": _fts5_matches, "provider-fetch": _provider_ids}[driving]()


def _driving(plans: tuple[str, ...]) -> str | None:
    if sorted_after_reading(plans):
        return None  # PostgreSQL reads the search's few matches in place, the other filters as conditions
    return next((plan for plan in plans if plan.endswith("fetch")), None)


def sorted_after_reading(plans: tuple[str, ...]) -> bool:
    """Whether the page's matches are read first and sorted after, so its order must not follow an index.

    PostgreSQL's "tsvector-fetch": its few matches come from the GIN index with their rows, sort
    keys included (a bitmap scan). Given an order its planner can read along a sort index, it walks
    that index testing each row's tsvector instead; and reading ids first, then each one's row
    again by primary key, cost twice the scan (9,600 matches at 1,000,000 articles: 31 ms of a
    55 ms page, measured with EXPLAIN ANALYZE). Ordering by `unindexed(key)` leaves it the scan.
    """
    return "tsvector-fetch" in plans


def unindexed(key: ColumnElement) -> ColumnElement:
    """`key`, sorting as it does, in an expression no index holds (COALESCE of it with itself)."""
    return func.coalesce(key, key)


def _condition(plan: str) -> ColumnElement[bool]:
    return {
        "tsvector": _tsvector_condition,
        "tsvector-fetch": _tsvector_condition,
        "probe": _probe_condition,
        "match-set": _match_set_condition,
        "fetch": _probe_condition,
        "provider-fetch": _provider_probe_condition,
        "provider-probe": _provider_probe_condition,
    }[plan]()


@lru_cache(maxsize=1)
def _provider_probe_condition() -> ColumnElement[bool]:
    # `|| ''` keeps SQLite from reading the provider indexes: it walks the sort's index instead.
    return or_(
        (Article.provider_name + "").in_(_provider_values(Provider.name, Provider.name_key)),
        (Article.provider_domain + "").in_(_provider_values(Provider.domain, Provider.domain_key)),
    )


def _provider_values(value, key):
    return select(value).where(key.like(bindparam("provider"), escape="\\"))


def _provider_sides():
    """The ids of the articles whose provider name matches, and of those whose domain does."""
    by_name = select(Article.id).where(
        Article.provider_name.in_(_provider_values(Provider.name, Provider.name_key))
    )
    by_domain = select(Article.id).where(
        Article.provider_domain.in_(_provider_values(Provider.domain, Provider.domain_key))
    )
    return by_name, by_domain


@lru_cache(maxsize=1)
def _provider_ids():
    return union(*_provider_sides()).subquery("providers_matches")


@lru_cache(maxsize=1)
def _provider_articles():
    # Each side read up to the cap, then the two merged: at least `cap` ids come out exactly when at
    # least `cap` articles match. `_provider_ids`' UNION, limited after, read every match first (14 ms
    # for 5,000 at 100,000 articles on PostgreSQL, 420 ms for 50,000 at 1,000,000); an OR of the two
    # sides is a sequential scan there.
    limited = [side.limit(bindparam("cap")).subquery() for side in _provider_sides()]
    ids = union(*(select(side.c.id) for side in limited)).subquery()
    return select(func.count()).select_from(ids)


def driven_by(ids, query_from, *, sort_keys: bool = False):
    """`query_from` (a FROM clause starting at `articles`) read for each of `ids` (a subquery) in turn.

    SQLite's planner, without statistics, takes `status = ?` for a rare value and would walk the
    sort's index rather than the few ids; a CROSS JOIN keeps the order written (PostgreSQL
    plans an ordinary join by its statistics). `sort_keys`: each article's status and sort
    columns are read from ix_articles_sort_keys rather than from its row, which holds a whole seed.
    """
    join = SortKeysJoin if sort_keys else DrivingJoin
    return join(ids, query_from, ids.c.id == Article.id)


class DrivingJoin(Join):
    """An inner join whose left side SQLite reads first (rendered CROSS JOIN there)."""

    inherit_cache = True


class SortKeysJoin(DrivingJoin):
    """A DrivingJoin reading `articles` through ix_articles_sort_keys on SQLite."""

    inherit_cache = True


@compiles(DrivingJoin, "sqlite")
def _cross_join(element, compiler, **kw):
    # The left sides used here (a table, a subquery of ids) hold no join: the first is this one.
    return compiler.visit_join(element, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


@compiles(SortKeysJoin, "sqlite")
def _cross_join_by_sort_keys(element, compiler, **kw):
    # SQLAlchemy renders no table hint on SQLite: the INDEXED BY clause goes in here.
    joined = " CROSS JOIN articles "
    rendered = _cross_join(element, compiler, **kw)
    return rendered.replace(joined, joined + "INDEXED BY ix_articles_sort_keys ", 1)


def relevance_candidates(conditions: list[ColumnElement[bool]], plan: str):
    """A subquery of (id, score) for the RELEVANCE_CANDIDATES newest matches passing `conditions`.

    A lower score is a better match on both databases (FTS5's bm25 is negative; ts_rank negated).
    The search's value is bound as "search", and `plan` is its plan, as by `search_filter`.
    """
    if _dialect() == "postgresql":
        # Few matches: read in place (a bitmap scan), not along the primary key.
        newest = unindexed(Article.id) if plan == "tsvector-fetch" else Article.id
        # Ranked once chosen: ts_rank reads a whole tsvector, 16 µs each, and in the same query
        # PostgreSQL ranked every match before keeping the newest (9,600: 159 ms of 163, EXPLAIN ANALYZE).
        candidates = (
            select(Article.id.label("id"), literal_column("articles.search_vector").label("words"))
            .where(_tsvector_condition(), *conditions)
            .order_by(newest.desc())
            .limit(RELEVANCE_CANDIDATES)
            .subquery("candidates")
        )
        score = -func.ts_rank(candidates.c.words, func.to_tsquery(text("'simple'"), bindparam("search")))
        return select(candidates.c.id, score.label("score")).subquery("ranked")
    # FTS5 reads its matches newest (highest rowid) first by itself; bm25 is computed for those read.
    fts = _fts_table()
    score = literal_column(f"bm25(articles_fts, {FTS5_WEIGHTS})")
    return (
        select(Article.id.label("id"), score.label("score"))
        .select_from(SortKeysJoin(fts, Article.__table__, fts.c.rowid == Article.id))
        .where(_fts5_match(), *conditions)
        .order_by(fts.c.rowid.desc())
        .limit(RELEVANCE_CANDIDATES)
        .subquery("ranked")
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@lru_cache(maxsize=1)
def _tsvector_condition() -> ColumnElement[bool]:
    return text("articles.search_vector @@ to_tsquery('simple', :search)")


@lru_cache(maxsize=1)
def _probe_condition() -> ColumnElement[bool]:
    return text(
        "EXISTS (SELECT 1 FROM articles_fts "
        "WHERE articles_fts.rowid = articles.id AND articles_fts MATCH :search)"
    )


@lru_cache(maxsize=1)
def _match_set_condition() -> ColumnElement[bool]:
    # The unary + keeps SQLite walking the sort's index rather than reading the matches first; the
    # subquery is not correlated, so SQLite reads it once into a set and looks each row up in it.
    return text("+articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :search)")


def _planner_rows(values: dict) -> float:
    """How many articles PostgreSQL's planner expects the search to match (from its statistics)."""
    return _estimated_rows(_planner_estimate(), values)


def _estimated_rows(explain, values: dict) -> float:
    """The rows PostgreSQL's planner expects of `explain`, an EXPLAIN (FORMAT JSON) statement."""
    plan = db.session.connection().execute(explain, values).scalar()
    return plan[0]["Plan"]["Plan Rows"]


@lru_cache(maxsize=1)
def _planner_estimate():
    return text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM articles "
        "WHERE articles.search_vector @@ to_tsquery('simple', :search)"
    )


@lru_cache(maxsize=1)
def _fts5_matches():
    fts = _fts_table()
    return select(fts.c.rowid.label("id")).where(_fts5_match()).subquery("matches")


@lru_cache(maxsize=1)
def _fts_table():
    return table("articles_fts", column("rowid"))


def _fts5_match() -> ColumnElement[bool]:
    return literal_column("articles_fts").op("MATCH")(bindparam("search"))


def _matches_up_to(query: SearchQuery, cap: int) -> int:
    return count_matches({"search": query.fts5()}, cap)


def _sqlite_page_plan(query: SearchQuery) -> str:
    """ "fetch", "match-set" or "probe", by the query's matches counted up to where the plan changes."""
    total = _article_total_now()
    floor = _crossover(MATCH_SET_FROM, total)
    if any(term.prefix for term in query.terms):
        return "match-set" if _matches_up_to(query, floor + 1) > floor else "fetch"
    ceiling = max(floor, _crossover(MATCH_SET_UNTIL, total))
    matches = _matches_up_to(query, ceiling + 1)
    if matches > ceiling:
        return "probe"
    return "match-set" if matches > floor else "fetch"


@lru_cache(maxsize=1)
def _capped_count():
    capped = select(_fts_table().c.rowid).where(_fts5_match()).limit(bindparam("cap")).subquery()
    return select(func.count()).select_from(capped)


def _fetch_all_limit(probe_cost: float) -> int:
    return _crossover(50 * probe_cost, _article_total_now())


def _crossover(factor: float, total: int) -> int:
    """Where two plans cost the same, sqrt(factor × total) matches, never below MIN_FETCH_ALL."""
    return max(MIN_FETCH_ALL, int(math.sqrt(factor * total)))


def _article_total_now() -> int:
    return db.session.connection().execute(_article_total()).scalar() or 0


@lru_cache(maxsize=1)
def _article_total():
    return select(func.coalesce(func.sum(ArticleCount.count), 0))


def refresh_related_titles(article_id: int) -> None:
    """Read an article's related titles again after its related list changed (the import writes its own)."""
    titles = db.session.scalars(
        select(RelatedLink.title).where(RelatedLink.article_id == article_id).order_by(RelatedLink.position)
    ).all()
    db.session.execute(
        update(Article.__table__).where(Article.id == article_id).values(related_titles="\n".join(titles))
    )
