"""Duplicate related links: headline keys and suggestion groups (test_seed_import: what is stored)."""

import pytest

from tests.factories import REAL_SEED, ROOT
from webapp.formats import duplicates
from webapp.formats.duplicates import SAME_HEADLINE, SAME_URL, LinkFields, related_suggestions
from webapp.formats.headlines import headline_key, headline_profile, near_headline_score
from webapp.formats.seeds import parse

PAIRS = ROOT / "tests" / "data" / "headline_pairs.tsv"


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


SYLLABLES = "ka lo mi ra te vu sen dor pal".split()


def similar_links(count: int) -> list[LinkFields]:
    """`count` entries whose headlines are all near each other, with no URL or headline in common."""
    endings = [a + b + c + d for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES for d in SYLLABLES]
    return [
        LinkFields(
            position,
            f"Harbor council approves new budget for city parks amid {endings[position % len(endings)]}",
            f"https://news{position}.example/s/{position}",
        )
        for position in range(count)
    ]


def counting_scores(monkeypatch) -> list:
    """Count the near-headline scores related_suggestions computes."""
    calls = []
    score = duplicates.near_headline_score
    monkeypatch.setattr(duplicates, "near_headline_score", lambda *pair: calls.append(pair) or score(*pair))
    return calls


def test_a_long_list_of_similar_headlines_is_grouped_with_bounded_work(monkeypatch):
    calls = counting_scores(monkeypatch)
    suggestions = related_suggestions(similar_links(3000))
    # Every pair is near: comparing them all was 4.5 million scores and as many groups.
    assert 3000 <= len(calls) <= duplicates.MAX_COMPARISONS
    assert 0 < len(suggestions) <= duplicates.MAX_GROUPS
    assert all(2 <= len(s.positions) <= duplicates.MAX_GROUP_SIZE for s in suggestions)
    assert suggestions == sorted(suggestions, key=lambda s: s.positions)


def test_candidate_pairs_are_bounded_however_alike_the_headlines():
    contents = [frozenset({"harbor", "council", "budget", "park", f"word{index}"}) for index in range(20_000)]
    pairs = duplicates.candidate_pairs(contents)
    assert len(pairs) <= max(duplicates.MAX_COMPARISONS, len(contents))
    assert all(earlier < later for earlier, later in pairs)


def test_one_url_repeated_thousands_of_times_makes_groups_of_bounded_size():
    links = [
        LinkFields(p, f"Headline number {p} of the day", "https://example.com/same") for p in range(5000)
    ]
    suggestions = related_suggestions(links)
    assert len(suggestions) == duplicates.MAX_GROUPS
    assert all(len(s.positions) == duplicates.MAX_GROUP_SIZE and s.reason == SAME_URL for s in suggestions)
    assert suggestions[0].positions == tuple(range(duplicates.MAX_GROUP_SIZE))


def test_short_lists_are_compared_in_full(monkeypatch):
    calls = counting_scores(monkeypatch)
    related_suggestions(similar_links(100))
    assert len(calls) == 100 * 99 // 2


def all_near_pairs(links: list[LinkFields]) -> set[tuple[int, int]]:
    profiles = [(link.position, headline_profile(link.title)) for link in links]
    profiles = [(position, profile) for position, profile in profiles if profile]
    return {
        (first, second)
        for index, (first, one) in enumerate(profiles)
        for second, other in profiles[index + 1 :]
        if near_headline_score(one, other) is not None
    }


def candidate_positions(links: list[LinkFields]) -> set[tuple[int, int]]:
    profiles = [(link.position, headline_profile(link.title)) for link in links]
    profiles = [(position, profile) for position, profile in profiles if profile]
    pairs = duplicates.candidate_pairs([profile.content for _, profile in profiles])
    return {(profiles[first][0], profiles[second][0]) for first, second in pairs}


def test_the_rare_word_blocking_loses_no_near_pair_of_the_labelled_pairs():
    rows = [line.split("\t") for line in PAIRS.read_text(encoding="utf-8").splitlines()[1:] if line]
    near = 0
    for row in rows:
        links = [LinkFields(0, row[1], None), LinkFields(1, row[2], None)]
        if all_near_pairs(links):
            near += 1
            assert candidate_positions(links) == {(0, 1)}, row[1:3]
    assert near >= 50


def test_the_rare_word_blocking_loses_no_near_pair_of_the_real_corpus(shared):
    for path in sorted((shared / "real-seeds").iterdir()):
        links = links_of(parse(path.read_text(encoding="utf-8")))
        assert all_near_pairs(links) <= candidate_positions(links), path.name
