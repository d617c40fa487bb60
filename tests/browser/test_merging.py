"""Merging duplicate related links in a real browser: mouse, `m`, undo and unmerge, without a reload."""

import re
import uuid

from bench.big_seed import big_seed_text
from tests.factories import assert_no_reload, expect, queue_with
from webapp.services.merging import PANEL_ENTRIES, PANEL_GROUPS


def open_panel(page, title):
    queue_with(page, title)
    page.locator("#queue-rows a[data-open]", has_text=title).click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(title)
    return panel


def test_merge_with_the_mouse_then_unmerge(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    panel = open_panel(page, title)
    suggestion = panel.locator("form.suggestion")
    expect(suggestion).to_contain_text("Entries 3 and 4 look like one article: same headline")
    expect(suggestion.locator("tbody tr")).to_have_count(2)
    expect(suggestion.get_by_label("Keep entry 3")).to_be_checked()
    suggestion.get_by_role("button", name="Merge", exact=True).click()
    expect(panel.get_by_role("heading", level=3, name="Related coverage (6, 1 merged)")).to_be_visible()
    expect(panel.locator("form.suggestion")).to_have_count(0)
    row = page.locator("#queue-rows tr.row", has_text=title)
    expect(row.locator("td").nth(7)).to_have_text("6")
    expect(row.locator("td").nth(8)).to_have_text("0")

    panel.locator("details.merged summary").click()
    expect(panel.locator("details.merged")).to_contain_text("Government Executive")
    panel.get_by_role("button", name="Unmerge").click()
    expect(panel.get_by_role("heading", level=3, name="Related coverage (7)")).to_be_visible()
    expect(panel.locator("form.suggestion")).to_have_count(1)
    expect(row.locator("td").nth(8)).to_have_text("1")
    # The moderation block follows: approving after a merge and an unmerge is no conflict.
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(panel.locator(".status")).to_have_text("Approved")
    assert_no_reload(page)


def test_merge_with_m_and_undo_with_u(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    panel = open_panel(page, title)
    expect(panel.locator("form.suggestion")).to_have_count(1)
    page.keyboard.press("m")
    expect(panel.get_by_role("heading", level=3, name="Related coverage (6, 1 merged)")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text(f"Merged related links on “{title}”.")
    page.keyboard.press("u")
    expect(panel.get_by_role("heading", level=3, name="Related coverage (7)")).to_be_visible()
    expect(panel.locator("form.suggestion")).to_have_count(1)
    assert_no_reload(page)


def test_merge_entries_by_hand(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    panel = open_panel(page, title)
    panel.get_by_label("Select entry 1 to merge").check()
    panel.get_by_label("Select entry 2 to merge").check()
    panel.get_by_role("button", name="Merge selected").click()
    expect(panel.get_by_role("heading", level=3, name="Related coverage (6, 1 merged)")).to_be_visible()
    # Fox News (quality 78) is kept over PoliticsHome (39).
    expect(panel.locator("ol.related > li").first).to_contain_text("1 merged here: PoliticsHome")
    assert_no_reload(page)


def test_show_more_loads_the_next_groups_and_entries_in_place(logged_in_page, import_seed):
    title = f"Story {uuid.uuid4().hex[:10]}"
    report = import_seed(big_seed_text(400, max_bytes=120_000, title=title))
    assert report["imported"] == 1, report
    page = logged_in_page("maria")
    panel = open_panel(page, title)
    groups = panel.locator("form.suggestion")
    expect(groups).to_have_count(PANEL_GROUPS)
    first = groups.first.get_attribute("aria-labelledby")
    panel.get_by_role("link", name="Show more suggestions").click()
    expect(groups).to_have_count(2 * PANEL_GROUPS)
    assert groups.first.get_attribute("aria-labelledby") == first
    entries = panel.locator("ol.related > li[id^=related-link-]")
    expect(entries).to_have_count(PANEL_ENTRIES)
    panel.get_by_role("link", name="Show more entries").click()
    expect(entries).to_have_count(2 * PANEL_ENTRIES)
    expect(panel.get_by_role("link", name="Show more entries")).to_have_count(1)
    # A group loaded by Show more merges like the first ones.
    groups.nth(PANEL_GROUPS).get_by_role("button", name="Merge", exact=True).click()
    expect(
        panel.get_by_role("heading", level=3, name=re.compile(r"Related coverage \(\d+, \d+ merged\)"))
    ).to_be_visible()
    assert_no_reload(page)


def test_after_saving_heat_and_approving_a_merge_in_the_panel_is_no_conflict(logged_in_page, story):
    """The related list is not sent again after a change in the moderation block: its forms send the
    version that block shows (static/js/app.js)."""
    title = story()
    page = logged_in_page("maria")
    panel = open_panel(page, title)
    heat = panel.get_by_label("Heat", exact=True)
    heat.fill("30")
    heat.press("Enter")
    expect(panel.locator(".heat-value")).to_have_text("30")
    panel.get_by_label("Select entry 1 to merge").check()
    panel.get_by_label("Select entry 2 to merge").check()
    panel.get_by_role("button", name="Merge selected").click()
    expect(panel.get_by_role("heading", level=3, name="Related coverage (6, 1 merged)")).to_be_visible()
    expect(panel.locator(".conflict")).to_have_count(0)
    # And once more after a second save, now on the panel the merge brought back.
    heat.fill("31")
    heat.press("Enter")
    expect(panel.locator(".heat-value")).to_have_text("31")
    panel.locator("form.suggestion").get_by_role("button", name="Merge", exact=True).click()
    expect(panel.get_by_role("heading", level=3, name="Related coverage (5, 2 merged)")).to_be_visible()
    expect(panel.locator(".conflict")).to_have_count(0)
    assert_no_reload(page)
