"""Duplicate related links: which entries of one article's `related` list are the same article.

Three signals, each a reason shown to the moderator:

- "same URL": any of the entries' URLs (webUrl, ampWebUrl, cdnAmpWebUrl) have the same
  canonical form (see canonical_url);
- "same headline": the headlines have the same words (see headlines.headline_key); this is
  syndication, the same article published by several outlets. Generic headlines never match.
- "similar headline (93%)": among the entries in no group of the first two, headlines that
  look like one article's lightly reworded (see headlines.headline_similarity); the number is
  the rapidfuzz score, the weakest link when more than two entries are grouped.

Entries linked by the exact signals form one group; similar headlines form groups of their
own, never mixed with those. Suggestions are only shown: nothing is merged without a
moderator. Different outlets' different articles on one story are what a related list is
for, and are never suggested.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from .canonical_url import canonical_url
from .headlines import headline_key, headline_profile, near_headline_score

SAME_URL, SAME_HEADLINE = "same URL", "same headline"
SIMILAR_HEADLINE = "similar headline"
# A link's exact-signal keys, as stored at import: (its URL keys, its headline key or None).
LinkKeys = tuple[Iterable[Hashable], Hashable | None]


@dataclass(frozen=True, slots=True)
class LinkFields:
    """What the suggestions read of a related entry."""

    position: int
    title: str
    web_url: str | None
    amp_web_url: str | None = None
    cdn_amp_web_url: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A group of entries that look like one article, with the strongest reason found."""

    positions: tuple[int, ...]  # sorted
    reason: str
    score: int  # 100 for the exact signals, the headline similarity (0-100) for "similar headline"


def related_suggestions(
    links: Iterable[LinkFields], keys: Mapping[int, LinkKeys] | None = None
) -> list[Suggestion]:
    """The duplicate groups among one article's visible related entries, in list order.

    `keys`, when given, maps each link's position to its exact-signal keys as the import stores
    them, (URL keys, headline key or None), e.g. story_index's hashes (any sequence indexed by
    position will do too); the exact signals then compare those instead of computing canonical
    URLs and headline keys from the fields. Near headlines are found from the titles either way.
    """
    links = list(links)
    parent = {link.position: link.position for link in links}
    reasons: dict[frozenset, str] = {}

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    def join(first: int, second: int, reason: str) -> None:
        parent[root(second)] = root(first)
        reasons.setdefault(frozenset((first, second)), reason)

    if keys is None:
        signals = ((SAME_URL, _url_keys), (SAME_HEADLINE, _headline_keys))
    else:
        signals = (
            (SAME_URL, lambda link: keys[link.position][0]),
            (SAME_HEADLINE, lambda link: _present(keys[link.position][1])),
        )
    for reason, keys_of in signals:
        first_with_key: dict[Hashable, int] = {}
        for link in links:
            for key in keys_of(link):
                if key in first_with_key and root(first_with_key[key]) != root(link.position):
                    join(first_with_key[key], link.position, reason)
                first_with_key.setdefault(key, link.position)

    groups: dict[int, list[int]] = {}
    for link in links:
        groups.setdefault(root(link.position), []).append(link.position)
    suggestions = []
    for members in groups.values():
        if len(members) > 1:
            found = {reason for pair, reason in reasons.items() if pair <= set(members)}
            suggestions.append(
                Suggestion(tuple(members), SAME_URL if SAME_URL in found else SAME_HEADLINE, 100)
            )
    grouped = {position for suggestion in suggestions for position in suggestion.positions}
    suggestions += _similar_headlines([link for link in links if link.position not in grouped])
    return sorted(suggestions, key=lambda suggestion: suggestion.positions)


def _similar_headlines(links: list[LinkFields]) -> list[Suggestion]:
    """Entries whose headlines are similar: a group when all of them are similar to each other
    (scored by the weakest pair), else one suggestion per similar pair."""
    profiles = [(link.position, headline_profile(link.title)) for link in links]
    profiles = [(position, profile) for position, profile in profiles if profile]
    scores: dict[tuple[int, int], int] = {}
    for index, (first, first_profile) in enumerate(profiles):
        for second, second_profile in profiles[index + 1 :]:
            score = near_headline_score(first_profile, second_profile)
            if score is not None:
                scores[(min(first, second), max(first, second))] = score
    suggestions = []
    for members in _connected(scores):
        pairs = [(pair, score) for pair, score in scores.items() if pair[0] in members]
        if len(pairs) == len(members) * (len(members) - 1) // 2:
            pairs = [(tuple(sorted(members)), min(score for _, score in pairs))]
        suggestions += [
            Suggestion(positions, f"{SIMILAR_HEADLINE} ({score}%)", score) for positions, score in pairs
        ]
    return suggestions


def _connected(pairs: Iterable[tuple[int, int]]) -> list[set[int]]:
    group_of: dict[int, set[int]] = {}
    for first, second in pairs:
        merged = group_of.get(first, {first}) | group_of.get(second, {second})
        for position in merged:
            group_of[position] = merged
    return list({id(group): group for group in group_of.values()}.values())


def _url_keys(link: LinkFields) -> set[str]:
    keys = (canonical_url(url) for url in (link.web_url, link.amp_web_url, link.cdn_amp_web_url) if url)
    return {key for key in keys if key}


def _headline_keys(link: LinkFields) -> set[str]:
    key = headline_key(link.title)
    return {key} if key else set()


def _present(key: Hashable | None) -> tuple[Hashable, ...]:
    return () if key is None else (key,)


def suggestion_rows(article_id: int, suggestions: Iterable[Suggestion]) -> list[dict]:
    """The `duplicate_suggestions` rows that store an article's suggestions."""
    return [
        {
            "article_id": article_id,
            "positions": list(found.positions),
            "reason": found.reason,
            "score": found.score,
        }
        for found in suggestions
    ]
