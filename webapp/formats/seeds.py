"""The seed format: parse a seed file's text into a `Seed`, or refuse it with a reason.

Pure functions, no database: the importer, the exporter and the tests all call these.
The format is described in the README (section "Seeds") and in SEED-FORMAT.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import yaml

# libyaml's parser is about ten times faster; PyYAML without it is still correct.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REQUIRED_FIELDS = ("category", "title", "publishedDateTime", "webUrl", "provider")
# Copydesk's own key in exported seeds (who approved, when, which export run). It is not
# seed data: an exported seed imported again gets the same article as the original.
MODERATION_KEY = "copydesk"
HEAT_UNSET = -1  # a seed's heat before anyone sets it; `heat_label` reads it as "not set"
INT_MAX = 2**31 - 1
# Category, topics and the provider's name and domain are indexed: PostgreSQL refuses an index
# entry over about 2,700 bytes, and none of these is ever more than a line of text.
NAME_MAX_CHARACTERS = 300

_FENCE = re.compile(r"---[ \t]*\r?(?:\n|\Z)")
_NODE_PROPERTY_INDICATOR = re.compile(r"[&*!]")
_TOKEN_BOUNDARY = frozenset(" \t\r\n[{,:")
_HTTP_URL = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
_JSON_TAGS = ("$datetime", "$date")


class SeedError(ValueError):
    """A seed refused, with where (a field path or a line) and why."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


@dataclass(slots=True)
class Provider:
    name: str
    domain: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RelatedEntry:
    title: str
    web_url: str
    excerpt: str | None = None
    published_at: datetime | None = None
    amp_web_url: str | None = None
    cdn_amp_web_url: str | None = None
    type: str | None = None
    quality: int | None = None
    provider: Provider | None = None
    images: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Seed:
    category: str
    title: str
    published_at: datetime
    web_url: str
    provider: Provider
    excerpt: str | None = None
    original_url: str | None = None
    amp_web_url: str | None = None
    cdn_amp_web_url: str | None = None
    type: str | None = None
    quality: int | None = None
    heat: int | None = None
    published: bool | None = None
    topics: list[str] | None = None
    related: list[RelatedEntry] | None = None
    images: list[dict[str, Any]] | None = None
    secured: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: list[str] = field(default_factory=list)
    body: str = ""


def parse_bytes(data: bytes, max_bytes: int | None = None) -> tuple[str, Seed]:
    """Decode a seed file's bytes and parse them; returns the text and the seed."""
    if max_bytes is not None:
        check_size(len(data), max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SeedError(
            f"line {line}", f"not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} is invalid"
        ) from None
    return text, parse(text)


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a file of `size` bytes when it is over `max_bytes`."""
    if size > max_bytes:
        raise SeedError("", f"file is {size:,} bytes, over the limit of {max_bytes:,} (SEED_MAX_BYTES)")


def parse(text: str) -> Seed:
    """Parse a seed's text (front matter and body) into a `Seed`."""
    nul = text.find("\x00")
    if nul >= 0:
        raise SeedError(
            f"line {text.count(chr(10), 0, nul) + 1}", "contains a NUL character, which is not text"
        )
    front_matter, body = split_front_matter(text.removeprefix("\ufeff"))
    return seed_from_mapping(load_front_matter(front_matter), body)


def split_front_matter(text: str) -> tuple[str, str]:
    """Split `---` / YAML / `---` / body; the body is kept exactly as written."""
    start, end, body_start = front_matter_span(text)
    return text[start:end], text[body_start:]


def front_matter_span(text: str) -> tuple[int, int, int]:
    """Where the YAML between the fences starts and ends, and where the body starts."""
    opening = _FENCE.match(text)
    if opening is None:
        raise SeedError("line 1", "no front matter: a seed starts with a line '---'")
    line_start = opening.start()
    while (line_start := text.find("\n---", line_start + 1)) >= 0:
        closing = _FENCE.match(text, line_start + 1)
        if closing:
            return opening.end(), line_start + 1, closing.end()
    raise SeedError("line 1", "unterminated front matter: no closing '---' line")


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_CONSTRUCTORS = {
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": yaml.constructor.SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:timestamp": yaml.constructor.SafeConstructor.construct_yaml_timestamp,
}


def load_front_matter(front_matter: str) -> dict[str, Any]:
    """YAML to a mapping; refuses anchors, aliases and explicit tags before building anything."""
    try:
        if _may_hold_node_properties(front_matter):
            _refuse_node_properties(front_matter)
        mapping = _load_yaml(front_matter)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 2}, column {mark.column + 1}" if mark else "front matter"
        raise SeedError(where, f"YAML error: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise SeedError("front matter", f"YAML error: {error}") from None
    except RecursionError:
        raise SeedError("front matter", "nested too deeply") from None
    if not isinstance(mapping, dict):
        raise SeedError("front matter", f"must be a mapping of fields, got {_kind(mapping)}")
    return mapping


class _SeedLoader(_BaseLoader):
    """libyaml with a leaner resolver: the same implicit types, without path resolvers."""

    _implicit = _BaseLoader.yaml_implicit_resolvers

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, pattern in self._implicit.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


def _load_yaml(text: str) -> Any:
    # libyaml composes the node tree; building the values here rather than through PyYAML's
    # generic constructor halves the cost and refuses duplicate keys, which YAML would drop.
    # The values are those yaml.safe_load gives: a test holds the two equal.
    loader = _SeedLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _node_value(loader, node, set())
    finally:
        loader.dispose()


def _node_value(loader, node, seen: set[int]) -> Any:
    if node.id == "scalar":
        if node.tag == _STR:
            return node.value
        construct = _CONSTRUCTORS.get(node.tag)
        if construct is None:
            raise _node_error(node, f"{node.value!r} is not a value seeds may hold")
        try:
            return construct(loader, node)
        except (ValueError, OverflowError):
            # YAML's patterns accept some impossible values, such as month 13.
            raise _node_error(
                node, f"{node.value!r} looks like a {node.tag.rsplit(':', 1)[-1]} but is not a valid one"
            ) from None
    if id(node) in seen:
        raise _node_error(node, "aliases are not allowed in seeds")
    seen.add(id(node))
    if node.id == "sequence":
        return [_node_value(loader, item, seen) for item in node.value]
    mapping = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            raise _node_error(key_node, "merge keys (<<) are not allowed in seeds")
        key = _node_value(loader, key_node, seen)
        if isinstance(key, (list, dict)):
            raise _node_error(key_node, "a key must be a plain value, not a list or mapping")
        if key in mapping:
            raise _node_error(key_node, f"duplicate key {key!r}")
        mapping[key] = _node_value(loader, value_node, seen)
    return mapping


def _node_error(node, problem: str) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)


def _may_hold_node_properties(text: str) -> bool:
    # An anchor, alias or tag starts a token, so it follows a line start, whitespace or a
    # flow indicator; text with no such spot needs no token scan (most URLs hold an `&`).
    for match in _NODE_PROPERTY_INDICATOR.finditer(text):
        position = match.start()
        if position == 0 or text[position - 1] in _TOKEN_BOUNDARY:
            return True
    return False


def _refuse_node_properties(front_matter: str) -> None:
    # Scanning tokens is linear in the text, so an alias bomb is refused before it is built.
    refused = {
        yaml.AnchorToken: "anchors (&name) are not allowed in seeds",
        yaml.AliasToken: "aliases (*name) are not allowed in seeds",
        yaml.TagToken: "explicit YAML tags (!tag) are not allowed in seeds",
    }
    for token in yaml.scan(front_matter, Loader=_BaseLoader):
        reason = refused.get(type(token))
        if reason:
            mark = token.start_mark
            raise SeedError(f"line {mark.line + 2}, column {mark.column + 1}", reason)


def seed_from_mapping(mapping: dict[str, Any], body: str = "") -> Seed:
    """Check a parsed front-matter mapping field by field and build the `Seed`."""
    missing = [name for name in REQUIRED_FIELDS if mapping.get(name) is None]
    if missing:
        raise SeedError(missing[0], "required field is missing" + _also(missing))
    heat = _optional(mapping, "heat", _int, "heat")
    if heat is not None and heat < HEAT_UNSET:
        raise SeedError(
            "heat", f"must be {HEAT_UNSET} ({heat_label(HEAT_UNSET)}) or a whole number from 0, got {heat}"
        )
    return Seed(
        category=_name(mapping["category"], "category"),
        title=_text(mapping["title"], "title", empty_ok=False),
        published_at=_timestamp(mapping["publishedDateTime"], "publishedDateTime"),
        web_url=_web_url(mapping["webUrl"], "webUrl"),
        provider=_provider(mapping["provider"], "provider"),
        excerpt=_optional(mapping, "excerpt", _text, "excerpt"),
        original_url=_optional(mapping, "originalUrl", _text, "originalUrl"),
        amp_web_url=_optional(mapping, "ampWebUrl", _text, "ampWebUrl"),
        cdn_amp_web_url=_optional(mapping, "cdnAmpWebUrl", _text, "cdnAmpWebUrl"),
        type=_optional(mapping, "type", _text, "type"),
        quality=_optional(mapping, "quality", _int, "quality"),
        heat=heat,
        published=_optional(mapping, "published", _bool, "published"),
        topics=_optional(mapping, "topics", _topics, "topics"),
        related=_optional(mapping, "related", _related_list, "related"),
        images=_optional(mapping, "images", _images, "images"),
        secured=_optional(mapping, "secured", _text, "secured"),
        extra=_unknown(mapping, ARTICLE_FIELDS | {MODERATION_KEY}, ""),
        key_order=[key for key in _keys(mapping) if key != MODERATION_KEY],
        body=body,
    )


ARTICLE_FIELDS = frozenset(
    "category title excerpt publishedDateTime originalUrl webUrl ampWebUrl cdnAmpWebUrl type "
    "quality heat published provider topics related secured images".split()
)
RELATED_FIELDS = frozenset(
    "title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality provider images".split()
)
PROVIDER_FIELDS = frozenset(("name", "domain"))
IMAGE_FIELDS = frozenset(("url", "width", "height", "isCached"))


def _related_list(value: Any, where: str) -> list[RelatedEntry]:
    return [_related(entry, f"{where}[{index}]") for index, entry in enumerate(_list(value, where))]


def _related(value: Any, where: str) -> RelatedEntry:
    entry = _mapping(value, where)
    for name in ("title", "webUrl"):
        if entry.get(name) is None:
            raise SeedError(f"{where}.{name}", "required field is missing")
    return RelatedEntry(
        title=_text(entry["title"], f"{where}.title", empty_ok=False),
        web_url=_web_url(entry["webUrl"], f"{where}.webUrl"),
        excerpt=_optional(entry, "excerpt", _text, f"{where}.excerpt"),
        published_at=_optional(entry, "publishedDateTime", _timestamp, f"{where}.publishedDateTime"),
        amp_web_url=_optional(entry, "ampWebUrl", _text, f"{where}.ampWebUrl"),
        cdn_amp_web_url=_optional(entry, "cdnAmpWebUrl", _text, f"{where}.cdnAmpWebUrl"),
        type=_optional(entry, "type", _text, f"{where}.type"),
        quality=_optional(entry, "quality", _int, f"{where}.quality"),
        provider=_optional(entry, "provider", _provider, f"{where}.provider"),
        images=_optional(entry, "images", _images, f"{where}.images"),
        extra=_unknown(entry, RELATED_FIELDS, where),
        key_order=_keys(entry),
    )


def _provider(value: Any, where: str) -> Provider:
    mapping = _mapping(value, where)
    if mapping.get("name") is None:
        raise SeedError(f"{where}.name", "required field is missing")
    return Provider(
        name=_name(mapping["name"], f"{where}.name"),
        domain=_optional(mapping, "domain", _domain, f"{where}.domain"),
        extra=_unknown(mapping, PROVIDER_FIELDS, where),
    )


def _images(value: Any, where: str) -> list[dict[str, Any]]:
    return [_image(image, f"{where}[{index}]") for index, image in enumerate(_list(value, where))]


def _image(value: Any, where: str) -> dict[str, Any]:
    image = _mapping(value, where)
    if image.get("url") is None:
        raise SeedError(f"{where}.url", "required field is missing")
    _text(image["url"], f"{where}.url", empty_ok=False)
    for name in ("width", "height"):
        _optional(image, name, _int, f"{where}.{name}")
    _optional(image, "isCached", _bool, f"{where}.isCached")
    _unknown(image, IMAGE_FIELDS, where)
    return image


def _topics(value: Any, where: str) -> list[str]:
    return [_name(topic, f"{where}[{index}]") for index, topic in enumerate(_list(value, where))]


def _name(value: Any, where: str, empty_ok: bool = False) -> str:
    """A short, indexed text: a category, a topic, a provider's name or domain."""
    text = _text(value, where, empty_ok=empty_ok)
    if len(text) > NAME_MAX_CHARACTERS:
        raise SeedError(where, f"is {len(text):,} characters long, over the limit of {NAME_MAX_CHARACTERS}")
    return text


def _domain(value: Any, where: str) -> str:
    return _name(value, where, empty_ok=True)


def _optional(mapping: dict, name: str, check, where: str):
    value = mapping.get(name)
    return None if value is None else check(value, where)


def _text(value: Any, where: str, empty_ok: bool = True) -> str:
    if not isinstance(value, str):
        hint = (
            " (YAML reads unquoted yes/no/on/off/true/false as booleans: quote it)"
            if isinstance(value, bool)
            else ""
        )
        raise SeedError(where, f"expected text, got {_kind(value)}{hint}")
    if not empty_ok and not value.strip():
        raise SeedError(where, "must not be empty")
    _check_characters(value, where)
    return value


def _check_characters(value: str, where: str) -> None:
    # YAML escapes can spell a NUL or a lone surrogate: neither is storable text.
    if value.isascii():
        if "\x00" in value:
            raise SeedError(where, "contains a NUL character (\\0), which is not text")
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SeedError(
            where, "contains a lone surrogate (a \\uD800-\\uDFFF escape), which is not text"
        ) from None


def _int(value: Any, where: str) -> int:
    if type(value) is not int:
        raise SeedError(where, f"expected a whole number, got {_kind(value)}")
    if not -INT_MAX <= value <= INT_MAX:
        raise SeedError(where, f"{value} is out of range")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SeedError(where, f"expected true or false, got {_kind(value)}")
    return value


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise SeedError(
                where, f"expected a date and time like 2023-10-19T13:22:00Z, got {value!r}"
            ) from None
    if not isinstance(value, datetime):
        raise SeedError(where, f"expected a date and time like 2023-10-19T13:22:00Z, got {_kind(value)}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is in the year 10000 in UTC
        raise SeedError(
            where, f"{value.isoformat()} is out of range: in UTC it falls outside years 1 to 9999"
        ) from None


def _web_url(value: Any, where: str) -> str:
    url = _text(value, where, empty_ok=False)
    if not is_http_url(url):
        raise SeedError(where, f"must be an http(s) URL, got {url[:80]!r}")
    return url


def is_http_url(url: str) -> bool:
    """True for an absolute http or https URL with a host (nothing before the scheme)."""
    return _HTTP_URL.match(url) is not None


def first_image_url(images: list[dict[str, Any]] | None) -> str | None:
    """The URL of a seed's (or a related entry's) first image, as written."""
    return images[0]["url"] if images else None


def image_src(url: str | None) -> str | None:
    """The URL a page may load as an image: https only (the CSP's `img-src 'self' https:`), else None."""
    if url is None or url[:8].lower() != "https://" or not is_http_url(url):
        return None
    return url


def heat_label(heat: int | None) -> str:
    """Heat as people read it: "not set" for HEAT_UNSET (or no heat at all), else the number."""
    return "not set" if heat is None or heat == HEAT_UNSET else str(heat)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise SeedError(where, f"expected a list, got {_kind(value)}")
    return value


def _mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise SeedError(where, f"expected a mapping, got {_kind(value)}")
    _keys(value, where)
    return value


def _keys(mapping: dict, where: str = "") -> list[str]:
    for key in mapping:
        if not isinstance(key, str):
            raise SeedError(_join(where, str(key)), f"field names must be text, got {_kind(key)}")
    return list(mapping)


def _unknown(mapping: dict, known: frozenset, where: str) -> dict[str, Any]:
    extra = {key: value for key, value in mapping.items() if key not in known}
    for key, value in extra.items():
        _check_storable(value, _join(where, key))
    return extra


def _check_storable(value: Any, where: str) -> None:
    """Unknown values are kept as JSON: refuse the few YAML values JSON cannot hold exactly."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SeedError(where, f"{value} cannot be stored; quote it if it is text")
    if isinstance(value, str):
        _check_characters(value, where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key in _JSON_TAGS:
                raise SeedError(
                    _join(where, str(key)), "field names must be text (and not $date or $datetime)"
                )
            _check_storable(item, _join(where, key))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _also(missing: list[str]) -> str:
    return f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return f"a date without a time ({value.isoformat()})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
