"""Derived data computed again from what is stored: duplicate suggestions and the story index.

An import computes both as it stores each seed. `reindex()` computes them again for every
article with today's rules: after an upgrade from a database older than them (migrations
make the schema only, and never run the app's code), or after the matching rules change.
Merges, decisions and audit events are kept: suggestions are read off the visible entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from ..formats.duplicates import LinkFields, related_suggestions, suggestion_rows
from ..models import Article, DuplicateSuggestion, RelatedLink, StoryKey, StoryMatch, db
from .story_index import COVERED, DUPLICATE, OWN, KeySource, index_articles

BATCH = 500


@dataclass
class ReindexReport:
    articles: int = 0
    suggestions: int = 0
    matches: int = 0  # possible duplicates
    covered: int = 0  # links of articles only covered together


def reindex(batch: int = BATCH) -> ReindexReport:
    """Compute every article's duplicate suggestions and story keys again, in one transaction."""
    report = ReindexReport()
    db.session.execute(delete(DuplicateSuggestion.__table__))
    db.session.execute(delete(StoryMatch.__table__))
    db.session.execute(delete(StoryKey.__table__))
    db.session.execute(update(Article.__table__).values(suggestion_count=0, duplicate_of_id=None))
    ids = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        report.suggestions += _suggest(chunk)
        index_articles(_key_sources(chunk))
    report.articles = len(ids)
    kinds = dict(db.session.execute(select(StoryMatch.kind, db.func.count()).group_by(StoryMatch.kind)).all())
    report.matches, report.covered = kinds.get(DUPLICATE, 0), kinds.get(COVERED, 0)
    db.session.commit()
    return report


def _suggest(article_ids: list[int]) -> int:
    visible: dict[int, list[LinkFields]] = {}
    for row in _related(article_ids, RelatedLink.merged_into_id.is_(None)):
        visible.setdefault(row.article_id, []).append(LinkFields(*row[1:]))
    stored = 0
    for article_id, links in visible.items():
        found = related_suggestions(links)
        if found:
            db.session.execute(insert(DuplicateSuggestion.__table__), suggestion_rows(article_id, found))
            db.session.execute(
                update(Article.__table__).where(Article.id == article_id).values(suggestion_count=len(found))
            )
            stored += len(found)
    return stored


def _key_sources(article_ids: list[int]) -> dict[int, list[KeySource]]:
    sources = {}
    own = select(
        Article.id,
        Article.title,
        Article.web_url,
        Article.original_url,
        Article.amp_web_url,
        Article.cdn_amp_web_url,
    ).where(Article.id.in_(article_ids))
    for row in db.session.execute(own):
        sources[row.id] = [KeySource(OWN, row.title, tuple(row[2:]))]
    for row in _related(article_ids):
        sources[row.article_id].append(KeySource(row.position, row.title, tuple(row[3:])))
    return sources


def _related(article_ids: list[int], *conditions):
    """The fields keys and suggestions are made from, for the related entries of these articles."""
    return db.session.execute(
        select(
            RelatedLink.article_id,
            RelatedLink.position,
            RelatedLink.title,
            RelatedLink.web_url,
            RelatedLink.amp_web_url,
            RelatedLink.cdn_amp_web_url,
        )
        .where(RelatedLink.article_id.in_(article_ids), *conditions)
        .order_by(RelatedLink.article_id, RelatedLink.position)
    )
