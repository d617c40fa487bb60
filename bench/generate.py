"""Deterministic generator of synthetic seed files with planted duplicates.

    python -m bench.generate --n 20000 --seed 1 --out /tmp/seeds [--stats]

Writes N seeds shaped like the real seed ``seeds/000_153b8be9e8e41660.txt`` (same
keys, key order, quoting and blank lines; see SEED-FORMAT.md), of about its size on
average, plus ``DIR/_truth.json``.  The same ``--n``/``--seed`` always give
byte-identical files: all randomness comes from one ``random.Random(seed)``.  Stories,
outlets and URLs are invented; nothing is copied from real seeds.

Seed files are ``NNN_<16 hex>.txt`` or ``YYYY-MM-DD-<slug>.md``.  A few carry unknown
keys (``sourceFeed``, ``lang``, a nested ``ingest`` mapping) or a Markdown body.

Truth file schema (stems are file names without extension; positions are 0-based
indexes into that seed's ``related`` list)::

    {
      "corpus": {"n": int, "seed": int, "total_bytes": int},
      "duplicates": [
        {"kind": <in-seed kind>, "file": stem, "related_positions": [i, j]},
        {"kind": "cross_url_variant", "files": [stem_a, stem_b], "variant": <URL kind>},
        {"kind": "cross_syndication", "files": [stem_a, stem_b]},
        {"kind": "cross_related", "files": [stem_a, stem_b], "related_position": i}
      ],
      "near_misses": [
        {"kind": "same_event" | "same_outlet_follow_up", "file": stem, "related_positions": [i, j]},
        {"kind": "cross_same_event", "files": [stem_a, stem_b]}
      ]
    }

In-seed kinds: ``syndication`` (same title, another outlet and URL), ``reworded_title``
(same outlet, headline lightly changed) and the URL kinds ``tracking_params``,
``scheme`` (http/https), ``host_prefix`` (www./m.), ``trailing_slash``, ``amp_path``
and ``amp_cache`` (same title and outlet, another address of the page).  Across
seeds: ``cross_url_variant`` (stem_b is stem_a's article at another address),
``cross_syndication`` (same title, other outlet) and ``cross_related`` (stem_b is
stem_a's related entry i).  Near misses are different articles on the same event:
a duplicate detector must keep them apart.  Each seed is in at most one cross group.

Later benchmarks and demos import the pieces: ``generate_seed(rng, index, ...)`` builds
one ``Seed`` (its article as the dict YAML would load), ``render_seed(article, body)``
lays it out, ``write_corpus(n, seed, out_dir)`` writes a corpus and returns the truth,
``main(argv)`` is the command line.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .vocabulary import (
    ACTIONS,
    AMP_STYLES,
    CATEGORIES,
    COMPANY_ENDS,
    COMPANY_KINDS,
    COMPANY_STARTS,
    CRITICS,
    EMOJI,
    EXCERPT_SENTENCES,
    FOREIGN_HEADLINES,
    HEADLINES,
    IMAGE_HOSTS,
    IMAGE_NAMES,
    IMAGE_SIZES,
    INGEST_FLAGS,
    LANGUAGES,
    MARKDOWN_BODY,
    MONTHS,
    OUTLET_PREFIXES,
    OUTLET_SUFFIXES,
    PATH_STYLES,
    PLACES,
    PUNCTUATION_SWAPS,
    RARE_SENTENCES,
    REWORDINGS,
    RISKS,
    SECURED_BYTES,
    TLDS,
    TOPICS,
    TRACKING_QUERIES,
    WEEKDAYS,
    WHENS,
)

URL_KINDS = ("tracking_params", "scheme", "host_prefix", "trailing_slash", "amp_path", "amp_cache")
# Share of seeds given each planted group.  Real feeds repeat a story in roughly one
# related list in ten and across seeds a little less often.
IN_SEED_KINDS = {"syndication": 0.08, "reworded_title": 0.04} | dict.fromkeys(URL_KINDS, 0.03)
NEAR_MISS_KINDS = {"same_event": 0.06, "same_outlet_follow_up": 0.03}
CROSS_KINDS = {"cross_url_variant": 0.02, "cross_syndication": 0.02, "cross_related": 0.02}
CROSS_NEAR_MISS_KINDS = {"cross_same_event": 0.02}
MAX_PLANTS_PER_SEED = 4
MAX_RELATED = 12
START = datetime(2023, 8, 1, tzinfo=UTC)
SPREAD_MINUTES = 90 * 24 * 60
TRUTH_FILE = "_truth.json"
KEY_ORDER = (
    "category",
    "title",
    "excerpt",
    "publishedDateTime",
    "originalUrl",
    "webUrl",
    "ampWebUrl",
    "cdnAmpWebUrl",
    "type",
    "quality",
    "heat",
    "published",
    "provider",
    "topics",
    "images",
    "related",
    "secured",
)
QUOTED_KEYS = {
    "title",
    "excerpt",
    "originalUrl",
    "webUrl",
    "ampWebUrl",
    "cdnAmpWebUrl",
    "url",
    "secured",
    "sourceFeed",
}
PLAIN_SCALAR = re.compile(r"[A-Za-z]([A-Za-z0-9 .&'/-]*[A-Za-z0-9.])?")
YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
NEEDS_ESCAPE = re.compile('[\\\\"\x00-\x1f\x7f\x85\u2028\u2029\ufeff]')


def slugify(text: str) -> str:
    text = re.sub(r"['’]", "", unicodedata.normalize("NFKD", text).lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:90].rsplit("-", 1)[0] if len(slug) > 90 else slug


@dataclass(frozen=True)
class Outlet:
    name: str
    domain: str
    host: str
    path_style: str
    amp_style: str
    has_logo: bool

    def provider(self, logo: bool = False) -> dict:
        provider = {"name": self.name, "domain": self.domain}
        if logo and self.has_logo:
            url = f"/assets/images/organizations/{self.domain}-50x50.jpg"
            provider["images"] = [{"url": url, "width": 50, "height": 50}]
        return provider


def _build_outlets() -> list[Outlet]:
    rng = random.Random(2023)  # fixed: every corpus shares one outlet list
    outlets = []
    for prefix in OUTLET_PREFIXES:
        for suffix in OUTLET_SUFFIXES:
            joiner = "-" if rng.random() < 0.15 else ""
            domain = f"{prefix}{joiner}{suffix}".lower() + rng.choice(TLDS)
            host = "www." + domain if rng.random() < 0.6 else domain
            outlets.append(
                Outlet(
                    f"{prefix} {suffix}",
                    domain,
                    host,
                    rng.choice(PATH_STYLES),
                    rng.choice(AMP_STYLES),
                    rng.random() < 0.18,
                )
            )
    return outlets


OUTLETS = _build_outlets()
OUTLETS_BY_DOMAIN = {outlet.domain: outlet for outlet in OUTLETS}


@dataclass
class Story:
    """One event; every article on it takes a headline template not used yet."""

    actor: str
    action: tuple[str, str, str]
    place: str
    topic: str
    headlines: list[str]
    foreign_headlines: list[str]

    @property
    def section(self) -> str:
        return TOPICS[self.topic][0]

    def fields(self, rng: random.Random) -> dict:
        act, acts, noun = self.action
        possessive = self.actor + ("’" if self.actor.endswith("s") else "’s")
        return {
            "actor": self.actor,
            "actor_s": possessive,
            "act": act,
            "acts": acts,
            "noun": noun,
            "place": self.place,
            "month": rng.choice(MONTHS),
            "n": rng.randint(3, 9),
        }

    def next_title(self, rng: random.Random) -> str:
        if self.foreign_headlines and rng.random() < 0.03:
            template = self.foreign_headlines.pop()
        else:
            template = self.headlines.pop()
        title = template.format(**self.fields(rng))
        title = title[0].upper() + title[1:]
        return f"{rng.choice(EMOJI)} {title}" if rng.random() < 0.02 else title

    def excerpt(self, rng: random.Random) -> str:
        values = self.fields(rng) | {
            "weekday": rng.choice(WEEKDAYS),
            "when": rng.choice(WHENS),
            "critic": rng.choice(CRITICS),
            "risk": rng.choice(RISKS),
            "weeks": rng.randint(4, 16),
            "actor_tag": self.actor.replace(" ", ""),
            "money": f"{rng.choice('$£€')}{rng.randint(2, 900)}m",
            "count": f"{rng.randint(1, 90)},{rng.randrange(1000):03d}",
        }
        sentences = rng.sample(EXCERPT_SENTENCES, 4)
        if rng.random() < 0.005:
            sentences.insert(1, rng.choice(RARE_SENTENCES))
        text = " ".join(sentences).format(**values)
        limit = int(rng.triangular(110, 350, 190))
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(",;:—") + ("" if rng.random() < 0.3 else " ...")

    def topics(self, rng: random.Random) -> list[str]:
        if rng.random() < 0.02:
            return []
        others = rng.sample([t for t in TOPICS if t != self.topic], rng.choice([0, 1, 1, 2]))
        return rng.sample([self.topic] + others, len(others) + 1)

    def markdown_body(self, rng: random.Random, outlet: Outlet) -> str:
        return MARKDOWN_BODY.format(**self.fields(rng), domain=outlet.domain)


def new_story(rng: random.Random, topic: str | None = None, taken: set | None = None) -> Story:
    """A story whose (actor, action) and (actor, place) no earlier story in `taken` had."""
    taken = set() if taken is None else taken
    topic = topic or rng.choice(list(TOPICS))
    while True:
        actor = rng.choice(COMPANY_STARTS) + rng.choice(COMPANY_ENDS) + rng.choice(COMPANY_KINDS)
        thing = rng.choice(TOPICS[topic][1])
        action = tuple(form.format(thing) for form in rng.choice(ACTIONS))
        place = rng.choice(PLACES)
        keys = {("action", actor, action[0]), ("place", actor, place)}
        if not keys & taken:
            break
    taken |= keys
    return Story(
        actor, action, place, topic, rng.sample(HEADLINES, len(HEADLINES)), rng.sample(FOREIGN_HEADLINES, 2)
    )


def reword(rng: random.Random, title: str) -> str:
    """The same headline with one word or one punctuation mark changed."""
    options = [(re.compile(rf"\b{re.escape(old)}\b"), new) for old, new in REWORDINGS.items()]
    options = [(pattern, new) for pattern, new in options if pattern.search(title)]
    punctuation = [(old, new) for old, new in PUNCTUATION_SWAPS if old in title]
    if punctuation and (not options or rng.random() < 0.3):
        old, new = rng.choice(punctuation)
        return title.replace(old, new, 1)
    if options:
        pattern, new = rng.choice(options)
        return pattern.sub(new, title, count=1)
    return title + " (updated)"


@dataclass
class Seed:
    """One generated seed: file stem, front-matter mapping, body and planted groups."""

    stem: str
    suffix: str  # ".txt" or ".md"
    article: dict
    body: str = ""
    story: Story | None = None
    groups: list[dict] = field(default_factory=list)  # planted in-seed groups
    spare: tuple[int, dict] | None = None  # an unplanted related entry, for cross_related

    @property
    def filename(self) -> str:
        return self.stem + self.suffix


# ------------------------------------------------------------------ rendering


def render_seed(article: dict, body: str = "") -> str:
    """The file text: front matter laid out like the real seed, then the body."""
    lines = ["---"]
    previous_was_block = False
    for index, (key, value) in enumerate(article.items()):
        is_block = isinstance(value, (dict, list))
        if index and (is_block or previous_was_block):
            lines.append("")
        lines += _render_item(key, value, 0)
        previous_was_block = is_block
    return "\n".join(lines + ["---", ""]) + "\n" + body


def _render_item(key: str, value, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        return [f"{pad}{key}:"] + _render_mapping(value, indent + 2)
    if isinstance(value, list) and value:
        return [f"{pad}{key}:"] + _render_list(value, indent + 2)
    return [f"{pad}{key}: {_render_scalar(key, value)}"]


def _render_mapping(mapping: dict, indent: int) -> list[str]:
    return [line for key, value in mapping.items() for line in _render_item(key, value, indent)]


def _render_list(items: list, indent: int) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, dict):
            entry = _render_mapping(item, indent + 2)
            lines += [" " * indent + "- " + entry[0].lstrip()] + entry[1:]
        else:
            lines.append(" " * indent + "- " + _render_scalar(None, item))
    return lines


def _render_scalar(key: str | None, value) -> str:
    if value == []:
        return "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if key in QUOTED_KEYS or not PLAIN_SCALAR.fullmatch(value) or value.lower() in YAML_WORDS:
        return yaml_double_quoted(value)
    return value


def yaml_double_quoted(text: str) -> str:
    """YAML double-quoted style; printable non-ASCII stays as real characters."""

    def escape(match: re.Match) -> str:
        char = match.group()
        return "\\" + char if char in '\\"' else f"\\u{ord(char):04x}"

    return '"' + NEEDS_ESCAPE.sub(escape, text) + '"'


# ------------------------------------------------------------------ URLs


def url_variant(rng: random.Random, url: str, kind: str) -> str:
    """Another address of the same page, of one of the URL_KINDS."""
    scheme, host, path, query, fragment = urlsplit(url)
    if kind == "amp_path":
        return amp_url(url, rng.choice(["segment", "suffix", "html", "trailing"]))
    if kind == "amp_cache":
        return amp_cache_url(url)
    if kind == "tracking_params":
        tracking = rng.choice(TRACKING_QUERIES).format(hex=f"{rng.getrandbits(64):016x}")
        query = "&".join(filter(None, [query, tracking]))
    elif kind == "scheme":
        scheme = "http" if scheme == "https" else "https"
    elif kind == "host_prefix":
        bare = host.removeprefix("www.").removeprefix("m.")
        host = rng.choice([h for h in (bare, "www." + bare, "m." + bare) if h != host])
    elif kind == "trailing_slash":
        path = path[:-1] if path.endswith("/") else path + "/"
    return urlunsplit((scheme, host, path, query, fragment))


def amp_url(url: str, style: str) -> str:
    """The AMP copy of a page, the way outlets of the given style address it."""
    scheme, host, path, query, fragment = urlsplit(url)
    if style in ("query", "output"):
        extra = "amp=1" if style == "query" else "outputType=amp"
        query = "&".join(filter(None, [query, extra]))
    elif style == "segment":
        path = "/amp" + path
    elif style == "html" or path.endswith(".html"):
        path = path.removesuffix(".html").rstrip("/") + ".amp.html"
    elif style == "trailing":
        path = path.rstrip("/") + "/amp/"
    else:
        path = path.rstrip("/") + ".amp"
    return urlunsplit((scheme, host, path, query, fragment))


def amp_cache_url(url: str) -> str:
    scheme, host, path, query, _ = urlsplit(url)
    cache_host = host.replace("-", "--").replace(".", "-") + ".cdn.ampproject.org"
    secure = "s/" if scheme == "https" else ""
    return f"https://{cache_host}/c/{secure}{host}{path}" + (f"?{query}" if query else "")


def article_url(outlet: Outlet, story: Story, title: str, article_id: int, when: datetime) -> str:
    slug = slugify(title)
    if any(char.isalpha() and ord(char) > 0x24F for char in title):
        slug = f"{slug}-{article_id}".lstrip("-")  # a non-Latin headline leaves too little slug
    path = outlet.path_style.format(
        slug=slug,
        id=article_id,
        section=story.section,
        yyyy=when.year,
        mm=f"{when.month:02d}",
        dd=f"{when.day:02d}",
    )
    return f"https://{outlet.host}{path}"


# ------------------------------------------------------------------ articles


def make_entry(
    rng: random.Random, story: Story, outlet: Outlet, when: datetime, title: str | None = None
) -> dict:
    """One related entry, in the real seed's key order."""
    title = title or story.next_title(rng)
    entry = {
        "title": title,
        "excerpt": story.excerpt(rng),
        "publishedDateTime": when,
        "webUrl": article_url(outlet, story, title, rng.randrange(10**5, 10**9), when),
    }
    if rng.random() < 0.35:
        entry["ampWebUrl"] = amp_url(entry["webUrl"], outlet.amp_style)
        entry["cdnAmpWebUrl"] = amp_cache_url(entry["ampWebUrl"])
    entry |= {
        "type": "video" if rng.random() < 0.03 else "article",
        "provider": outlet.provider(),
        "quality": quality(rng),
    }
    if rng.random() < 0.7:
        entry["images"] = [make_image(rng, outlet, cached=rng.random() < 0.96)]
    return entry


def make_image(rng: random.Random, outlet: Outlet, cached: bool = True, title: str = "") -> dict:
    width, height = rng.choice(IMAGE_SIZES)
    url = (
        f"https://{rng.choice(IMAGE_HOSTS)}.{outlet.domain}/media/"
        f"{rng.getrandbits(96):024x}/{rng.choice(IMAGE_NAMES)}"
    )
    image = {"url": url, "width": width, "height": height}
    if title:
        return image | {"title": title}
    return image | ({"isCached": True} if cached else {})


def quality(rng: random.Random) -> int:
    return min(161, int(rng.gammavariate(1.5, 26)))


def secured(rng: random.Random) -> str:
    payload = base64.b64encode(rng.randbytes(rng.choice(SECURED_BYTES))).decode()
    return payload + ";" + base64.b64encode(rng.randbytes(16)).decode()


def shifted(rng: random.Random, when: datetime, hours_before: int, hours_after: int) -> datetime:
    return when + timedelta(minutes=rng.randrange(-hours_before * 60, hours_after * 60 + 1))


def top_level_article(
    rng: random.Random, story: Story, outlet: Outlet, when: datetime, related: list[dict], override: dict
) -> dict:
    """The seed's own article; `override` replaces generated fields (cross-seed plants)."""
    entry = make_entry(rng, story, outlet, when, override.get("title"))
    values = {key: value for key, value in entry.items() if key not in ("provider", "quality", "images")}
    values |= {
        "category": rng.choice(CATEGORIES),
        "provider": outlet.provider(logo=True),
        "topics": story.topics(rng),
        "secured": secured(rng),
    }
    if rng.random() < 0.86:
        values |= {
            "quality": quality(rng),
            "published": False,
            "heat": -1 if rng.random() < 0.8 else rng.randint(31, 199),
        }
    if rng.random() < 0.74:
        title = values["title"] if rng.random() < 0.5 else ""
        values["images"] = [make_image(rng, outlet, title=title)]
    if related:
        values["related"] = related
    if "webUrl" in override:
        for key in ("ampWebUrl", "cdnAmpWebUrl", "images"):
            values.pop(key, None)
    values |= override
    if rng.random() < 0.5:
        values["originalUrl"] = values["webUrl"]
    return {key: values[key] for key in KEY_ORDER if key in values}


def add_extras(rng: random.Random, article: dict, story: Story, outlet: Outlet) -> tuple[dict, str]:
    """Unknown keys at random places and, rarely, a Markdown body."""
    extras = {}
    if rng.random() < 0.05:
        extras["sourceFeed"] = f"https://feeds.{outlet.domain}/rss/{story.section}.xml"
    if rng.random() < 0.05:
        extras["lang"] = rng.choice(LANGUAGES)
    if rng.random() < 0.03:
        extras["ingest"] = {
            "pipeline": "wire-v2",
            "attempt": rng.randint(1, 3),
            "flags": rng.sample(INGEST_FLAGS, 2),
        }
    items = list(article.items())
    for item in extras.items():
        items.insert(rng.randint(1, len(items)), item)
    body = story.markdown_body(rng, outlet) if rng.random() < 0.03 else ""
    return dict(items), body


# ------------------------------------------------------------------ related lists


def related_count(rng: random.Random) -> int:
    return 0 if rng.random() < 0.1 else rng.randint(1, MAX_RELATED)


def story_with_room(rng: random.Random, stories: list[Story], taken: set, need: int = 1) -> Story:
    """Mostly the seed's own story (stories[0]), else a sibling story on its topic."""
    draw = rng.random()
    if draw < 0.6 and len(stories[0].headlines) >= need:
        return stories[0]
    siblings = [story for story in stories[1:] if len(story.headlines) >= need]
    if siblings and draw < 0.9:
        return rng.choice(siblings)
    stories.append(new_story(rng, stories[0].topic, taken))
    return stories[-1]


def pick_outlet(rng: random.Random, taken_outlets: set) -> Outlet:
    """An outlet not yet in this seed, so unplanted entries never share an outlet."""
    while (outlet := rng.choice(OUTLETS)).domain in taken_outlets:
        pass
    taken_outlets.add(outlet.domain)
    return outlet


def planted_pair(
    rng: random.Random, kind: str, stories: list[Story], seed_time: datetime, taken_outlets: set, taken: set
) -> list[dict]:
    story = stories[0] if len(stories[0].headlines) >= 2 else story_with_room(rng, stories, taken, 2)
    outlet = pick_outlet(rng, taken_outlets)
    base = make_entry(rng, story, outlet, shifted(rng, seed_time, 96, 12))
    when = shifted(rng, base["publishedDateTime"], 0, 20)
    if kind == "syndication":
        return [base, make_entry(rng, story, pick_outlet(rng, taken_outlets), when, base["title"])]
    if kind == "same_event":
        return [base, make_entry(rng, story, pick_outlet(rng, taken_outlets), when)]
    if kind == "same_outlet_follow_up":
        return [base, make_entry(rng, story, outlet, when + timedelta(hours=6))]
    duplicate = copy.deepcopy(base)
    if kind == "reworded_title":
        duplicate["title"] = reword(rng, base["title"])
        duplicate["webUrl"] = base["webUrl"].replace(slugify(base["title"]), slugify(duplicate["title"]))
        for key in ("ampWebUrl", "cdnAmpWebUrl"):  # they would still carry the old slug
            duplicate.pop(key, None)
    else:
        duplicate["webUrl"] = url_variant(rng, base["webUrl"], kind)
    duplicate["publishedDateTime"] = shifted(rng, base["publishedDateTime"], 0, 3)
    return [base, duplicate]


def build_related(
    rng: random.Random,
    stories: list[Story],
    seed_outlet: Outlet,
    seed_time: datetime,
    plants: list[str],
    taken: set,
) -> tuple[list[dict], list[dict]]:
    """A shuffled related list holding one pair per planted kind; returns (entries, groups)."""
    count = min(MAX_RELATED, max(related_count(rng), 2 * len(plants)))
    taken_outlets = {seed_outlet.domain}
    entries = [
        entry
        for kind in plants
        for entry in planted_pair(rng, kind, stories, seed_time, taken_outlets, taken)
    ]
    while len(entries) < count:
        story = story_with_room(rng, stories, taken)
        when = shifted(rng, seed_time, 96, 12)
        entries.append(make_entry(rng, story, pick_outlet(rng, taken_outlets), when))
    order = rng.sample(range(len(entries)), len(entries))
    position = {old: new for new, old in enumerate(order)}
    groups = [
        {"kind": kind, "related_positions": sorted([position[2 * i], position[2 * i + 1]])}
        for i, kind in enumerate(plants)
    ]
    return [entries[old] for old in order], groups


# ------------------------------------------------------------------ seeds


def seed_stem(rng: random.Random, index: int, title: str, when: datetime) -> tuple[str, str]:
    if rng.random() < 0.3:
        return f"{when:%Y-%m-%d}-{slugify(title) or 'story'}", ".md"
    return f"{index:03d}_{rng.getrandbits(64):016x}", ".txt"


def generate_seed(
    rng: random.Random,
    index: int,
    plants: Sequence[str] = (),
    story: Story | None = None,
    override: dict | None = None,
    taken: set | None = None,
) -> Seed:
    """One seed.  plants: in-seed and near-miss kinds for its related list; story and
    override: a story and top-level fields to reuse (cross-seed plants); taken: story
    keys already used in the corpus, so unplanted seeds never share a headline."""
    taken = set() if taken is None else taken
    override = dict(override or {})
    stories = [story or new_story(rng, taken=taken)]
    outlet = OUTLETS_BY_DOMAIN.get(override.get("provider", {}).get("domain")) or rng.choice(OUTLETS)
    when = override.get("publishedDateTime") or START + timedelta(minutes=rng.randrange(SPREAD_MINUTES))
    if "title" not in override:
        override["title"] = stories[0].next_title(rng)
    related, groups = build_related(rng, stories, outlet, when, list(plants), taken)
    article = top_level_article(rng, stories[0], outlet, when, related, override)
    article, body = add_extras(rng, article, stories[0], outlet)
    stem, suffix = seed_stem(rng, index, article["title"], when)
    return Seed(stem, suffix, article, body, stories[0], groups)


def cross_seed_fields(rng: random.Random, kind: str, source: Seed) -> tuple[dict, dict] | None:
    """(override, extra truth) for a seed planted as `kind` against `source`, or None."""
    article = source.article
    when = shifted(rng, article["publishedDateTime"], 0, 24)
    if kind == "cross_url_variant":
        variant = rng.choice(URL_KINDS)
        copied = {key: article[key] for key in ("title", "excerpt", "provider", "images") if key in article}
        return copied | {"webUrl": url_variant(rng, article["webUrl"], variant), "publishedDateTime": when}, {
            "variant": variant
        }
    if kind == "cross_syndication":
        other = pick_outlet(rng, {article["provider"]["domain"]})
        return {
            "title": article["title"],
            "provider": other.provider(logo=True),
            "publishedDateTime": when,
        }, {}
    if kind == "cross_related":
        if source.spare is None:
            return None
        position, entry = source.spare
        copied = {key: value for key, value in entry.items() if key != "quality"}
        return copied, {"related_position": position}
    return {"publishedDateTime": when}, {}  # cross_same_event: same story, own headline and outlet


# ------------------------------------------------------------------ corpus


def plan_corpus(rng: random.Random, n: int) -> list[list[str]]:
    """The planted kinds of each seed: round(share * n) seeds get each kind."""
    plan = [[] for _ in range(n)]
    for kind, share in (IN_SEED_KINDS | NEAR_MISS_KINDS).items():
        eligible = [i for i in range(n) if len(plan[i]) < MAX_PLANTS_PER_SEED]
        for index in rng.sample(eligible, min(len(eligible), round(share * n))):
            plan[index].append(kind)
    copiers = rng.sample(range(1, n), max(n - 1, 0))  # seed 0 has no earlier seed to copy
    for kind, share in (CROSS_KINDS | CROSS_NEAR_MISS_KINDS).items():
        count = round(share * n)
        for index in copiers[:count]:
            plan[index].append(kind)
        copiers = copiers[count:]
    return plan


class CorpusBuilder:
    """Generates seeds in order, planting cross-seed groups on earlier seeds."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken: set = set()  # story keys
        self.stems: set[str] = set()
        self.seeds: list[Seed] = []  # trimmed to what later cross-seed plants copy
        self.in_cross_group: set[int] = set()
        self.duplicates: list[dict] = []
        self.near_misses: list[dict] = []

    def build(self, index: int, kinds: list[str]) -> Seed:
        cross_kind = next((kind for kind in kinds if kind.startswith("cross_")), None)
        plants = [kind for kind in kinds if not kind.startswith("cross_")]
        source_index, override, extra = self._pick_source(cross_kind) if cross_kind else (None, {}, {})
        source = None if source_index is None else self.seeds[source_index]
        seed = generate_seed(self.rng, index, plants, source and source.story, override, self.taken)
        seed.stem = self._unique_stem(seed.stem)
        for group in seed.groups:
            self._truth_list(group["kind"]).append(
                {"kind": group["kind"], "file": seed.stem, "related_positions": group["related_positions"]}
            )
        if source:
            group = {"kind": cross_kind, "files": [source.stem, seed.stem]} | extra
            self._truth_list(cross_kind).append(group)
            self.in_cross_group |= {source_index, index}
        self.seeds.append(self._trimmed(seed))
        return seed

    def _pick_source(self, kind: str) -> tuple[int | None, dict, dict]:
        """An earlier seed in no cross group yet, with the fields to copy from it."""
        for _ in range(50):
            index = self.rng.randrange(len(self.seeds))
            if index not in self.in_cross_group:
                found = cross_seed_fields(self.rng, kind, self.seeds[index])
                if found:
                    return index, *found
        return None, {}, {}

    def _unique_stem(self, stem: str) -> str:
        unique, number = stem, 1
        while unique in self.stems:
            number += 1
            unique = f"{stem}-{number}"
        self.stems.add(unique)
        return unique

    def _truth_list(self, kind: str) -> list[dict]:
        return self.duplicates if kind in IN_SEED_KINDS or kind in CROSS_KINDS else self.near_misses

    def _trimmed(self, seed: Seed) -> Seed:
        """Keeps one unplanted related entry instead of the whole list, to save memory."""
        related = seed.article.get("related", [])
        planted = {p for group in seed.groups for p in group["related_positions"]}
        free = [position for position in range(len(related)) if position not in planted]
        spare = (position := self.rng.choice(free), related[position]) if free else None
        article = {key: value for key, value in seed.article.items() if key != "related"}
        return Seed(seed.stem, seed.suffix, article, "", seed.story, [], spare)


def write_corpus(n: int, seed: int, out_dir: str | Path) -> dict:
    """Writes n seed files and the truth file into out_dir; returns the truth.

    Files already in out_dir are left alone, so give it an empty directory."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    builder = CorpusBuilder(rng)
    total_bytes = 0
    for index, kinds in enumerate(plan_corpus(rng, n)):
        built = builder.build(index, kinds)
        data = render_seed(built.article, built.body).encode("utf-8")
        (out / built.filename).write_bytes(data)
        total_bytes += len(data)
    truth = {
        "corpus": {"n": n, "seed": seed, "total_bytes": total_bytes},
        "duplicates": builder.duplicates,
        "near_misses": builder.near_misses,
    }
    (out / TRUTH_FILE).write_bytes((json.dumps(truth, indent=1, ensure_ascii=False) + "\n").encode())
    return truth


def format_stats(truth: dict) -> str:
    corpus = truth["corpus"]
    lines = [f"seeds: {corpus['n']}", f"mean size: {corpus['total_bytes'] / max(corpus['n'], 1):.0f} bytes"]
    for section in ("duplicates", "near_misses"):
        counts = Counter(group["kind"] for group in truth[section])
        lines.append(
            f"{section}: {sum(counts.values())} ("
            + ", ".join(f"{kind}={count}" for kind, count in sorted(counts.items()))
            + ")"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of seeds (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--stats", action="store_true", help="print size and duplicate counts")
    args = parser.parse_args(argv)
    truth = write_corpus(args.n, args.seed, args.out)
    print(summary_line(truth, args.out))
    if args.stats:
        print(format_stats(truth))
    return 0


def summary_line(truth: dict, out_dir: str | Path) -> str:
    """What was written, in one line: `wrote 200 seeds (1.3 MB, 41 duplicate groups) to /tmp/c`."""
    corpus = truth["corpus"]
    return (
        f"wrote {corpus['n']:,} seeds ({corpus['total_bytes'] / 1e6:.1f} MB, "
        f"{len(truth['duplicates'])} duplicate groups) and {TRUTH_FILE} to {out_dir}"
    )


if __name__ == "__main__":
    sys.exit(main())
