"""The exported seed text: the seed's own text with only moderation's changes, never lossy."""

import difflib
from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import REAL_SEED, seed_mappings
from webapp.formats import seed_writer
from webapp.formats.seed_writer import MERGED_KEY, Moderation, double_quoted, exported_seed
from webapp.formats.seeds import load_front_matter, parse, split_front_matter

APPROVED_AT = datetime(2026, 11, 29, 16, 5, 30, tzinfo=UTC)
MODERATION = Moderation("maria", APPROVED_AT, 7)
MODERATION_LINES = {
    "copydesk:",
    '  approvedBy: "maria"',
    "  approvedAt: 2026-11-29T16:05:30Z",
    "  exportRun: 7",
}


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [line[2:] for line in diff if line.startswith("- ")], [
        line[2:] for line in diff if line.startswith("+ ")
    ]


def assert_only_moderation_changed(before: str, after: str, heat: int) -> None:
    removed, added = changed_lines(before, after)
    assert all(line.startswith(("heat:", "published:")) for line in removed), removed
    allowed = MODERATION_LINES | {f"heat: {heat}", "published: true", ""}
    assert set(added) <= allowed, set(added) - allowed


@pytest.fixture
def no_fallback(monkeypatch):
    def refuse(mapping):
        raise AssertionError("the text edit failed and the whole document was written from values")

    monkeypatch.setattr(seed_writer, "dump_mapping", refuse)


def test_real_seed_differs_only_in_published_heat_and_the_moderation_key(no_fallback):
    text = REAL_SEED.read_text(encoding="utf-8")
    exported = exported_seed(text, heat=120, moderation=MODERATION)
    assert_only_moderation_changed(text, exported, 120)
    removed, added = changed_lines(text, exported)
    assert removed == ["heat: -1", "published: false"]
    assert added[:2] == ["heat: 120", "published: true"]
    seed, original = parse(exported), parse(text)
    assert (seed.heat, seed.published) == (120, True)
    assert seed.secured == original.secured and seed.body == original.body == "\n"
    assert "publishedDateTime: 2023-10-19T13:22:00Z" in exported
    assert "London’s shoplifting" in exported and "\\u2019" not in exported


def test_every_real_corpus_seed_differs_only_in_published_heat_and_the_moderation_key(shared, no_fallback):
    files = sorted(path for path in (shared / "real-seeds").iterdir() if path.suffix in (".md", ".txt"))
    assert len(files) > 50
    for path in files:
        text = path.read_bytes().decode("utf-8")
        exported = exported_seed(text, heat=150, moderation=MODERATION)
        assert_only_moderation_changed(text, exported, 150)
        original, seed = parse(text), parse(exported)
        assert seed.secured == original.secured and seed.body == original.body, path.name
        assert seed.extra == original.extra, path.name
        unmoderated = lambda keys: [key for key in keys if key not in ("heat", "published")]  # noqa: E731
        assert unmoderated(seed.key_order) == unmoderated(original.key_order), path.name


def test_missing_heat_and_published_lines_are_added_after_quality(no_fallback):
    text = '---\ncategory: news\ntitle: "T"\nquality: 5\n\nprovider:\n  name: P\n---\nbody\n'
    exported = exported_seed(text, heat=42, moderation=MODERATION)
    assert exported.startswith(
        '---\ncategory: news\ntitle: "T"\nquality: 5\nheat: 42\npublished: true\n\nprovider:'
    )
    assert exported.endswith("---\nbody\n")


def test_unset_heat_is_not_added_and_published_goes_after_the_last_scalar(no_fallback):
    text = '---\ncategory: news\ntitle: "T"\nprovider:\n  name: P\n---\n'
    exported = exported_seed(text, heat=-1, moderation=MODERATION)
    front, _ = split_front_matter(exported)
    assert list(load_front_matter(front)) == ["category", "title", "published", "provider", "copydesk"]


def test_bom_crlf_and_body_come_out_as_they_came_in(no_fallback):
    text = (
        '\ufeff---\r\ncategory: news\r\ntitle: "Ünïcode ’quotes’"\r\nheat: 3\r\npublished: false\r\n'
        "---\r\n# Body\r\n\r\nText.\r\n"
    )
    exported = exported_seed(text, heat=9, moderation=MODERATION)
    assert exported.startswith(
        '\ufeff---\r\ncategory: news\r\ntitle: "Ünïcode ’quotes’"\r\nheat: 9\r\npublished: true\r\n'
    )
    assert exported.endswith("  exportRun: 7\r\n---\r\n# Body\r\n\r\nText.\r\n")
    assert "\n" not in exported.replace("\r\n", "")


def test_an_earlier_moderation_key_is_replaced_not_repeated(no_fallback):
    first = exported_seed(
        REAL_SEED.read_text(encoding="utf-8"), heat=10, moderation=Moderation("ana", APPROVED_AT, 1)
    )
    second = exported_seed(first, heat=11, moderation=MODERATION)
    assert second.count("copydesk:") == 1 and '  approvedBy: "maria"' in second and "ana" not in second
    assert_only_moderation_changed(REAL_SEED.read_text(encoding="utf-8"), second, 11)


def test_same_input_gives_the_same_bytes():
    text = REAL_SEED.read_text(encoding="utf-8")
    assert exported_seed(text, heat=5, moderation=MODERATION) == exported_seed(
        text, heat=5, moderation=MODERATION
    )


def test_merged_related_entries_move_whole_under_the_canonical_one(no_fallback):
    text = REAL_SEED.read_text(encoding="utf-8")
    original = load_front_matter(split_front_matter(text)[0])
    exported = exported_seed(text, heat=5, moderation=MODERATION, merges={2: [3]})
    related = load_front_matter(split_front_matter(exported)[0])["related"]
    assert len(related) == len(original["related"]) - 1
    assert related[2][MERGED_KEY] == [original["related"][3]]
    assert related[3] == original["related"][4]
    urls = {entry["webUrl"] for entry in related} | {
        m["webUrl"] for e in related for m in e.get(MERGED_KEY, [])
    }
    assert urls == {entry["webUrl"] for entry in original["related"]}


def test_merges_of_several_groups_keep_every_entry(no_fallback):
    text = REAL_SEED.read_text(encoding="utf-8")
    original = load_front_matter(split_front_matter(text)[0])["related"]
    exported = exported_seed(text, heat=5, moderation=MODERATION, merges={4: [0, 6], 1: [5]})
    related = load_front_matter(split_front_matter(exported)[0])["related"]
    assert [entry["title"] for entry in related] == [original[i]["title"] for i in (1, 2, 3, 4)]
    assert related[0][MERGED_KEY] == [original[5]]
    assert related[3][MERGED_KEY] == [original[0], original[6]]


def test_a_layout_the_editor_cannot_handle_is_written_whole_and_loses_nothing():
    # A flow-style related list has no '-' lines to cut: the fallback writes the values.
    text = (
        '---\ncategory: news\ntitle: "T"\n'
        'related: [{title: "A", webUrl: "https://a.example/1"}, {title: "B", webUrl: "https://b.example/2"}]\n'
        "---\n"
    )
    exported = exported_seed(text, heat=1, moderation=MODERATION, merges={0: [1]})
    mapping = load_front_matter(split_front_matter(exported)[0])
    assert mapping["related"] == [
        {
            "title": "A",
            "webUrl": "https://a.example/1",
            MERGED_KEY: [{"title": "B", "webUrl": "https://b.example/2"}],
        }
    ]
    assert mapping["heat"] == 1 and mapping["published"] is True and mapping["copydesk"]["exportRun"] == 7


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))))
def test_double_quoted_text_reads_back_exactly(value):
    assert yaml.safe_load(f"key: {double_quoted(value)}") == {"key": value}


ADDED = {
    "title": "Shops fear loss of parking near new lanes",
    "publishedDateTime": datetime(2023, 10, 18, 9, 0, tzinfo=UTC),
    "webUrl": "https://shops.example/parking",
    "provider": {"name": "Shops Weekly", "domain": "shops.example"},
    "images": [{"url": "https://shops.example/p.jpg", "width": 400, "height": 300, "isCached": True}],
}


def test_entries_taken_from_a_duplicate_follow_the_seeds_own(no_fallback):
    text = REAL_SEED.read_text(encoding="utf-8")
    exported = exported_seed(text, heat=5, moderation=MODERATION, added={7: ADDED})
    related = load_front_matter(split_front_matter(exported)[0])["related"]
    original = load_front_matter(split_front_matter(text)[0])["related"]
    assert related == original + [ADDED]
    removed, added_lines = changed_lines(text, exported)
    assert removed == ["heat: -1", "published: false"]
    assert "  - title: Shops fear loss of parking near new lanes" in added_lines
    assert "      - url: https://shops.example/p.jpg" in added_lines


def test_a_seed_without_related_gets_the_list(no_fallback):
    text = '---\ncategory: news\ntitle: "T"\nprovider:\n  name: P\n---\n'
    exported = exported_seed(text, heat=5, moderation=MODERATION, added={0: ADDED})
    mapping = load_front_matter(split_front_matter(exported)[0])
    assert list(mapping) == ["category", "title", "heat", "published", "provider", "related", "copydesk"]
    assert mapping["related"] == [ADDED]


def expected_values(text: str, heat: int) -> dict:
    front = split_front_matter(text.removeprefix("\ufeff"))[0]
    return seed_writer._expected_mapping(load_front_matter(front), heat, MODERATION, {}, {})


def test_the_unchecked_plain_edit_reads_back_as_the_values_it_must_hold_on_every_real_seed(shared):
    paths = [REAL_SEED, *sorted(p for p in (shared / "real-seeds").iterdir() if p.suffix in (".md", ".txt"))]
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        front = split_front_matter(text.removeprefix("\ufeff"))[0]
        for heat in (-1, 0, 199):
            plain = seed_writer._plain_edit(front, heat, MODERATION)
            assert plain is not None, path.name
            edited = plain[0]
            assert load_front_matter(edited) == expected_values(text, heat), path.name


@pytest.mark.parametrize(
    "front",
    [
        'category: news\ntitle: "T"\nbody: |+\n  kept\n\n',  # a kept final line break
        '{category: news, title: "T"}\n',  # a flow mapping
        'category: news\nheat: "5"\ntitle: "T"\n',  # heat not a plain scalar
        'category: news\ntitle: "T"\ncopydesk: [1, 2]\n',  # our key in another shape
    ],
)
def test_other_layouts_take_the_checked_edit_and_still_hold_the_right_values(front):
    assert seed_writer._plain_edit(front, 7, MODERATION) is None
    exported = seed_writer.exported_front_matter(front, heat=7, moderation=MODERATION)
    mapping = load_front_matter(exported)
    assert (
        mapping["heat"] == 7
        and mapping["published"] is True
        and mapping["copydesk"] == MODERATION.as_mapping()
    )
    assert mapping.get("body", "kept\n\n") == "kept\n\n"


@settings(max_examples=150, deadline=None)
@given(mapping=seed_mappings, heat=st.integers(-1, 200), width=st.sampled_from([40, 2**31 - 1]))
def test_generated_front_matter_reads_back_right(mapping, heat, width):
    # A narrow width makes PyYAML fold long text over several lines.
    front = yaml.dump(mapping, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False, width=width)
    exported = seed_writer.exported_front_matter(front, heat=heat, moderation=MODERATION)
    expected = seed_writer._expected_mapping(load_front_matter(front), heat, MODERATION, {}, {})
    assert load_front_matter(exported) == expected


SMALL_FRONT = (
    'category: news\ntitle: "T"\npublishedDateTime: 2023-10-19T13:22:00Z\n'
    "webUrl: https://e.example/t\nprovider:\n  name: E\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_empty_heat_and_published_get_their_values_after_a_space(no_fallback, newline):
    # libyaml marks an empty value just after its colon: `heat:` once became `heat:42`.
    text = ("---\n" + SMALL_FRONT + "heat:\npublished:   # not yet\n---\nBody\n").replace("\n", newline)
    exported = exported_seed(text, heat=42, moderation=MODERATION)
    removed, added = changed_lines(text, exported)
    assert removed == ["heat:", "published:   # not yet"]
    assert {"heat: 42", "published: true   # not yet"} <= set(added)
    seed = parse(exported)
    assert (seed.heat, seed.published, seed.body) == (42, True, "Body" + newline)


@pytest.mark.parametrize("file_bom", ["", "\ufeff"])
def test_a_byte_order_mark_after_the_opening_fence_shifts_no_edit(no_fallback, file_bom):
    # libyaml skips the mark without counting it: `heat: 5` once became `heat:1205`.
    text = file_bom + "---\n\ufeff" + SMALL_FRONT + "heat: 5\npublished: false\n---\n"
    exported = exported_seed(text, heat=120, moderation=MODERATION)
    assert exported.startswith(file_bom + "---\n\ufeffcategory: news\n")
    removed, added = changed_lines(text, exported)
    assert removed == ["heat: 5", "published: false"]
    assert {"heat: 120", "published: true"} <= set(added)
    mapping = load_front_matter(split_front_matter(exported.removeprefix("\ufeff"))[0])
    assert (mapping["heat"], mapping["published"], mapping["copydesk"]) == (
        120,
        True,
        MODERATION.as_mapping(),
    )


def test_a_plain_edit_that_reads_back_wrong_is_written_whole_instead(monkeypatch):
    def broken(front_matter, heat, moderation):
        return front_matter + "heat:1205\npublished:truee\n", True

    monkeypatch.setattr(seed_writer, "_plain_edit", broken)
    exported = seed_writer.exported_front_matter(SMALL_FRONT, heat=9, moderation=MODERATION)
    mapping = load_front_matter(exported)
    assert (mapping["heat"], mapping["published"], mapping["copydesk"]) == (9, True, MODERATION.as_mapping())


def test_a_document_that_cannot_be_written_right_raises_rather_than_being_returned(monkeypatch):
    monkeypatch.setattr(seed_writer, "_plain_edit", lambda *args: ("heat: [\n", True))
    monkeypatch.setattr(seed_writer, "dump_mapping", lambda mapping: "heat: 1\n")
    monkeypatch.setattr(seed_writer._FrontMatterEdit, "apply", lambda self: "published: no\n")
    with pytest.raises(seed_writer.ExportCheckError, match="does not read back"):
        seed_writer.exported_front_matter(SMALL_FRONT, heat=9, moderation=MODERATION)
