"""Two quick clicks or key presses decide one article, never also the next one that opened under them."""

import re
import uuid

from tests.factories import assert_no_reload, expect

DECISION = re.compile(r"/articles/\d+/(approve|reject|reopen)$")


def two_pending(page, story):
    """Two new pending articles alone in the queue, the first one open; the decisions the page sends."""
    marker = f"guard{uuid.uuid4().hex[:8]}"
    excerpt = {"Britain's biggest police force": f"{marker} Britain's biggest police force"}
    story(**excerpt), story(**excerpt)
    decisions = []
    page.on(
        "request", lambda request: decisions.append(request.url) if DECISION.search(request.url) else None
    )
    page.goto(f"/?q={marker}")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    page.evaluate("window.copydeskMarker = 'still here'")
    rows.first.locator("a[data-open]").click()
    first_title = rows.first.locator("a[data-open]").inner_text()
    second_title = rows.nth(1).locator("a[data-open]").inner_text()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(first_title)
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_enabled()
    return rows, panel, second_title, decisions


def assert_only_the_first_was_decided(page, rows, panel, second_title, decisions):
    expect(panel.locator("h2")).to_have_text(second_title)
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_enabled()
    expect(rows.first.locator(".status")).to_have_text("Approved")
    expect(rows.nth(1).locator(".status")).to_have_text("Pending")
    expect(panel.locator(".moderation .status")).to_have_text("Pending")
    assert len(decisions) == 1, decisions
    assert_no_reload(page)


def test_two_clicks_120_ms_apart_decide_one_article(logged_in_page, story):
    page = logged_in_page("maria")
    rows, panel, second_title, decisions = two_pending(page, story)
    box = panel.get_by_role("button", name="Approve", exact=True).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(120)
    page.mouse.click(x, y)
    assert_only_the_first_was_decided(page, rows, panel, second_title, decisions)


def test_a_click_just_after_the_next_article_opened_under_it_decides_nothing(logged_in_page, story):
    page = logged_in_page("maria")
    rows, panel, second_title, decisions = two_pending(page, story)
    box = panel.get_by_role("button", name="Approve", exact=True).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    # The second click comes as soon as the next article is there (however long the machine took),
    # on its Approve button (the Undo notice that came with the first may have moved it down).
    page.wait_for_function(
        "title => document.querySelector('#panel h2')?.textContent === title", arg=second_title, polling="raf"
    )
    box = panel.get_by_role("button", name="Approve", exact=True).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert_only_the_first_was_decided(page, rows, panel, second_title, decisions)


def test_two_quick_a_presses_decide_one_article(logged_in_page, story):
    page = logged_in_page("maria")
    rows, panel, second_title, decisions = two_pending(page, story)
    page.keyboard.press("a")
    page.wait_for_timeout(120)
    page.keyboard.press("a")
    assert_only_the_first_was_decided(page, rows, panel, second_title, decisions)


def test_decision_buttons_are_disabled_while_a_decision_is_in_flight(logged_in_page, story):
    page = logged_in_page("maria")
    rows, panel, second_title, decisions = two_pending(page, story)
    # Hold the answer back, to look at the page while the decision is on its way.
    held = []
    page.route(DECISION, lambda route: held.append(route))
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
    expect(panel.get_by_role("button", name="Reject", exact=True)).to_be_disabled()
    page.keyboard.press("a")
    assert len(decisions) == 1
    held[0].continue_()
    page.unroute(DECISION)
    assert_only_the_first_was_decided(page, rows, panel, second_title, decisions)
