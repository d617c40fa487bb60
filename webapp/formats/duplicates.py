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

The work is in proportion to the list, whatever a seed holds (a 2 MiB seed can list 10,000
entries): the exact signals hash their keys, near headlines are only scored for pairs that share
a rare content word (`candidate_pairs`), and the bounds below cap the scores and the groups.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from .canonical_url import canonical_url
from .headlines import MIN_CONTENT_OVERLAP, headline_key, headline_profile, near_headline_score

SAME_URL, SAME_HEADLINE = "same URL", "same headline"
SIMILAR_HEADLINE = "similar headline"
# Bounds on one article's grouping. None binds on a list of up to 100 entries (real ones hold 28
# at most), so such lists get exactly the groups of comparing every pair.
MAX_COMPARISONS = 10_000  # near-headline scores for one list (or one per entry, if more)
MAX_SIMILAR_ENTRIES = 2_000  # near headlines are looked for among the first 2,000 entries not grouped yet
MAX_GROUPS = 200  # groups kept for one article: the exact signals' first, each kind in list order
MAX_GROUP_SIZE = 20  # entries in one group: a larger one is cut into groups of 20, in list order
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
    """The duplicate groups among one article's visible related entries, in list order (at most MAX_GROUPS).

    `keys`, when given, maps each link's position to its exact-signal keys as the import stores
    them, (URL keys, headline key or None), e.g. story_index's hashes (any sequence indexed by
    position will do too); the exact signals then compare those instead of computing canonical
    URLs and headline keys from the fields. Near headlines are found from the titles either way.
    """
    links = list(links)
    groups = _Groups(link.position for link in links)
    if keys is None:
        signals = ((SAME_URL, _url_keys), (SAME_HEADLINE, _headline_keys))
    else:
        signals = (
            (SAME_URL, lambda link: keys[link.position][0]),
            (SAME_HEADLINE, lambda link: _present(keys[link.position][1])),
        )
    by_url: set[int] = set()  # roots of groups joined by a URL: those say "same URL"
    for reason, keys_of in signals:
        first_with_key: dict[Hashable, int] = {}
        for link in links:
            for key in keys_of(link):
                first = first_with_key.setdefault(key, link.position)
                if first != link.position and groups.join(first, link.position) and reason == SAME_URL:
                    by_url.add(link.position)
    exact, grouped = [], set()
    for members in groups.members():
        if len(members) > 1:
            grouped.update(members)
            reason = SAME_URL if any(position in by_url for position in members) else SAME_HEADLINE
            exact += [Suggestion(chunk, reason, 100) for chunk in _chunks(members)]
    ungrouped = [link for link in links if link.position not in grouped]
    similar = _similar_headlines(ungrouped[:MAX_SIMILAR_ENTRIES])
    return _bounded(exact, similar)


def candidate_pairs(contents: list[frozenset[str]]) -> list[tuple[int, int]]:
    """The pairs (earlier index, later index) of content-word sets worth a near-headline score.

    Two headlines can only be near when they share MIN_CONTENT_OVERLAP of their content words, so
    they share one of the rarest few of each (prefix filtering: a set of n words shares at least
    ceil(0.6 n) with such a neighbour, so one of its n - ceil(0.6 n) + 1 rarest): only pairs that do
    are candidates, found through an index of those rare words. Each entry takes at most
    `MAX_COMPARISONS // len(contents)` candidates, the latest before it first, so a list makes
    at most about MAX_COMPARISONS of them (or one per entry): lists of up to 100 entries are
    compared in full, and a larger one of near-identical headlines compares each with its
    closest predecessors only.
    """
    frequency = Counter(word for content in contents for word in content)
    budget = max(1, MAX_COMPARISONS // max(len(contents), 1))
    blocks: dict[str, list[int]] = {}
    pairs = []
    for index, content in enumerate(contents):
        rarest = sorted(content, key=lambda word: (frequency[word], word))[: _prefix_length(len(content))]
        found: dict[int, None] = {}
        for word in rarest:
            block = blocks.setdefault(word, [])
            for earlier in reversed(block[-budget:]):
                if len(found) == budget:
                    break
                found.setdefault(earlier)
            block.append(index)
        pairs += [(earlier, index) for earlier in sorted(found)]
    return pairs


def _prefix_length(size: int) -> int:
    # The fewest words two near headlines share, ceil(overlap * size), taken a hair low so that no
    # float rounding ever makes the prefix one word too short.
    return size - math.ceil(MIN_CONTENT_OVERLAP * size - 1e-9) + 1


def _similar_headlines(links: list[LinkFields]) -> list[Suggestion]:
    """Entries whose headlines are similar: a group when all of them are similar to each other
    (scored by the weakest pair), else one suggestion per similar pair."""
    profiles = [(link.position, headline_profile(link.title)) for link in links]
    profiles = [(position, profile) for position, profile in profiles if profile]
    scores: dict[tuple[int, int], int] = {}
    for first, second in candidate_pairs([profile.content for _, profile in profiles]):
        score = near_headline_score(profiles[first][1], profiles[second][1])
        if score is not None:
            one, other = profiles[first][0], profiles[second][0]
            scores[(min(one, other), max(one, other))] = score
    components = _Groups(position for pair in scores for position in pair)
    for first, second in scores:
        components.join(first, second)
    pairs_of: dict[int, list[tuple[tuple[int, int], int]]] = {}
    for pair, score in scores.items():
        pairs_of.setdefault(components.root(pair[0]), []).append((pair, score))
    suggestions = []
    for members in components.members():
        pairs = pairs_of[components.root(members[0])]
        if len(pairs) == len(members) * (len(members) - 1) // 2:
            pairs = [
                (chunk, min(scores[pair] for pair in combinations(chunk, 2))) for chunk in _chunks(members)
            ]
        suggestions += [
            Suggestion(positions, f"{SIMILAR_HEADLINE} ({score}%)", score) for positions, score in pairs
        ]
    return suggestions


class _Groups:
    """Union-find over positions: which entries one signal or another has linked."""

    def __init__(self, positions: Iterable[int]):
        self.parent = {position: position for position in positions}

    def root(self, position: int) -> int:
        parent = self.parent
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    def join(self, first: int, second: int) -> bool:
        """Put `second`'s group into `first`'s; False when they were one group already."""
        one, other = self.root(first), self.root(second)
        if one == other:
            return False
        self.parent[other] = one
        return True

    def members(self) -> list[tuple[int, ...]]:
        """Each group's positions, sorted, in the order of their first position."""
        groups: dict[int, list[int]] = {}
        for position in sorted(self.parent):
            groups.setdefault(self.root(position), []).append(position)
        return [tuple(members) for members in groups.values()]


def _chunks(members: tuple[int, ...]) -> list[tuple[int, ...]]:
    """A group cut into groups of at most MAX_GROUP_SIZE entries (a last one alone is left out)."""
    chunks = [members[start : start + MAX_GROUP_SIZE] for start in range(0, len(members), MAX_GROUP_SIZE)]
    return [chunk for chunk in chunks if len(chunk) > 1]


def _bounded(exact: list[Suggestion], similar: list[Suggestion]) -> list[Suggestion]:
    """At most MAX_GROUPS suggestions, the exact signals' first, each kind in list order; in list order."""
    kept = sorted(exact, key=_by_positions)[:MAX_GROUPS]
    kept += sorted(similar, key=_by_positions)[: MAX_GROUPS - len(kept)]
    return sorted(kept, key=_by_positions)


def _by_positions(suggestion: Suggestion) -> tuple[int, ...]:
    return suggestion.positions


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
