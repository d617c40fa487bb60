"""The same story across the queue: which articles duplicate another article, found at import.

Every article's own URLs and headline, and those of its related entries, are stored as
64-bit keys (`story_keys`, indexed), so a new seed is matched with a few indexed lookups,
never a rescan of the queue. Two articles are linked when:

- one's own URL (canonical form) or headline (same words, not generic) is the other's:
  the same story arrived as two seeds ("same URL" / "same headline"); both are flagged as
  possible duplicates;
- one is an entry of the other's related list (its URL or headline is that entry's): the
  outlet put both under one topic. That is a possible duplicate only with a second signal
  that both report one event (formats/stories.py, read off both articles' stored headlines,
  dates and the list's entries); else the two are only "covered together".

Related entries of two articles that match each other say only that both cover one event,
which is what related lists are for, and link nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from ..formats.canonical_url import canonical_url
from ..formats.duplicates import SAME_HEADLINE, SAME_URL
from ..formats.headlines import headline_key
from ..formats.stories import COVERED, DUPLICATE, RELATED_ENTRY, StoryFields, judge_related
from ..models import Article, RelatedLink, StoryKey, StoryMatch, db

OWN = -1  # the position of an article's own keys; related entries use theirs (0, 1, ...)
__all__ = ["COVERED", "DUPLICATE", "OWN", "RELATED_ENTRY", "SAME_HEADLINE", "SAME_URL"]


@dataclass(frozen=True, slots=True)
class KeySource:
    """The fields keys are made from: an article's own, or one related entry's."""

    position: int
    title: str
    urls: tuple[str | None, ...]


def key_hash(kind: str, text: str) -> int:
    """A signed 64-bit key: `u` for canonical URLs, `h` for headline keys."""
    digest = hashlib.blake2b(f"{kind}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def keys_of(source: KeySource) -> dict[int, str]:
    """key hash -> the reason a match on it gives."""
    keys = {}
    for url in source.urls:
        canonical = canonical_url(url) if url else None
        if canonical:
            keys[key_hash("u", canonical)] = SAME_URL
    headline = headline_key(source.title)
    if headline:
        keys.setdefault(key_hash("h", headline), SAME_HEADLINE)
    return keys


def index_articles(sources: dict[int, list[KeySource]], connection=None) -> None:
    """Store the keys of these (new or re-imported) articles and record the matches they make.

    `sources` maps each article id to its own KeySource (position OWN) and its related
    entries'. Runs inside the caller's transaction (the session's, or `connection`'s).
    """
    execute = (connection or db.session).execute
    keyed = article_keys(sources)
    if not keyed:
        return
    execute(
        insert(StoryKey.__table__),
        [
            {"key_hash": key, "article_id": article_id, "position": position}
            for article_id, position, key in keyed
        ],
    )
    hashes = list({key for _, _, key in keyed})
    found = []
    for start in range(0, len(hashes), 500):
        found += execute(_lookup(), {"hashes": hashes[start : start + 500]}).all()
    by_key: dict[int, list[tuple[int, int]]] = {}
    for key, article_id, position in found:
        by_key.setdefault(key, []).append((article_id, position))
    _record(judged(matches_among(keyed, by_key), execute), execute)


def article_keys(sources: dict[int, list[KeySource]]) -> dict[tuple[int, int, int], str]:
    """(article id, position, key hash) -> the reason a match on that key gives."""
    keyed = {}
    for article_id, article_sources in sources.items():
        for source in article_sources:
            for key, reason in keys_of(source).items():
                keyed[(article_id, source.position, key)] = reason
    return keyed


def matches_among(
    keyed: dict[tuple[int, int, int], str], by_key: dict[int, list[tuple[int, int]]]
) -> dict[tuple[int, int], str]:
    """(article, the article it may duplicate) -> reason, for new keys and each holder of them."""
    matches: dict[tuple[int, int], str] = {}
    for (article_id, position, key), reason in keyed.items():
        for other_id, other_position in by_key.get(key, ()):
            if other_id == article_id:
                continue
            if position == OWN and other_position == OWN:
                for pair in ((article_id, other_id), (other_id, article_id)):
                    if matches.get(pair, RELATED_ENTRY) == RELATED_ENTRY:  # the own keys' reason wins
                        matches[pair] = reason
            elif position == OWN:
                matches.setdefault((article_id, other_id), RELATED_ENTRY)
            elif other_position == OWN:
                matches.setdefault((other_id, article_id), RELATED_ENTRY)
    return matches


def judged(matches: dict[tuple[int, int], str], execute) -> dict[tuple[int, int], tuple[str, str]]:
    """(article, other) -> (kind, reason): a related-list link judged on both articles' stored
    headlines and dates and the other's entries (formats/stories.py); own keys' links are duplicates."""
    related = [pair for pair, reason in matches.items() if reason == RELATED_ENTRY]
    fields, entry_titles = _story_fields(
        {article_id for pair in related for article_id in pair},
        {covering for _, covering in related},
        execute,
    )
    kinds = {pair: (DUPLICATE, reason) for pair, reason in matches.items() if reason != RELATED_ENTRY}
    for entry_id, covering_id in related:
        verdict = judge_related(fields[entry_id], fields[covering_id], entry_titles.get(covering_id, ()))
        kinds[(entry_id, covering_id)] = (verdict.kind, verdict.reason)
    return kinds


def _story_fields(
    article_ids: set[int], covering_ids: set[int], execute
) -> tuple[dict[int, StoryFields], dict[int, list[str]]]:
    """The headline, date and excerpt of these articles, and the titles of the covering ones' entries."""
    fields: dict[int, StoryFields] = {}
    entry_titles: dict[int, list[str]] = {}
    own = select(Article.id, Article.title, Article.published_at, Article.excerpt)
    for chunk in _chunks(sorted(article_ids)):
        for row in execute(own.where(Article.id.in_(chunk))):
            fields[row.id] = StoryFields(row.title, row.published_at, row.excerpt)
    titles = select(RelatedLink.article_id, RelatedLink.title).order_by(
        RelatedLink.article_id, RelatedLink.position
    )
    for chunk in _chunks(sorted(covering_ids)):
        for row in execute(titles.where(RelatedLink.article_id.in_(chunk))):
            entry_titles.setdefault(row.article_id, []).append(row.title)
    return fields, entry_titles


def _chunks(ids: list[int], size: int = 500):
    return (ids[start : start + size] for start in range(0, len(ids), size))


def forget_articles(article_ids: Iterable[int]) -> None:
    """Drop the keys and matches of articles about to be indexed again (a changed seed)."""
    ids = list(article_ids)
    if not ids:
        return
    others = db.session.scalars(select(StoryMatch.article_id).where(StoryMatch.other_id.in_(ids))).all()
    db.session.execute(delete(StoryKey.__table__).where(StoryKey.article_id.in_(ids)))
    db.session.execute(
        delete(StoryMatch.__table__).where(or_(StoryMatch.article_id.in_(ids), StoryMatch.other_id.in_(ids)))
    )
    _refresh_duplicate_of(set(others) | set(ids), db.session.execute)


def matches_for(article_id: int) -> list:
    """The articles this one may duplicate or is covered together with: id, title, status, reject
    reason, the reason they match and its kind, oldest first; with whether either's related links
    were added to the other's."""
    return db.session.connection().execute(_matches_query(), {"article_id": article_id}).all()


@cache
def _matches_query():
    this = bindparam("article_id")
    return (
        select(
            Article.id,
            Article.title,
            Article.status,
            Article.version,
            Article.provider_name,
            Article.reject_reason,
            StoryMatch.reason,
            StoryMatch.kind,
            _links_added(this, Article.id).label("links_added_here"),
            _links_added(Article.id, this).label("links_added_there"),
        )
        .join(StoryMatch, StoryMatch.other_id == Article.id)
        .where(StoryMatch.article_id == this)
        .order_by(Article.id)
    )


def _links_added(to_id, from_id):
    """Whether article `to_id` holds related links added from article `from_id` (merging.absorb)."""
    return (
        select(RelatedLink.id)
        .where(RelatedLink.article_id == to_id, RelatedLink.source_article_id == from_id)
        .exists()
    )


def _lookup():
    return select(StoryKey.key_hash, StoryKey.article_id, StoryKey.position).where(
        StoryKey.key_hash.in_(bindparam("hashes", expanding=True))
    )


def _record(matches: dict[tuple[int, int], tuple[str, str]], execute) -> None:
    if not matches:
        return
    pairs = list(matches)
    existing = set()
    article_ids = list({article_id for article_id, _ in pairs})
    for start in range(0, len(article_ids), 500):
        existing |= set(
            execute(
                select(StoryMatch.article_id, StoryMatch.other_id).where(
                    StoryMatch.article_id.in_(article_ids[start : start + 500])
                )
            ).all()
        )
    fresh = [
        {"article_id": a, "other_id": o, "kind": matches[(a, o)][0], "reason": matches[(a, o)][1]}
        for a, o in pairs
        if (a, o) not in existing
    ]
    if fresh:
        execute(insert(StoryMatch.__table__), fresh)
    _refresh_duplicate_of(set(article_ids), execute)


def _refresh_duplicate_of(article_ids: set[int], execute) -> None:
    """Each article's `duplicate_of_id`: the oldest article it may duplicate, or none."""
    if not article_ids:
        return
    first = (
        select(func.min(StoryMatch.other_id))
        .where(StoryMatch.article_id == Article.id, StoryMatch.kind == DUPLICATE)
        .scalar_subquery()
    )
    ids = list(article_ids)
    for start in range(0, len(ids), 500):
        execute(
            update(Article.__table__)
            .where(Article.id.in_(ids[start : start + 500]))
            .values(duplicate_of_id=first)
        )
