"""Merging duplicate related links in a real browser: mouse, `m`, undo and unmerge, without a reload."""

from tests.factories import assert_no_reload, expect, queue_with


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
