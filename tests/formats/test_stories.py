"""Same story, or only covered together: the judgement on two articles linked through a related list."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp.formats.stories import (
    COVERED,
    DUPLICATE,
    MAX_REASON,
    RELATED_ENTRY,
    STORY_WINDOW,
    Signals,
    StoryFields,
    headline_names,
    judge,
    judge_related,
    measure,
    same_name,
    shared_names,
    topic_words,
    word_overlap,
)

NOON = datetime(2023, 10, 19, 12, tzinfo=UTC)


def fields(title: str, hours: float = 0, excerpt: str | None = None) -> StoryFields:
    return StoryFields(title, NOON + timedelta(hours=hours), excerpt)


def test_names_are_the_capitalised_words_of_a_sentence_case_headline_with_their_runs():
    cased, names = headline_names("Met Police roll out facial recognition to tackle London’s shoplifting")
    assert cased and names == {"met": ("met", "police"), "police": ("met", "police"), "london": ("london",)}
    # A sentence's lone first word is no name; one followed by a name is ("Belix Bank").
    assert headline_names("Shops fear loss of parking near new lanes") == (True, {})
    assert headline_names("Godfather of AI: Geoffrey Hinton quits Google")[1].keys() == {
        "ai",
        "geoffrey",
        "hinton",
        "google",
    }


def test_a_title_case_headline_has_no_names():
    assert headline_names("Artificial Intelligence That Tracks Down Leukemia Discovered") == (False, {})


def test_shared_names_leave_out_parts_of_two_different_names():
    assert (
        shared_names("Essex Police reassure public in Southend", "Met Police roll out cameras in London")
        == set()
    )
    assert shared_names("AI pioneer Geoffrey Hinton leaves Google", "Geoffrey Hinton quits Google") == {
        "geoffrey",
        "hinton",
        "google",
    }
    # Against Title Case, a name counts when the other headline has the word at all.
    assert shared_names(
        "Geoffrey Hinton quits Google over AI risks", "What Google's Hinton Said About AI Risks"
    ) == {
        "hinton",
        "google",
        "ai",
    }
    assert shared_names("Why Google Matters", "What Google Did Next") == set()


def test_the_lists_topic_is_what_most_of_its_entries_name():
    titles = ["Hinton quits Google", "Hinton warns", "Hinton's fears", "Why Hinton left", "A memo at Google"]
    assert {"hinton"} <= topic_words(titles) and "google" not in topic_words(titles)
    assert topic_words(titles[:2]) == frozenset()  # too short a list to say


def test_word_overlap_counts_shared_stems_and_word_starts():
    assert (
        word_overlap("Police catch shoplifters with cameras", "Cameras help police catch shoplifting") == 0.8
    )
    assert word_overlap("Login.gov to add facial recognition tech", "Bank raises interest rates again") == 0.0


def test_an_entry_naming_the_same_people_within_the_window_is_a_possible_duplicate():
    verdict = judge_related(
        fields("AI pioneer Geoffrey Hinton leaves Google"),
        fields("Geoffrey Hinton quits Google over AI fears", 30),
    )
    assert verdict.kind == DUPLICATE
    assert verdict.reason == (
        f"{RELATED_ENTRY}, shared names (geoffrey, google, hinton), 50% headline words, published 30 h apart"
    )


def test_the_same_entry_outside_the_window_is_only_covered_together():
    window_hours = STORY_WINDOW.total_seconds() / 3600
    entry, covering = (
        fields("AI pioneer Geoffrey Hinton leaves Google"),
        fields("Geoffrey Hinton quits Google"),
    )
    assert judge_related(entry, fields(covering.title, window_hours)).kind == DUPLICATE
    later = judge_related(entry, fields(covering.title, window_hours + 1))
    assert (later.kind, later.reason) == (COVERED, RELATED_ENTRY)


def test_one_topic_with_nothing_else_in_common_is_only_covered_together():
    verdict = judge_related(
        fields("Login.gov to add facial recognition tech"),
        fields("Met Police roll out facial recognition technology to tackle London’s shoplifting", 3),
    )
    assert (verdict.kind, verdict.reason) == (COVERED, RELATED_ENTRY)


def test_names_of_the_lists_topic_do_not_count():
    entries = [
        "Geoffrey Hinton quits",
        "Geoffrey Hinton warns",
        "Geoffrey Hinton explained",
        "Geoffrey Hinton's Google",
    ]
    entry = fields("Why Geoffrey Hinton matters to open source")
    covering = fields("A memo on how Geoffrey Hinton saw the field", 2)
    assert measure(entry, covering).shared_names == ("geoffrey", "hinton")
    assert judge(measure(entry, covering)).kind == DUPLICATE
    topic = measure(entry, covering, entries)
    assert topic.shared_names == () and topic.word_overlap < 0.3
    assert judge(topic).kind == COVERED


def test_names_shared_by_the_excerpts_count_too():
    entry = fields(
        "Scotland Yard to use cameras to nab shoplifters", 0, "The Metropolitan Police asked retailers."
    )
    covering = fields(
        "Game-changing cameras catch prolific thieves", 8, "Officers of the Metropolitan Police said so."
    )
    signals = measure(entry, covering)
    assert signals.excerpt_names == ("metropolitan", "police") and signals.shared_names == ()
    assert judge(signals).kind == DUPLICATE


def test_a_name_matches_its_truncation_but_not_a_shorter_stub_or_another_name():
    assert same_name("met", "metropolitan") and same_name("massachusetts", "mass")
    assert same_name("geoff", "geoffrey") and same_name("police", "police")
    assert not same_name("me", "metropolitan")  # under three letters
    assert not same_name("met", "essex") and not same_name("u.s", "us")
    assert shared_names(
        "Met Police roll out cameras in London", "The Metropolitan Police asked retailers for images."
    ) == {"metropolitan", "police"}
    # Still two different runs: "Met Police" is not "Essex Police".
    assert (
        shared_names("Met Police roll out cameras", "For the first time Essex Police will use them.") == set()
    )


def test_days_and_months_are_no_names():
    assert headline_names("Lumora Group to ban free school meals by January")[1].keys() == {"lumora", "group"}
    assert shared_names("Wexlyx AI will pause by January", "Lumora Group acts in January") == set()


def test_a_name_in_one_headline_and_the_others_excerpt_counts():
    entry = fields(
        "Scotland Yard to use cameras to nab shoplifters",
        0,
        "Scotland Yard announced plans; the city's Metropolitan Police force said so.",
    )
    covering = fields("Met Police reveal a crackdown on thieves", 1, "Hundreds of thieves are identified.")
    signals = measure(entry, covering)
    assert signals.shared_names == () and signals.excerpt_names == ()
    assert signals.cross_names == ("metropolitan", "police")
    verdict = judge(signals)
    assert verdict.kind == DUPLICATE and "shared names (metropolitan, police)" in verdict.reason
    # Beyond the window the names alone say nothing.
    later = fields(covering.title, STORY_WINDOW.total_seconds() / 3600 + 1, covering.excerpt)
    assert judge(measure(entry, later)).kind == COVERED


def test_a_crossed_name_of_the_lists_topic_or_its_truncation_does_not_count():
    entries = ["Met Police act", "Met Police again", "Met Police said", "The Met Police's plan"]
    entry = fields("Scotland Yard acts", 0, "The Metropolitan Police said so.")
    covering = fields("Met Police reveal a crackdown on thieves", 1)
    assert measure(entry, covering).cross_names == ("metropolitan", "police")
    assert measure(entry, covering, entries).cross_names == ()


@pytest.mark.parametrize("hours", [0, 500])
def test_a_near_headline_is_a_possible_duplicate_at_any_distance(hours):
    verdict = judge_related(
        fields("Council says it will close three libraries to save money"),
        fields("Council will close three libraries to save money, it says", hours),
    )
    assert verdict.kind == DUPLICATE and "similar headline (" in verdict.reason


def test_an_unknown_date_keeps_only_the_near_headline_signal():
    entry = StoryFields("AI pioneer Geoffrey Hinton leaves Google", None)
    assert judge_related(entry, fields("Geoffrey Hinton quits Google")).kind == COVERED


def test_a_reason_fits_its_column():
    names = tuple(f"name{index}" for index in range(80))
    verdict = judge(Signals(None, names, (), 0.0, 1.0))
    assert verdict.kind == DUPLICATE and len(verdict.reason) == MAX_REASON and verdict.reason.endswith("…")
