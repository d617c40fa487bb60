"""The queue in a real browser: partial updates only, keyboard, heat, conflicts between two moderators,
hostile text."""

import re
import uuid

import pytest

from tests.factories import assert_no_reload, expect, queue_with, real_seed_titled, screenshots


def test_approve_with_the_mouse_swaps_only_row_and_panel(logged_in_page, story):
    # An outlet of their own: other tests' pending stories listed below would open next (open_next).
    outlet = f"Outlet {uuid.uuid4().hex[:8]}"
    for _ in range(2):
        story(**{"Business Matters": outlet})
    page = logged_in_page("maria")
    page.goto(f"/?status=all&provider={outlet}")
    page.evaluate("window.copydeskMarker = 'still here'")
    # The one listed last: no pending row below it for the panel to move on to.
    first = page.locator("#queue-rows tr.row").nth(1).locator("a[data-open]").inner_text()
    second = page.locator("#queue-rows tr.row").nth(0).locator("a[data-open]").inner_text()
    other_row = page.locator("#queue-rows tr.row", has_text=second)
    other_before = other_row.evaluate("row => row.outerHTML")
    page.locator("#queue-rows a[data-open]", has_text=first).click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(first)
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(panel.locator(".status")).to_have_text("Approved")
    expect(page.locator("#queue-rows tr.row", has_text=first).locator(".status")).to_have_text("Approved")
    expect(page.locator("#notice")).to_contain_text(f"Approved “{first}”.")
    assert other_row.evaluate("row => row.outerHTML") == other_before
    assert_no_reload(page)


def test_approve_with_the_keyboard_moves_on_to_the_next_pending(logged_in_page, story):
    titles = [story() for _ in range(2)]
    page = logged_in_page("maria")
    page.goto("/?q=Story")
    page.evaluate("window.copydeskMarker = 'still here'")
    rows = page.locator("#queue-rows tr.row")
    page.keyboard.press("j")
    focused_title = rows.first.locator("a[data-open]").inner_text()
    expect(rows.first).to_be_focused()
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    expect(rows.nth(1)).to_be_focused()
    assert focused_title in titles or focused_title.startswith("Story")
    # The notice may still offer the previous test's change (same user, within the undo window).
    expect(page.locator("#notice")).to_contain_text(f"Approved “{focused_title}”.")
    page.keyboard.press("u")
    expect(rows.first.locator(".status")).to_have_text("Pending")
    assert page.evaluate("location.pathname") == "/"
    assert_no_reload(page)


def test_undo_from_the_notice_puts_row_and_panel_back(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    panel = page.locator("#panel")
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(row.locator(".status")).to_have_text("Approved")
    # Until the notice has caught up it may offer the previous test's change (same user, within the window).
    expect(page.locator("#notice")).to_contain_text(f"Approved “{title}”.")
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect(row.locator(".status")).to_have_text("Pending")
    expect(panel.locator(".moderation .status")).to_have_text("Pending")
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_visible()
    assert_no_reload(page)


def test_shortcuts_never_fire_while_typing(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row = queue_with(page, title)
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type(title + "ar")
    expect(page.locator("#q")).to_have_value(title + "ar")
    expect(row.locator(".status")).to_have_text("Pending")
    page.locator("#q").fill(title)
    row.focus()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()


def test_heat_is_saved_on_change_and_bad_heat_is_explained(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    heat = page.get_by_label("Heat", exact=True)
    heat.fill("150")
    heat.press("Tab")
    expect(page.locator("#panel .heat-value")).to_have_text("150")
    expect(row.locator("td").nth(5)).to_have_text("150")
    heat = page.get_by_label("Heat", exact=True)
    heat.fill("500")
    heat.press("Tab")
    expect(page.locator("#panel form.heat .error")).to_have_text(
        re.compile("Heat must be a whole number from 0 to 200; 500 is too high")
    )
    expect(page.get_by_label("Heat", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(row.locator("td").nth(5)).to_have_text("150")
    assert_no_reload(page)


def test_two_moderators_reach_a_conflict_and_the_second_sees_the_current_state(logged_in_page, story):
    title = story()
    maria, lee = logged_in_page("maria"), logged_in_page("lee")
    for page in (maria, lee):
        queue_with(page, title).locator("a[data-open]").click()
        expect(page.locator("#panel h2")).to_have_text(title)
    maria.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(maria.locator("#panel .status")).to_have_text("Approved")
    questions = []
    lee.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    lee.locator("#panel").get_by_role("button", name="Reject", exact=True).click()
    expect(lee.locator("#panel .conflict")).to_contain_text("approved by maria")
    expect(lee.locator("#panel .status")).to_have_text("Approved")
    assert questions in ([], ["maria is reviewing this article. Go ahead anyway?"])
    assert_no_reload(lee)


def test_another_moderators_decision_appears_in_place_without_reload(logged_in_page, story):
    title = story()
    lee = logged_in_page("lee")
    row = queue_with(lee, title)
    maria = logged_in_page("maria")
    queue_with(maria, title).focus()
    maria.keyboard.press("a")
    expect(maria.locator("#queue-rows tr.row", has_text=title).locator(".status")).to_have_text("Approved")
    expect(row.locator(".status")).to_have_text("Approved", timeout=5000)
    expect(row.locator(".by")).to_have_text("by maria")
    assert_no_reload(lee)


def test_hostile_seed_runs_no_script(logged_in_page, import_seed):
    marker = uuid.uuid4().hex[:8]
    hostile = real_seed_titled(
        f"<script>window.pwned=1</script>{marker}",
        **{
            "Britain's biggest police force": (
                "<img src=x onerror=window.pwned=2> Britain's biggest police force"
            ),
            "name: Business Matters": 'name: "<svg onload=window.pwned=3>"',
            "  - AI\n": '  - "<b onmouseover=window.pwned=4>AI</b>"\n',
        },
    )
    assert import_seed(hostile)["imported"] == 1
    page = logged_in_page("maria")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    row = queue_with(page, marker)
    expect(row).to_contain_text(f"<script>window.pwned=1</script>{marker}")
    row.locator("a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel.locator(".excerpt")).to_contain_text("<img src=x onerror=window.pwned=2>")
    expect(panel.locator(".meta").first).to_contain_text("<svg onload=window.pwned=3>")
    expect(panel.locator(".tag", has_text="AI")).to_have_text("<b onmouseover=window.pwned=4>AI</b>")
    panel.locator(".tag", has_text="AI").hover()
    assert page.evaluate("window.pwned") is None and dialogs == []


@pytest.mark.screenshot
def test_screenshots_of_the_queue_and_panel(logged_in_page):
    page = logged_in_page("maria")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto("/")
    page.locator("#queue-rows a[data-open]").first.click()
    expect(page.locator("#panel h2")).to_be_visible()
    screenshots(page, "panel")
