"""Fuzzing the whole import path: mutated real seeds go through `seeds import --json`, and each
file is either imported whole (a pending article with every related entry, topic and suggestion
of the file) or refused with a message naming it; never an exception, never half an article, and
the summary always prints.

Each test tries COPYDESK_FUZZ_EXAMPLES inputs (default 100: together well under a minute on
SQLite, about one on PostgreSQL); `COPYDESK_FUZZ_EXAMPLES=5000` runs a long campaign."""

import collections
import hashlib
import itertools
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import REAL_SEED
from webapp.formats.seeds import SeedError, parse_bytes
from webapp.models import PENDING, Article, DuplicateSuggestion, RelatedLink, article_topics, db

# A failing input is a seed of up to a megabyte: print it all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
EXAMPLES = int(os.environ.get("COPYDESK_FUZZ_EXAMPLES") or 100)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
NAMES = itertools.count()  # a fresh identity for every file of every example
OUTCOMES = collections.Counter()  # what the run saw, printed at its end (pytest -rP shows it)
ODD_CHARACTERS = [
    "\ufeff",  # byte-order mark
    "\u202e",  # right-to-left override
    "\u0301",  # combining accent
    "\u00b2",  # superscript two: a digit to str.isdigit(), not to int()
    "\u0663",  # Arabic-Indic three
    "\U0001f4a5",
    "\U0010ffff",
    "\u2028",  # line separator
    "\u0085",  # next line
    "\r",
    "\t",
    "\u00a0",
    "\x1b",
    "\ufffd",
    "\u200b",
    "\ufb01",  # the ligature fi: NFKC makes it two letters
    "\u2019",
    "'",
    '"',
    "#",
    ":",
    "- ",
    "&",
    "*",
    "!",
    "|",
    ">",
    "{",
    "[",
    "%",
    "@",
    "`",
]
# Values of another type, or odd ones, for a key: YAML escapes for a NUL or a lone surrogate too.
SWAPPED_VALUES = [
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "null",
    "~",
    "true",
    "-1",
    "0",
    "2147483648",
    "-9223372036854775809",
    "1e309",
    ".nan",
    "-.inf",
    "9" * 400,
    "2023-13-45",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "'16'",
    '""',
    '"\\0"',
    '"\\ud800"',
    '"\\U0010FFFF"',
    '"\\x85"',
    "|\n  block\n  text",
    ">-\n  folded",
    "- a\n- b",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "=HYPERLINK(1)",
    "'; DROP TABLE articles; --",
]
_KEY_VALUE = re.compile(rb"^(\s*(?:- )?[\w$-]+:)[ \t]*(.*)$")
_DIGITS = re.compile(rb"\d+")
_QUOTED_VALUE = re.compile(rb': "')
_QUOTED_TITLE = re.compile(rb'^(\s*(?:- )?title: ")(.*)"$')
# Characters of a double-quoted YAML value: any but the quote, the escape and line breaks.
_TITLE_CHARACTERS = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters='"\\\x85')
TITLE_TOKENS = [
    "5m",
    "5 million",
    "2.5bn",
    "12%",
    "3 per cent",
    "1,250",
    "0.000001",
    "007",
    "9" * 309,
    "1" * 5000,
    "9" * 400 + "bn",
    "1." + "5" * 400,
    "\u00b2",
    "\u0663",
    "Monday",
    "hundreds",
    "EXCLUSIVE:",
    "| Reuters",
    "- BBC News",
    "Live:",
    "(VIDEO)",
    "what we know",
    "not",
    "to close",
    "closes",
    "U.S.",
    "it\u2019s",
    "\u2014",
    ":",
    "|",
    "-",
    "'",
    "Morning briefing:",
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def flip_byte(draw, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


@st.composite
def cut(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


@st.composite
def duplicate_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[: at + 1] + lines[at : at + draw(st.integers(1, 3))] + lines[at + 1 :])


@st.composite
def remove_lines(draw, data: bytes) -> bytes:
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[:at] + lines[at + draw(st.integers(1, 3)) :])


@st.composite
def huge_number(draw, data: bytes) -> bytes:
    """A number of hundreds or thousands of digits, in a title (the issue's case) or anywhere."""
    lines = _lines(data)
    titles = [i for i, line in enumerate(lines) if b"title:" in line]
    at = draw(st.sampled_from(titles) if titles and draw(st.booleans()) else st.integers(0, len(lines) - 1))
    digits = draw(st.sampled_from([18, 19, 308, 309, 400, 4301, 20000]))
    number = draw(st.sampled_from(["9", "1", "7"])).encode() * digits
    number += draw(st.sampled_from([b"", b".5", b"%", b"m", b" billion", b",000"]))
    line, found = lines[at], _DIGITS.search(lines[at])
    if found:
        lines[at] = line[: found.start()] + number + line[found.end() :]
    elif line.endswith(b'"'):
        lines[at] = line[:-1] + b" " + number + b'"'
    else:
        lines[at] = line + b" " + number
    return b"\n".join(lines)


@st.composite
def retitle(draw, data: bytes) -> bytes:
    """A title rewritten from the file's own words, numbers and odd characters: the file parses,
    and its headlines go through the suggestions and the story keys."""
    lines = _lines(data)
    titles = [i for i, line in enumerate(lines) if _QUOTED_TITLE.match(line)]
    if not titles:
        return data
    own = b" ".join(_QUOTED_TITLE.match(lines[i]).group(2) for i in titles).decode("utf-8", "replace")
    own_words = sorted(set(own.split()))  # none when an earlier mutation emptied every title
    token = st.sampled_from(TITLE_TOKENS) | (st.sampled_from(own_words) if own_words else st.nothing())
    token |= st.text(_TITLE_CHARACTERS, max_size=8)
    at = draw(st.sampled_from(titles))
    title = " ".join(draw(st.lists(token, min_size=1, max_size=14))).encode("utf-8", "surrogatepass")
    lines[at] = _QUOTED_TITLE.match(lines[at]).group(1) + title + b'"'
    return b"\n".join(lines)


@st.composite
def odd_unicode(draw, data: bytes) -> bytes:
    """Odd characters anywhere, or (as often) inside a quoted value, where most of them are allowed."""
    quoted = [found.end() for found in _QUOTED_VALUE.finditer(data)]
    ascii_at = quoted if quoted and draw(st.booleans()) else [i for i, byte in enumerate(data) if byte < 0x80]
    if not ascii_at:
        return data
    at = draw(st.sampled_from(ascii_at))
    text = draw(st.sampled_from(ODD_CHARACTERS) | st.text(min_size=1, max_size=3))
    return data[:at] + text.encode("utf-8", "surrogatepass") + data[at:]


@st.composite
def deep_nesting(draw, data: bytes) -> bytes:
    depth = draw(st.sampled_from([10, 100, 1000, 5000]))
    nested = draw(
        st.sampled_from(
            [
                b"[" * depth + b"]" * depth,
                b"{a: " * depth + b"1" + b"}" * depth,
                b"\n" + b"".join(b"  " * (level + 1) + b"a:\n" for level in range(min(depth, 400))),
                b"\n" + b"".join(b"  " * (level + 1) + b"- \n" for level in range(min(depth, 400))),
            ]
        )
    )
    return _set_a_value(draw, data, nested)


@st.composite
def long_line(draw, data: bytes) -> bytes:
    size = draw(st.sampled_from([1_000, 100_000, 1_000_000]))
    word = draw(st.sampled_from([b"x", b"ab ", b"\xc3\xa9", b"9", b"https://e.example/"]))
    filler = (word * (size // len(word) + 1))[:size]
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    lines[at] = lines[at] + filler if draw(st.booleans()) else filler
    return b"\n".join(lines)


@st.composite
def swap_type(draw, data: bytes) -> bytes:
    return _set_a_value(draw, data, draw(st.sampled_from(SWAPPED_VALUES)).encode("utf-8"))


def _set_a_value(draw, data: bytes, value: bytes) -> bytes:
    """The data with one `key: value` line's value replaced; a block value is indented under its key."""
    lines = _lines(data)
    keyed = [i for i, line in enumerate(lines) if _KEY_VALUE.match(line)]
    if not keyed:
        return data
    at = draw(st.sampled_from(keyed))
    key = _KEY_VALUE.match(lines[at]).group(1)
    indent = b" " * (len(key) - len(key.lstrip()) + 2)
    lines[at] = key + b" " + value.replace(b"\n", b"\n" + indent)
    return b"\n".join(lines)


MUTATIONS = [
    retitle,
    retitle,
    flip_byte,
    cut,
    duplicate_line,
    remove_lines,
    huge_number,
    odd_unicode,
    deep_nesting,
    long_line,
    swap_type,
]


@st.composite
def mutated(draw, sources: list[Path]) -> bytes:
    """A real seed with one or two mutations."""
    data = draw(st.sampled_from(sources)).read_bytes()
    for _ in range(draw(st.integers(1, 2))):
        data = draw(draw(st.sampled_from(MUTATIONS))(data))
    return data


def stored(identity: str) -> tuple | None:
    """What the database holds of one file's article: enough to tell a whole one from half of one."""
    found = db.session.scalar(select(Article).where(Article.identity == identity))
    if found is None:
        return None
    related, topics, suggestions = (
        db.session.scalar(select(func.count()).select_from(table).where(column == found.id))
        for table, column in (
            (RelatedLink, RelatedLink.article_id),
            (article_topics, article_topics.c.article_id),
            (DuplicateSuggestion, DuplicateSuggestion.article_id),
        )
    )
    return (
        found.status,
        found.content_hash,
        found.version,
        related,
        topics,
        suggestions,
        found.suggestion_count,
    )


def expected(data: bytes, max_bytes: int, version: int) -> tuple | None:
    """What a file imported whole is stored as, or None for a file the parser refuses."""
    try:
        _, seed = parse_bytes(data, max_bytes)
    except SeedError:
        return None
    related, topics = len(seed.related or ()), len(dict.fromkeys(seed.topics or ()))
    return (PENDING, hashlib.sha256(data).hexdigest(), version, related, topics)


def _kind_of(message: str) -> str:
    """A refusal's reason without its place and details, for hypothesis' statistics."""
    return re.sub(r"^(?:line \d+(?:, column \d+)?|[\w.\[\]]+): ", "", message)[:40]


def check_mutations(sources: list[Path], runner, app, tmp_path_factory) -> None:
    """Import mutated seeds, new ones and changes to stored ones, and check every file's outcome."""
    max_bytes = app.config["SEED_MAX_BYTES"]

    @FUZZ
    @given(data=st.lists(mutated(sources), min_size=1, max_size=3), over_stored=st.booleans())
    def imports_whole_or_refuses(data, over_stored):
        OUTCOMES["inputs"] += 1
        folder = tmp_path_factory.mktemp("fuzz")
        files = {folder / f"fuzz{next(NAMES)}.md": blob for blob in data}
        before = {}
        if over_stored:  # the first file changes an article imported from its source
            first = next(iter(files))
            first.write_bytes(sources[0].read_bytes())
            assert runner.invoke(args=["seeds", "import", str(first)]).exit_code == 0
            before[first] = stored(first.stem)
        for path, blob in files.items():
            path.write_bytes(blob)

        result = runner.invoke(args=["seeds", "import", "--json", str(folder)])

        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        summary = json.loads(result.stdout)
        refused = {error["file"]: error["message"] for error in summary["errors"]}
        assert len(refused) == len(summary["errors"]) == summary["invalid"]
        assert set(refused) <= {str(path) for path in files} and all(refused.values())
        # The importer survives an error no check foresaw, but here one is a bug found: say so.
        assert not [m for m in refused.values() if m.startswith(("internal error", "could not be stored"))]
        assert result.exit_code == (1 if refused else 0)
        assert sum(summary[k] for k in ("imported", "updated", "unchanged", "invalid")) == len(files)
        db.session.expire_all()
        for path, blob in files.items():
            now = stored(path.stem)
            OUTCOMES["refused: " + _kind_of(refused[str(path)]) if str(path) in refused else "imported"] += 1
            if str(path) in refused:
                assert now == before.get(path), (path, refused[str(path)])  # nothing stored, nothing changed
                continue
            unchanged = path in before and blob == sources[0].read_bytes()
            version = 1 if path not in before or unchanged else before[path][2] + 1
            assert now is not None, (path, summary)
            assert now[:5] == expected(blob, max_bytes, version), (path, now)
            assert now[5] == now[6]  # the suggestions counted are the ones stored

    OUTCOMES.clear()
    imports_whole_or_refuses()
    inputs = OUTCOMES.pop("inputs")
    print(f"\n{inputs} inputs, {OUTCOMES.total()} files:", dict(OUTCOMES.most_common()), flush=True)


def test_mutated_owner_seed_imports_whole_or_is_refused(runner, app, tmp_path_factory):
    check_mutations([REAL_SEED], runner, app, tmp_path_factory)


def test_mutated_real_corpus_seeds_import_whole_or_are_refused(runner, app, tmp_path_factory, shared):
    sources = sorted((shared / "real-seeds").glob("*.md"))
    assert sources
    check_mutations(sources, runner, app, tmp_path_factory)
