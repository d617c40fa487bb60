"""Canned reject reasons: `r` then a digit rejects with that reason; `r`, text and Enter with one's own."""

from tests.factories import assert_no_reload, expect, queue_with


def open_article(page, title):
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(title)
    # Decisions wait a moment after a panel opens (the double-click guard).
    expect(panel.get_by_role("button", name="Reject", exact=True)).to_be_enabled()
    return row, panel


def test_r_then_a_digit_rejects_with_that_listed_reason(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, panel = open_article(page, title)
    page.keyboard.press("r")
    expect(panel.get_by_label("Reason", exact=True)).to_be_focused()
    expect(panel.locator("form.reject-form")).to_contain_text("3 paywalled")
    page.keyboard.press("3")
    expect(panel.locator(".moderation .status")).to_have_text("Rejected")
    expect(panel.locator(".moderation .reason")).to_have_text("Reason: paywalled")
    expect(row.locator(".status")).to_have_text("Rejected")
    assert_no_reload(page)


def test_r_then_typed_text_and_enter_rejects_with_that_text(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, panel = open_article(page, title)
    page.keyboard.press("r")
    # Digits typed after other text are text.
    page.keyboard.type("press release 2")
    page.keyboard.press("Enter")
    expect(panel.locator(".moderation .reason")).to_have_text("Reason: press release 2")
    expect(row.locator(".status")).to_have_text("Rejected")
    assert_no_reload(page)


def test_r_then_enter_rejects_without_a_reason_and_escape_cancels(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, panel = open_article(page, title)
    page.keyboard.press("r")
    page.keyboard.press("Escape")
    expect(panel.get_by_label("Reason", exact=True)).not_to_be_focused()
    page.keyboard.press("1")
    expect(panel.locator(".moderation .status")).to_have_text("Pending")
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    expect(panel.locator(".moderation .status")).to_have_text("Rejected")
    expect(panel.locator(".moderation .reason")).to_have_count(0)
    assert_no_reload(page)


def test_a_listed_reason_with_the_mouse_and_a_note(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, panel = open_article(page, title)
    panel.get_by_label("Listed reason").select_option("outdated")
    panel.get_by_label("Reason", exact=True).fill("from 2019")
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.locator(".moderation .reason")).to_have_text("Reason: outdated: from 2019")
    assert_no_reload(page)


def test_the_shortcuts_dialog_lists_the_reasons_keys(logged_in_page):
    page = logged_in_page("maria")
    page.goto("/")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("then 1–9")
