"""The search box's syntax: words, "phrases" and prefix*, as FTS5 and tsquery with every word quoted."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.formats.search_query import SearchQueryError, Term, parse


def test_words_phrases_and_prefixes():
    query = parse('Election "night owls" elect* covid-19')
    assert query.terms == (
        Term(("election",)),
        Term(("night", "owls")),
        Term(("elect",), prefix=True),
        Term(("covid", "19")),  # joined by punctuation: a phrase, as the databases' tokenizers read it
    )
    assert query.fts5() == '"election" "night owls" "elect"* "covid 19"'
    assert query.tsquery() == "('election') & ('night' <-> 'owls') & ('elect':*) & ('covid' <-> '19')"


def test_a_quoted_phrase_can_end_in_a_prefix():
    assert parse('"night ow"*').terms == (Term(("night", "ow"), prefix=True),)


@pytest.mark.parametrize(
    "text, message",
    [
        ('"election night', "a double quote is not closed"),
        ('""', '"" holds no word'),
        ("--- !!", "holds no word to search for"),
        ("el*ect", "* goes at the end of a word"),
        ("*", "* goes at the end of a word"),
        ("e*", "e* is too short a prefix"),
        (" ".join(f"w{i}" for i in range(11)), "at most 10 words or phrases, not 11"),
    ],
)
def test_a_query_that_cannot_run_says_why(text, message):
    with pytest.raises(SearchQueryError, match="^Search: .*" + message.replace("*", r"\*")):
        parse(text)


def test_the_databases_operators_are_plain_words():
    query = parse("NEAR(a b) title:robots x OR y ^start a&b|c !d <->")
    assert query.fts5() == '"near a" "b" "title robots" "x" "or" "y" "start" "a b c" "d"'


@given(st.text(max_size=60))
def test_any_text_is_refused_or_quoted_word_by_word(text):
    try:
        query = parse(text)
    except SearchQueryError:
        return
    for term in query.terms:
        for word in term.words:
            assert word and all(char.isalnum() for char in word) and word == word.lower()
    assert query.fts5().count('"') == 2 * len(query.terms)


def test_marked_cuts_the_text_at_matching_words_in_any_case_and_accent():
    query = parse('elect* "night owl" cafe')
    assert query.marked("Électeurs at NIGHT, <b>owl</b> in Café selection") == (
        ("Électeurs", True),
        (" at ", False),
        ("NIGHT", True),
        (", <b>", False),
        ("owl", True),
        ("</b> in ", False),
        ("Café", True),
        (" selection", False),
    )
    assert query.marked("no match") == (("no match", False),)
