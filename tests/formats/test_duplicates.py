"""Duplicate related links: headline keys and suggestion groups (test_seed_import: what is stored)."""

import pytest

from tests.factories import REAL_SEED
from webapp.formats.duplicates import SAME_HEADLINE, SAME_URL, LinkFields, related_suggestions
from webapp.formats.headlines import headline_key
from webapp.formats.seeds import parse


def links_of(seed) -> list[LinkFields]:
    return [
        LinkFields(position, entry.title, entry.web_url, entry.amp_web_url, entry.cdn_amp_web_url)
        for position, entry in enumerate(seed.related or ())
    ]


@pytest.mark.parametrize(
    "first, second, same",
    [
        ("Login.gov to add facial recognition tech", "Login.gov to add facial recognition tech", True),
        ("London’s police “roll out” cameras — again", 'London\'s police "roll out" cameras - again', True),
        ("ＦＵＬＬ width headline words", "full width headline words", True),
        ("Met Police  roll out   facial recognition!", "met police roll out facial recognition", True),
        ("Met Police roll out facial recognition", "Met Police roll out facial recognition tech", False),
        ("Police roll out cameras", "Police roll back cameras", False),
    ],
)
def test_headline_keys(first, second, same):
    assert (headline_key(first) == headline_key(second)) is same


@pytest.mark.parametrize(
    "generic",
    [
        "Morning briefing",
        "The news",
        "Live: updates",
        "Watch",
        "What we know",
        "Morning briefing: Monday's news",
    ],
)
def test_generic_headlines_have_no_key(generic):
    assert headline_key(generic) is None


def test_real_seed_suggests_only_the_login_gov_pair():
    [suggestion] = related_suggestions(links_of(parse(REAL_SEED.read_text(encoding="utf-8"))))
    assert suggestion.positions == (2, 3) and suggestion.reason == SAME_HEADLINE


def test_url_variants_group_and_name_the_strongest_reason():
    links = [
        LinkFields(
            0, "Police roll out cameras across London", "https://www.example.com/story?utm_source=rss"
        ),
        LinkFields(1, "A different headline about it", "http://example.com/story/"),
        LinkFields(2, "Police roll out cameras across London", "https://other.example/copy"),
        LinkFields(
            3,
            "Unrelated story about budgets",
            "https://third.example/a",
            amp_web_url="https://third.example/a.amp",
        ),
        LinkFields(
            4,
            "Budget row deepens in parliament",
            "https://third-cdn.example/x",
            cdn_amp_web_url="https://third-example.cdn.ampproject.org/c/s/third.example/a",
        ),
    ]
    suggestions = related_suggestions(links)
    assert [(s.positions, s.reason) for s in suggestions] == [((0, 1, 2), SAME_URL), ((3, 4), SAME_URL)]


def test_real_corpus_same_headline_pairs_are_suggested_and_different_articles_are_not(shared):
    checked = 0
    for path in sorted((shared / "real-seeds").iterdir()):
        seed = parse(path.read_text(encoding="utf-8"))
        links = links_of(seed)
        # The exact signals' groups only: near-headline suggestions are tested in test_near_headlines.py.
        exact = [s for s in related_suggestions(links) if s.reason in (SAME_URL, SAME_HEADLINE)]
        grouped = {p: s.positions for s in exact for p in s.positions}
        for first in links:
            for second in links[first.position + 1 :]:
                same_title = " ".join(first.title.casefold().split()) == " ".join(
                    second.title.casefold().split()
                )
                if same_title and headline_key(first.title):
                    checked += 1
                    assert second.position in grouped.get(first.position, ()), (path.name, first.title)
                if (
                    not same_title
                    and first.web_url != second.web_url
                    and second.position in grouped.get(first.position, ())
                ):
                    # A group without equal titles must come from URLs that canonicalise alike.
                    assert {s.reason for s in related_suggestions([first, second])} == {SAME_URL}, (
                        path.name,
                        first.title,
                        second.title,
                    )
    assert checked >= 3
