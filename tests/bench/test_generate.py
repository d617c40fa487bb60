"""Tests of the synthetic seed generator bench/generate.py (no webapp imports)."""

import difflib
import itertools
import random
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bench.generate import (
    CROSS_KINDS,
    CROSS_NEAR_MISS_KINDS,
    IN_SEED_KINDS,
    KEY_ORDER,
    MAX_RELATED,
    NEAR_MISS_KINDS,
    TRUTH_FILE,
    generate_seed,
    main,
    render_seed,
    write_corpus,
    yaml_double_quoted,
)
from tests.factories import REAL_SEED

REAL_SEED_BYTES = 6295
TRACKING_PARAM = re.compile(r"utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|at_medium|at_campaign")
AMP_CACHE = re.compile(r"https://([a-z0-9-]+)\.cdn\.ampproject\.org/c/(s/)?([^/?]+)(.*)")


# ------------------------------------------------------------------ helpers


def split_seed(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    front, separator, body = text[4:].partition("\n---\n")
    assert separator, "unterminated front matter"
    return yaml.load(front, Loader=yaml.CSafeLoader), body


def seed_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.txt"), *directory.glob("*.md")])


def corpus_bytes(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def without_tracking(url: str) -> str:
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if not TRACKING_PARAM.fullmatch(pair.split("=")[0])]
    return parts._replace(query="&".join(filter(None, kept))).geturl()


def bare_host(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=re.sub(r"^(www|m)\.", "", parts.netloc)).geturl()


def without_trailing_slash(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=parts.path.rstrip("/")).geturl()


def without_amp(url: str) -> str:
    """The URL with any AMP marker, ".html" and trailing slash removed from its path."""
    parts = urlsplit(url)
    path = re.sub(r"^/amp(?=/)", "", parts.path)
    return parts._replace(path=re.sub(r"(/amp/?|\.amp\.html|\.amp|\.html|/)$", "", path)).geturl()


def is_amp(url: str) -> bool:
    return bool(re.search(r"^/amp/|/amp/$|\.amp(\.html)?$", urlsplit(url).path))


def unwrap_amp_cache(url: str) -> str | None:
    match = AMP_CACHE.fullmatch(url)
    if not match or match[1] != match[3].replace("-", "--").replace(".", "-"):
        return None
    return ("https://" if match[2] else "http://") + match[3] + match[4]


def same_page(kind: str, a: str, b: str) -> bool:
    """Whether URL b is URL a at another address of the given kind (either way round)."""
    if a == b:
        return False
    if kind == "amp_cache":
        return unwrap_amp_cache(a) == b or unwrap_amp_cache(b) == a
    if kind == "amp_path":
        return without_amp(a) == without_amp(b) and is_amp(a) != is_amp(b)
    normalise = {
        "tracking_params": without_tracking,
        "host_prefix": bare_host,
        "trailing_slash": without_trailing_slash,
        "scheme": lambda url: url.split("://", 1)[1],
    }[kind]
    return normalise(a) == normalise(b)


def any_url_match(a: str, b: str) -> bool:
    kinds = ("tracking_params", "scheme", "host_prefix", "trailing_slash", "amp_path", "amp_cache")
    return a == b or any(same_page(kind, a, b) for kind in kinds)


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    truth = write_corpus(200, 7, out)
    seeds = {path.stem: split_seed(path.read_text(encoding="utf-8"))[0] for path in seed_files(out)}
    return out, truth, seeds


# ------------------------------------------------------------------ determinism and layout


def test_same_seed_gives_identical_bytes_and_another_seed_differs(corpus, tmp_path):
    out, _, _ = corpus
    write_corpus(200, 7, tmp_path / "again")
    write_corpus(200, 8, tmp_path / "other")
    assert corpus_bytes(tmp_path / "again") == corpus_bytes(out)
    assert corpus_bytes(tmp_path / "other") != corpus_bytes(out)


def test_renders_the_real_seed_byte_for_byte():
    text = REAL_SEED.read_text(encoding="utf-8")
    article, body = split_seed(text)
    assert render_seed(article, body.removeprefix("\n")) == text


def test_generated_article_round_trips_through_yaml():
    rng = random.Random(3)
    for index in range(30):
        seed = generate_seed(rng, index, plants=["syndication", "amp_cache"])
        article, body = split_seed(render_seed(seed.article, seed.body))
        assert article == seed.article
        assert body == "\n" + seed.body


@pytest.mark.parametrize(
    "text",
    [
        'say "hi"',
        "back\\slash",
        "tab\tnew\nline",
        "’ “ ” — Łódź 東京 🚀",
        "line\u2028sep",
        "\ufeffbom",
        "no",
        "- dash: colon #hash",
    ],
)
def test_double_quoted_strings_parse_back(text):
    assert yaml.load("k: " + yaml_double_quoted(text), Loader=yaml.CSafeLoader) == {"k": text}
    assert split_seed(render_seed({"lang": text}))[0] == {"lang": text}


def test_files_are_utf8_lf_with_the_real_seed_layout(corpus):
    out, _, _ = corpus
    real_keys = list(split_seed(REAL_SEED.read_text(encoding="utf-8"))[0])
    assert real_keys == [key for key in KEY_ORDER if key in real_keys]
    for path in seed_files(out):
        data = path.read_bytes()
        text = data.decode("utf-8")
        assert "\r" not in text and text.startswith("---\ncategory: ")
        assert re.search(r'^title: ".*"$', text, re.M)
        assert re.search(r"^publishedDateTime: \d{4}-\d\d-\d\dT\d\d:\d\d:00Z$", text, re.M)
        keys = list(split_seed(text)[0])
        known = [key for key in keys if key in KEY_ORDER]
        assert known == [key for key in KEY_ORDER if key in known]
        if keys == known:  # unknown keys may sit anywhere, even between these
            assert "\n\nprovider:\n  name: " in text and '\n\nsecured: "' in text
            assert text.endswith('"\n---\n\n') or '"\n---\n\n' in text


def test_file_names_are_unique_stems_of_both_shapes(corpus):
    out, _, seeds = corpus
    names = [path.name for path in seed_files(out)]
    assert len(seeds) == len(names) == 200
    assert all(
        re.fullmatch(r"\d{3,}_[0-9a-f]{16}\.txt|\d{4}-\d\d-\d\d-[a-z0-9-]+\.md", name) for name in names
    )
    assert any(name.endswith(".md") for name in names) and any(name.endswith(".txt") for name in names)
    assert (out / TRUTH_FILE).exists() and TRUTH_FILE not in names


# ------------------------------------------------------------------ fields


def test_every_seed_has_required_fields_of_the_right_types(corpus):
    _, _, seeds = corpus
    for stem, article in seeds.items():
        assert isinstance(article["category"], str) and article["category"], stem
        assert isinstance(article["title"], str) and article["title"].strip(), stem
        assert isinstance(article["excerpt"], str) and 40 < len(article["excerpt"]) < 400, stem
        assert isinstance(article["publishedDateTime"], datetime)
        assert article["publishedDateTime"].utcoffset() is not None
        assert re.match(r"https?://", article["webUrl"]), stem
        assert isinstance(article["provider"]["name"], str) and "." in article["provider"]["domain"]
        assert all(isinstance(topic, str) for topic in article["topics"])
        assert re.fullmatch(r"[A-Za-z0-9+/]{290,}={0,2};[A-Za-z0-9+/]{22}==", article["secured"])
        if "quality" in article:
            assert 0 <= article["quality"] <= 161 and article["published"] is False
            assert article["heat"] == -1 or 31 <= article["heat"] <= 199
        assert 0 <= len(article.get("related", [])) <= MAX_RELATED


def test_related_entries_have_the_fields_of_the_format(corpus):
    _, _, seeds = corpus
    entries = [entry for article in seeds.values() for entry in article.get("related", [])]
    for entry in entries:
        assert {
            "title",
            "excerpt",
            "publishedDateTime",
            "webUrl",
            "type",
            "quality",
            "provider",
        } <= entry.keys()
        assert isinstance(entry["quality"], int) and isinstance(entry["publishedDateTime"], datetime)
        for image in entry.get("images", []):
            assert isinstance(image["url"], str) and isinstance(image["width"], int)
    assert any("ampWebUrl" in entry for entry in entries) and any("images" in entry for entry in entries)


def test_corpus_has_the_variety_of_real_seeds(corpus):
    out, _, seeds = corpus
    articles = list(seeds.values())
    assert any("ampWebUrl" in a for a in articles) and any("images" in a for a in articles)
    assert any("quality" not in a for a in articles) and any("related" not in a for a in articles)
    assert any(key not in KEY_ORDER for a in articles for key in a)
    assert any(isinstance(value, dict) for a in articles for key, value in a.items() if key not in KEY_ORDER)
    assert any(split_seed(path.read_text(encoding="utf-8"))[1].strip() for path in seed_files(out))
    titles = " ".join(a["title"] for a in articles)
    assert "’" in titles and re.search(r"[^\x00-\u024f’“”—]", titles)
    days = [a["publishedDateTime"] for a in articles]
    assert 60 <= (max(days) - min(days)).days <= 90
    assert len({a["provider"]["domain"] for a in articles}) > 100


def test_mean_size_is_close_to_the_real_seed(tmp_path):
    truth = write_corpus(500, 11, tmp_path)
    sizes = [path.stat().st_size for path in seed_files(tmp_path)]
    assert sum(sizes) == truth["corpus"]["total_bytes"]
    assert abs(sum(sizes) / len(sizes) - REAL_SEED_BYTES) < 0.25 * REAL_SEED_BYTES


# ------------------------------------------------------------------ planted duplicates


def test_every_kind_is_planted(corpus):
    _, truth, _ = corpus
    assert {group["kind"] for group in truth["duplicates"]} == set(IN_SEED_KINDS) | set(CROSS_KINDS)
    near_miss_kinds = {group["kind"] for group in truth["near_misses"]}
    assert near_miss_kinds == set(NEAR_MISS_KINDS) | set(CROSS_NEAR_MISS_KINDS)


def test_in_seed_duplicates_are_what_the_truth_says(corpus):
    _, truth, seeds = corpus
    for group in (g for g in truth["duplicates"] if "file" in g):
        i, j = group["related_positions"]
        a, b = (seeds[group["file"]]["related"][p] for p in (i, j))
        same_outlet = a["provider"]["domain"] == b["provider"]["domain"]
        if group["kind"] == "syndication":
            assert a["title"] == b["title"] and not same_outlet and a["webUrl"] != b["webUrl"]
        elif group["kind"] == "reworded_title":
            assert a["title"] != b["title"] and same_outlet
            assert difflib.SequenceMatcher(None, a["title"], b["title"]).ratio() > 0.75
        else:
            assert a["title"] == b["title"] and same_outlet
            assert same_page(group["kind"], a["webUrl"], b["webUrl"]), group


def test_cross_seed_duplicates_are_what_the_truth_says(corpus):
    _, truth, seeds = corpus
    for group in (g for g in truth["duplicates"] if "files" in g):
        a, b = (seeds[stem] for stem in group["files"])
        if group["kind"] == "cross_url_variant":
            assert a["title"] == b["title"] and a["provider"]["domain"] == b["provider"]["domain"]
            assert same_page(group["variant"], a["webUrl"], b["webUrl"])
        elif group["kind"] == "cross_syndication":
            assert a["title"] == b["title"] and a["provider"]["domain"] != b["provider"]["domain"]
        else:
            entry = a["related"][group["related_position"]]
            assert (entry["title"], entry["webUrl"]) == (b["title"], b["webUrl"])


def test_near_misses_are_different_articles(corpus):
    _, truth, seeds = corpus
    for group in truth["near_misses"]:
        if "file" in group:
            a, b = (seeds[group["file"]]["related"][p] for p in group["related_positions"])
        else:
            a, b = (seeds[stem] for stem in group["files"])
        assert a["title"] != b["title"] and not any_url_match(a["webUrl"], b["webUrl"])
        if group["kind"] == "same_outlet_follow_up":
            assert a["provider"]["domain"] == b["provider"]["domain"]


def test_no_duplicates_other_than_planted_ones(corpus):
    _, truth, seeds = corpus
    planted = {(g["file"], *g["related_positions"]) for g in truth["duplicates"] if "file" in g}
    for stem, article in seeds.items():
        for (i, a), (j, b) in itertools.combinations(enumerate(article.get("related", [])), 2):
            if a["title"] == b["title"] or any_url_match(a["webUrl"], b["webUrl"]):
                assert (stem, i, j) in planted
    planted_pairs = {frozenset(g["files"]) for g in truth["duplicates"] if "files" in g}
    by_title = {}
    for stem, article in seeds.items():
        by_title.setdefault(article["title"], []).append(stem)
    for stems in by_title.values():
        assert all(frozenset(pair) in planted_pairs for pair in itertools.combinations(stems, 2))


# ------------------------------------------------------------------ command line


def test_main_prints_stats_on_request(tmp_path, capsys):
    main(["--n", "50", "--seed", "5", "--out", str(tmp_path), "--stats"])
    out = capsys.readouterr().out
    assert "seeds: 50" in out and "mean size:" in out and "syndication=" in out


def test_main_writes_a_corpus_and_says_so_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--n", "20", "--seed", "5", "--out", str(out)]) == 0
    assert len(seed_files(out)) == 20 and (out / TRUTH_FILE).exists()
    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        rf"wrote 20 seeds \(\d+\.\d MB, \d+ duplicate groups\) and {TRUTH_FILE} to {out}", line
    )
