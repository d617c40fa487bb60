"""The labelled story pairs (tests/data/story_pairs.tsv) and the "possible duplicate" rule on them."""

import pytest

from bench import story_pairs
from bench.story_pairs import PAIRS, choose, evaluate, halves, is_issue_example, read_pairs, score, sweep
from tests.factories import SHARED
from webapp.formats import stories

# Issue 16's targets, kept on the whole set and on each half (python -m bench.story_pairs prints
# the figures).
PRECISION_FLOOR, RECALL_FLOOR = 0.95, 0.90


@pytest.fixture(scope="module")
def evaluated():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a fresh clone): the labelled pairs need the real corpus")
    return evaluate(PAIRS, SHARED / "real-seeds")


def test_the_labelled_set_states_its_rule_and_labels_every_pair_once():
    header = PAIRS.read_text(encoding="utf-8").split("\nlabel\t")[0]
    assert "the same event reported by different outlets" in header
    pairs = read_pairs()
    assert len(pairs) == 185
    assert len({frozenset((p.id_a, p.id_b)) for p in pairs}) == len(pairs)
    assert {p.source for p in pairs} == {"real", "generated"}
    assert all(p.reason and p.id_a != p.id_b for p in pairs)
    halves_ = halves(pairs)
    assert abs(len(halves_["tuning (even)"]) - len(halves_["held out (odd)"])) <= 1


def test_a_bad_label_is_refused_with_its_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text(
        "# rule\nlabel\tsource\tid_a\tid_b\ttitle_a\ttitle_b\treason\nmaybe\treal\ta\tb\tA\tB\twhy\n"
    )
    with pytest.raises(ValueError, match="data line 0: label 'maybe'"):
        read_pairs(path)


def test_the_labelled_pairs_are_exactly_the_pairs_the_index_links(evaluated):
    assert [p for p in evaluated.pairs if not p.links] == []
    assert evaluated.unlabelled == {}


def test_possible_duplicate_keeps_its_floors_on_both_halves(evaluated):
    table = evaluated.table
    rule = table["possible duplicate (the rule, as imported)"]
    for half, measure in rule.items():
        assert measure.precision >= PRECISION_FLOOR, (half, str(measure))
        assert measure.recall >= RECALL_FLOOR, (half, str(measure))
    old_rule = table["related entry alone (the old rule)"]["whole set"]
    assert old_rule.precision < 0.7  # what the issue is about: a related list is a topic


def test_the_modules_constants_are_the_setting_the_sweep_chooses(evaluated):
    (window, overlap, share), tuning, _, examples_flagged = choose(sweep(evaluated.pairs))
    assert (window, overlap, share) == (
        stories.STORY_WINDOW.total_seconds() / 3600,
        stories.MIN_WORD_OVERLAP,
        stories.TOPIC_SHARE,
    )
    assert tuning.precision >= story_pairs.PRECISION_FLOOR and examples_flagged == 0


def test_the_issues_examples_are_login_gov_against_the_police_and_the_stores_piece_against_scotland_yard():
    examples = [p for p in read_pairs() if is_issue_example(p)]
    assert len(examples) == 19
    assert all(not p.same for p in examples)
    assert {p.tuning for p in examples} == {True, False}


def test_a_setting_that_flags_an_issue_example_is_never_chosen(evaluated):
    results = sweep(evaluated.pairs)
    flagging = [r for r in results if r[3]]
    assert flagging  # a loose setting flags them: the constraint decides something
    chosen = choose(results)
    assert chosen not in flagging
    better_but_flagging = [r for r in flagging if r[1].recall > chosen[1].recall and r[1].precision >= 0.97]
    assert better_but_flagging  # what the constraint excludes: overlap 25 % flags Login.gov, Scotland Yard


def test_score_counts_flags_against_labels():
    pairs = read_pairs()[:4]
    measure = score(pairs, lambda pair: True)
    assert measure.true_positives + measure.false_positives == 4
    assert measure.false_negatives == 0 and measure.recall == 1.0
