"""Same story, or only covered together: the judgement on two queue articles the story index links.

The index links two articles when a key of theirs is equal (story_index.py). A link between their
own URLs or headlines is the same article twice: a possible duplicate. A link through a related
list (one article is an entry of the other's list) says only that the outlet put both under one
*topic*; it counts as a possible duplicate only with a second signal that they report one *event*:

- "similar headline (NN%)": the headlines are one article's lightly reworded (headlines.py), or
- published within STORY_WINDOW of each other, and either
  - "shared names (…)": capitalised words (people, places, organisations) in both headlines, in
    both excerpts, or in one's headline and the other's excerpt, but for the list's topic: words in
    TOPIC_SHARE of the list's headlines. A name matches its truncation ("Met" and "Metropolitan",
    "Geoff" and "Geoffrey"); days and months are not names. Or
  - "NN% headline words": at least MIN_WORD_OVERLAP of their content words (stems) are shared.

Anything else linked through a related list is "covered together". The constants were tuned on
the labelled pairs of tests/data/story_pairs.tsv (`python -m bench.story_pairs`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import product

from .headlines import GENERIC_WORDS, STOPWORDS, headline_profile, headline_similarity

DUPLICATE, COVERED = "duplicate", "covered"
KINDS = (DUPLICATE, COVERED)
RELATED_ENTRY = "related entry of it"
STORY_WINDOW = timedelta(hours=168)
MIN_WORD_OVERLAP = 0.30  # shared content words over all of both headlines'
TOPIC_SHARE = 0.8  # a name in this share of a related list's entries is the list's topic
MIN_TOPIC_ENTRIES = 3  # a shorter list says nothing about its topic
MAX_REASON = 200  # characters of a match's reason, as stored

_TOKEN = re.compile(r"[^\W_](?:[\w.'\u2019-]*[^\W_])?")
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_SENTENCE_END = re.compile(r"[:|.?!;\u2013\u2014\"\u201c\u2018]\s*$|\s[-\u2013\u2014]\s*$")
_DATE_WORDS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december".split()
)
_NOT_NAMES = STOPWORDS | GENERIC_WORDS | _DATE_WORDS
MIN_TRUNCATION = 3  # letters of a name's truncated form ("Met" for "Metropolitan")


@dataclass(frozen=True, slots=True)
class StoryFields:
    """What the judgement reads of an article: its headline, when it was published, its excerpt."""

    title: str
    published_at: datetime | None
    excerpt: str | None = None


@dataclass(frozen=True, slots=True)
class Signals:
    """Every signal measured for one pair linked through a related list."""

    near_headline: int | None  # headlines.headline_similarity, or None
    shared_names: tuple[str, ...]  # in both headlines, sorted, the list's topic left out
    excerpt_names: tuple[str, ...]  # in both excerpts, the same way
    word_overlap: float  # 0-1
    hours_apart: float | None  # None when either date is unknown
    cross_names: tuple[str, ...] = ()  # in one's headline and the other's excerpt, the same way

    def within(self, window: timedelta) -> bool:
        return self.hours_apart is not None and self.hours_apart <= window.total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # DUPLICATE or COVERED
    reason: str  # the link, then the signals that decided it


def headline_names(title: str) -> tuple[bool, dict[str, tuple[str, ...]]]:
    """Whether the headline is in sentence case, and if so its names: each capitalised word (case-folded,
    without a possessive), but for stopwords and a sentence's lone first word, with the run of
    capitalised words it is part of ("Met Police roll out … London's" -> met and police in
    (met, police), london in (london,)). A Title Case headline has no names: its capitals say nothing."""
    text = unicodedata.normalize("NFKC", title)
    tokens = [(match.group(0), _starts_sentence(text[: match.start()])) for match in _TOKEN.finditer(text)]
    later = [token[0].islower() for token, first in tokens if not first and len(token) >= 4]
    if not later or sum(later) < 0.2 * len(later):
        return False, {}
    names: dict[str, tuple[str, ...]] = {}
    run: list[str] = []
    for index, (token, first) in enumerate(tokens + [("", True)]):
        if first:
            names.update(dict.fromkeys(run, tuple(run)))
            run = []
        following = (
            index + 1 < len(tokens) and tokens[index + 1][0][:1].isupper() and not tokens[index + 1][1]
        )
        if token[:1].isupper() and (not first or following):
            name = _folded(token)
            if name not in _NOT_NAMES and len(name) >= 2:
                run.append(name)
                continue
        names.update(dict.fromkeys(run, tuple(run)))
        run = []
    return True, names


def shared_names(title_a: str, title_b: str) -> frozenset[str]:
    """The names of one headline that the other has: as names in both, one maybe the other's
    truncation (but for parts of two different runs, as "police" in "Met Police" and "Essex
    Police"), or as words of the other in Title Case. Each is given in its longer form."""
    cased_a, names_a = headline_names(title_a)
    cased_b, names_b = headline_names(title_b)
    if cased_a and cased_b:
        return frozenset(
            max(name, other, key=len)
            for name, other in product(names_a, names_b)
            if same_name(name, other) and _runs_agree(names_a[name], names_b[other])
        )
    if cased_a or cased_b:
        names, other = (names_a, title_b) if cased_a else (names_b, title_a)
        return frozenset(names.keys() & _folded_words(other))
    return frozenset()


def same_name(name: str, other: str) -> bool:
    """The same name, or one its truncation ("met" and "metropolitan", "mass" and "massachusetts")."""
    shorter, longer = sorted((name, other), key=len)
    if shorter == longer:
        return True
    return (
        len(shorter) >= MIN_TRUNCATION
        and shorter.isalpha()
        and longer.isalpha()
        and longer.startswith(shorter)
    )


def topic_words(entry_titles: Sequence[str], share: float = TOPIC_SHARE) -> frozenset[str]:
    """The related list's topic: words (case-folded) and content stems in `share` or more of its entries."""
    if len(entry_titles) < MIN_TOPIC_ENTRIES:
        return frozenset()
    counts: Counter[str] = Counter()
    for title in entry_titles:
        counts.update(_folded_words(title) | _content(title))
    return frozenset(word for word, count in counts.items() if count >= share * len(entry_titles))


def word_overlap(title_a: str, title_b: str, topic: frozenset[str] = frozenset()) -> float:
    """Shared content words (stems; one the start of the other counts, "shoplift" and "shoplifter")
    over all the content words of both headlines, the list's topic left out; 0-1."""
    first, second = _content(title_a) - topic, _content(title_b) - topic
    if not first or not second:
        return 0.0
    shared = sum(any(_same_stem(word, other) for other in second) for word in first)
    return shared / (len(first) + len(second) - shared)


def measure(
    entry: StoryFields,
    covering: StoryFields,
    entry_titles: Sequence[str] = (),
    topic_share: float = TOPIC_SHARE,
) -> Signals:
    """The signals for `entry`, linked to `covering` as one of its related list's `entry_titles`."""
    topic = topic_words(entry_titles, topic_share)
    shared = _off_topic(shared_names(entry.title, covering.title), topic)
    in_excerpts = _off_topic(shared_names(entry.excerpt or "", covering.excerpt or ""), topic)
    crossed = _off_topic(
        shared_names(entry.title, covering.excerpt or "") | shared_names(entry.excerpt or "", covering.title),
        topic,
    )
    hours = None
    if entry.published_at is not None and covering.published_at is not None:
        hours = abs((entry.published_at - covering.published_at).total_seconds()) / 3600
    return Signals(
        near_headline=headline_similarity(entry.title, covering.title),
        shared_names=tuple(sorted(shared)),
        excerpt_names=tuple(sorted(in_excerpts)),
        word_overlap=word_overlap(entry.title, covering.title),
        hours_apart=hours,
        cross_names=tuple(sorted(crossed)),
    )


def judge(
    signals: Signals, window: timedelta = STORY_WINDOW, min_overlap: float = MIN_WORD_OVERLAP
) -> Verdict:
    """A possible duplicate, or only covered together, with the signals that say so."""
    found = []
    if signals.near_headline is not None:
        found.append(f"similar headline ({signals.near_headline}%)")
    if signals.within(window):
        names = sorted({*signals.shared_names, *signals.excerpt_names, *signals.cross_names})
        if names:
            found.append(f"shared names ({', '.join(names)})")
        if signals.word_overlap >= min_overlap:
            found.append(f"{round(signals.word_overlap * 100)}% headline words")
        if found:
            found.append(f"published {_apart(signals.hours_apart)} apart")
    if not found:
        return Verdict(COVERED, RELATED_ENTRY)
    return Verdict(DUPLICATE, _bounded(f"{RELATED_ENTRY}, {', '.join(found)}"))


def judge_related(entry: StoryFields, covering: StoryFields, entry_titles: Sequence[str] = ()) -> Verdict:
    """`judge(measure(…))`: the verdict on an article found in another's related list."""
    return judge(measure(entry, covering, entry_titles))


def _apart(hours: float | None) -> str:
    return f"{round(hours)} h" if hours is not None and hours < 48 else f"{round((hours or 0) / 24)} days"


def _runs_agree(run: Sequence[str], other: Sequence[str]) -> bool:
    """Each name of the shorter run is one of the longer's: "Met Police" and "Metropolitan Police"
    agree, "Met Police" and "Essex Police" do not."""
    shorter, longer = sorted((run, other), key=len)
    return all(any(same_name(name, word) for word in longer) for name in shorter)


def _off_topic(names: frozenset[str], topic: frozenset[str]) -> frozenset[str]:
    return frozenset(name for name in names if not any(same_name(name, word) for word in topic))


def _folded(token: str) -> str:
    return _POSSESSIVE.sub("", token).casefold().strip(".-")


def _folded_words(title: str) -> frozenset[str]:
    return frozenset(_folded(token) for token in _TOKEN.findall(unicodedata.normalize("NFKC", title)))


def _content(title: str) -> frozenset[str]:
    profile = headline_profile(title)
    return profile.content if profile else frozenset()


def _same_stem(word: str, other: str) -> bool:
    shorter, longer = sorted((word, other), key=len)
    return shorter == longer or (len(shorter) >= 5 and longer.startswith(shorter))


def _starts_sentence(before: str) -> bool:
    return not before.strip() or bool(_SENTENCE_END.search(before))


def _bounded(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
