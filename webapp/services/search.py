"""Full-text search over articles: SQLite's FTS5 table, PostgreSQL's tsvector (migration 0018).

The queue, its counts and the article pages' "matches these filters" all search through
`search_filter`, which turns a parsed query into a condition on `articles`, chosen by how many
articles the query is likely to match:

- few (a rare word): every match is fetched from the full-text index, then sorted; reading a
  few thousand matches costs less than walking the sort's index past rows that do not match;
- many (a common word): the page's query walks its sort index (newest first, say) and asks the
  full-text index about each row (FTS5 answers `rowid = ? AND MATCH ?` from its doclists), so a
  page of 50 stops after about 50 / (the share of articles matching) rows, instead of fetching
  and sorting hundreds of thousands of matches.

On SQLite the estimate is the smallest document count of the query's words (prefixes: of all
the words they start), read from `articles_fts_vocab`. PostgreSQL's planner makes the same
choice from its statistics on `search_vector` (ANALYZE keeps the most common lexemes), so one
condition serves there.

Sorting by relevance ranks a capped candidate set: the RELEVANCE_CANDIDATES newest imported
matches (highest ids) that pass the other filters, so a very common word is ranked among its
latest matches rather than all of them.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, bindparam, column, func, literal_column, select, table, text, update

from ..formats.search_query import SearchQuery
from ..models import Article, ArticleCount, RelatedLink, db

RELEVANCE_CANDIDATES = 1000
# Fetch-all-then-sort costs about one unit per match; walking the sort index costs about
# PROBE_COST units per row read, and a page needs 50 matches: rows read ≈ 50 × total / matches.
# Equal at matches ≈ sqrt(50 × PROBE_COST × total). PROBE_COST measured with bench/search.py.
PROBE_COST = 2
MIN_FETCH_ALL = 2000
# Weights of title, excerpt, provider and related titles in the relevance score.
FTS5_WEIGHTS = "10.0, 4.0, 2.0, 1.0"


class SearchFilter(NamedTuple):
    """A search as a queue filter: its plan (see `condition`; part of a statement's cache key), its values."""

    plan: str
    values: dict


def search_filter(query: SearchQuery, reads: str = "page") -> SearchFilter:
    """The condition that an article matches `query`, with the plan that suits what the statement `reads`.

    "page": rows in a sort index's order, up to a page: probing each row pays off for a common word.
    "count": every match (up to a cap), in no order: fetching them from the index does.
    "one": one article, by its id: probing it does.
    """
    if _dialect() == "postgresql":
        return SearchFilter("tsvector", {"search": query.tsquery()})
    if reads == "page":
        plan = "probe" if _likely_matches(query) > _fetch_all_limit() else "fetch"
    else:
        plan = "probe" if reads == "one" else "fetch"
    return SearchFilter(plan, {"search": query.fts5()})


def condition(plan: str) -> ColumnElement[bool]:
    """The condition of a `search_filter`'s plan, its value bound as "search": built once per plan."""
    return _tsvector_condition() if plan == "tsvector" else _fts5_condition(plan)


def relevance_candidates(conditions: list[ColumnElement[bool]]):
    """A subquery of (id, score) for the RELEVANCE_CANDIDATES newest matches passing `conditions`.

    A lower score is a better match on both databases (FTS5's bm25 is negative; ts_rank negated).
    The search's value is bound as "search", as by `search_filter`.
    """
    if _dialect() == "postgresql":
        score = -func.ts_rank(
            literal_column("articles.search_vector"), func.to_tsquery(text("'simple'"), bindparam("search"))
        )
        match = _tsvector_condition()
        source = select(Article.id.label("id"), score.label("score"))
    else:
        fts = table("articles_fts", column("rowid"))
        score = literal_column(f"bm25(articles_fts, {FTS5_WEIGHTS})")
        match = literal_column("articles_fts").op("MATCH")(bindparam("search"))
        source = select(Article.id.label("id"), score.label("score")).join(fts, fts.c.rowid == Article.id)
    return (
        source.where(match, *conditions)
        .order_by(Article.id.desc())
        .limit(RELEVANCE_CANDIDATES)
        .subquery("ranked")
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@lru_cache(maxsize=1)
def _tsvector_condition() -> ColumnElement[bool]:
    return text("articles.search_vector @@ to_tsquery('simple', :search)")


@lru_cache(maxsize=2)
def _fts5_condition(plan: str) -> ColumnElement[bool]:
    if plan == "probe":
        return text(
            "EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts.rowid = articles.id "
            "AND articles_fts MATCH :search)"
        )
    return text("articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :search)")


def _likely_matches(query: SearchQuery) -> int:
    """At most how many articles match: the fewest documents any of the query's words is in."""
    connection = db.session.connection()
    fewest = math.inf
    for term in query.terms:
        for position, word in enumerate(term.words):
            if term.prefix and position == len(term.words) - 1:
                count = connection.execute(_prefix_documents(), {"low": word, "high": word + "\U0010ffff"})
            else:
                count = connection.execute(_word_documents(), {"word": word})
            fewest = min(fewest, count.scalar() or 0)
    return int(fewest)


@lru_cache(maxsize=1)
def _word_documents():
    return text("SELECT doc FROM articles_fts_vocab WHERE term = :word")


@lru_cache(maxsize=1)
def _prefix_documents():
    # A sum over the words with this prefix: an upper bound of the articles holding any of them.
    return text("SELECT sum(doc) FROM articles_fts_vocab WHERE term >= :low AND term < :high")


def _fetch_all_limit() -> int:
    total = db.session.connection().execute(_article_total()).scalar() or 0
    return max(MIN_FETCH_ALL, int(math.sqrt(50 * PROBE_COST * total)))


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
