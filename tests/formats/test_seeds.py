"""The seed format module: the real seed parses exactly, and every kind of bad seed is refused."""

import contextlib
import re
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import BAD_SEEDS, MINIMAL, REAL_SEED, seed_text
from webapp.formats.seeds import Seed, SeedError, parse, parse_bytes, split_front_matter

REAL_TEXT = REAL_SEED.read_text(encoding="utf-8")


def test_real_seed_fields_are_exact():
    seed = parse(REAL_TEXT)
    assert (
        seed.title == "Met Police roll out facial recognition technology to tackle London\u2019s shoplifting"
    )
    assert seed.published_at == datetime(2023, 10, 19, 13, 22, tzinfo=UTC)
    assert seed.published_at.utcoffset().total_seconds() == 0
    assert seed.topics == ["Natural Language Processing", "AI", "Computer Vision"]
    assert [entry.provider.domain for entry in seed.related] == [
        "foxnews.com",
        "politicshome.com",
        "nextgov.com",
        "govexec.com",
        "bbc.co.uk",
        "thesun.ie",
        "govtech.com",
    ]
    first = seed.related[0]
    assert first.amp_web_url.endswith(
        "stores-spying-using-creepy-facial-recognition-technology-without-consent.amp"
    )
    assert first.cdn_amp_web_url.startswith(
        "https://www-foxnews-com.cdn.ampproject.org/c/s/www.foxnews.com/tech/"
    )
    assert first.images == [
        {
            "url": "https://a57.foxnews.com/cf-images.us-east-1.prod.boltdns.net/v1/static/694940094001/"
            "ca26886f-5711-4159-9b16-f3d02cc8e509/24f16d92-343e-4303-ba2a-681a026cc44c/1280x720/match/1200/675/"
            "image.jpg?ve=1&tl=1",
            "width": 1200,
            "height": 675,
            "isCached": True,
        }
    ]
    secured_line = next(line for line in REAL_TEXT.splitlines() if line.startswith("secured: "))
    assert f'secured: "{seed.secured}"' == secured_line
    assert (seed.quality, seed.heat, seed.published) == (16, -1, False)
    assert seed.provider.name == "Business Matters" and seed.provider.domain == "bmmagazine.co.uk"
    assert seed.extra == {} and seed.body == "\n"  # the file ends "---\n\n": kept verbatim
    assert seed.key_order[:3] == ["category", "title", "excerpt"] and seed.key_order[-1] == "secured"


def test_bom_and_crlf_are_accepted():
    data = b"\xef\xbb\xbf" + REAL_TEXT.replace("\n", "\r\n").encode("utf-8")
    text, seed = parse_bytes(data)
    expected = parse(REAL_TEXT)
    assert seed.body == "\r\n" and text.startswith("\ufeff---\r\n")  # the text is kept as it came
    seed.body = expected.body
    assert seed == expected


def test_body_unknown_keys_and_any_script_are_kept():
    text = seed_text(
        MINIMAL.replace('"A title"', '"Заголовок — 見出し 🚀 <script>alert(1)</script>"')
        + "zeta: 1\nnested:\n  b: [1, 2]\n  a: 2020-01-02\n",
        body="\n# Heading\r\n\nSome *Markdown*.\n---\n",
    )
    seed = parse(text)
    assert seed.title == "Заголовок — 見出し 🚀 <script>alert(1)</script>"
    assert list(seed.extra) == ["zeta", "nested"] and list(seed.extra["nested"]) == ["b", "a"]
    assert seed.body == "\n# Heading\r\n\nSome *Markdown*.\n---\n"
    assert seed.key_order[-2:] == ["zeta", "nested"]


def test_naive_and_offset_timestamps_become_utc():
    naive = parse(seed_text(MINIMAL.replace("13:22:00Z", "13:22:00")))
    offset = parse(seed_text(MINIMAL.replace("13:22:00Z", "15:22:00+02:00")))
    assert naive.published_at == offset.published_at == datetime(2023, 10, 19, 13, 22, tzinfo=UTC)
    assert offset.published_at.tzinfo == UTC


@pytest.mark.parametrize("name", BAD_SEEDS)
def test_bad_seed_is_refused_with_where_and_why(name):
    text, message = BAD_SEEDS[name]
    with pytest.raises(SeedError) as refused:
        parse(text)
    assert message in str(refused.value)


def test_not_utf8_names_line_and_byte():
    data = seed_text(MINIMAL).encode() + b"excerpt: \xff\xfe\n"
    with pytest.raises(SeedError, match=r"line 10: not UTF-8: byte 0xff at offset \d+ is invalid"):
        parse_bytes(data)


def test_latin1_file_is_not_utf8():
    data = seed_text(MINIMAL.replace("A title", "Caf\u00e9")).encode("latin-1")
    with pytest.raises(SeedError, match="not UTF-8: byte 0xe9"):
        parse_bytes(data)


def test_file_over_the_limit_is_refused_before_parsing():
    with pytest.raises(SeedError, match=r"file is 6,295 bytes, over the limit of 1,000 \(SEED_MAX_BYTES\)"):
        parse_bytes(REAL_SEED.read_bytes(), max_bytes=1000)


def test_raw_nul_byte_is_refused():
    with pytest.raises(SeedError, match="line 2: contains a NUL character"):
        parse("---\n\x00: 1\n---\n")


def test_alias_bomb_costs_neither_time_nor_memory():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = seed_text(MINIMAL + "\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(SeedError, match="anchors"):
        parse(bomb)
    assert time.perf_counter() - started < 1.0


def test_deep_nesting_is_refused_cleanly():
    deep = seed_text(MINIMAL + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SeedError, match="nesting depth|nested too deeply"):
        parse(deep)


def test_split_keeps_body_verbatim_and_finds_the_first_closing_fence():
    front, body = split_front_matter("---\na: 1\n---  \nbody\n---\nmore")
    assert front == "a: 1\n" and body == "body\n---\nmore"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_are_refused_cleanly(data):
    try:
        result = parse_bytes(data, max_bytes=1000)
    except SeedError:
        return
    assert isinstance(result[1], Seed)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_seed_parses_or_is_refused_cleanly(data):
    raw = bytearray(REAL_SEED.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position]
        else:
            raw[position:position] = data.draw(
                st.sampled_from([b":", b"-", b"&a ", b"*a", b"!!", b"\n", b"  ", b'"', b"[", b"{", b"\xff"])
            )
    with contextlib.suppress(SeedError):
        parse_bytes(bytes(raw))


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.datetimes(timezones=st.just(UTC))
    | st.dates(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), yaml_values, max_size=6))
def test_values_are_those_yaml_safe_load_gives(mapping):
    import yaml

    from webapp.formats.seeds import load_front_matter

    text = yaml.dump(mapping, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    assert load_front_matter(text) == yaml.safe_load(text)


def test_real_seed_values_are_those_yaml_safe_load_gives():
    import yaml

    from webapp.formats.seeds import load_front_matter

    front_matter, _ = split_front_matter(REAL_TEXT)
    assert load_front_matter(front_matter) == yaml.safe_load(front_matter)


@pytest.mark.parametrize(
    "line, message",
    [
        ("x: =\n", "'=' is not a value seeds may hold"),
        ("<<: {a: 1}\n", "merge keys (<<) are not allowed"),
        ("? [a, b]\n: 1\n", "a key must be a plain value"),
    ],
)
def test_yaml_that_safe_load_would_bend_is_refused(line, message):
    with pytest.raises(SeedError, match=re.escape(message)):
        parse(seed_text(MINIMAL + line))


@pytest.mark.parametrize(
    "text, front, body",
    [
        ("---\na: 1\n---", "a: 1\n", ""),
        ("---\r\na: 1\r\n---\r\nbody", "a: 1\r\n", "body"),
        ("---\na: 1\n--- \t\n\nbody", "a: 1\n", "\nbody"),
        ("---\n---\n", "", ""),
    ],
)
def test_fences(text, front, body):
    assert split_front_matter(text) == (front, body)


@pytest.mark.parametrize("text", ["---\na: 1\n----\n", "---\na: 1\n ---\n", "---\na: 1\n---x\n"])
def test_lines_that_only_look_like_a_closing_fence(text):
    with pytest.raises(SeedError, match="unterminated front matter"):
        split_front_matter(text)
