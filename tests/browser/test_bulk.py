"""Bulk decisions in a real browser: every row refreshes in one request, ticks clear, one Undo for the
batch, a reason for bulk reject; other moderators see every row change within the poll interval;
recent decisions show what was undone."""

import re
from urllib.parse import urlsplit

from tests.factories import assert_no_reload, expect

BATCH = 10


def queue_of(page, prefix: str, count: int = BATCH):
    """The queue filtered to one batch's rows (all statuses), marked to catch a reload."""
    page.goto(f"/?status=all&q={prefix}")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(count)
    page.evaluate("window.copydeskMarker = 'still here'")
    return rows


def tick_all(page):
    for box in page.locator('#queue-rows input[name="article"]').all():
        box.check()


def ticked_batch(logged_in_page, batch, count: int = BATCH):
    """maria's queue on a new batch of `count` rows, all ticked: (page, rows, the batch's prefix)."""
    prefix = batch(count)
    page = logged_in_page("maria")
    rows = queue_of(page, prefix, count)
    tick_all(page)
    return page, rows, prefix


def app_requests(page) -> list[str]:
    """Requests the page makes to the app from now on, as "METHOD /path"; polls left out."""
    seen = []

    def record(request):
        if request.resource_type in ("xhr", "fetch", "document"):
            path = urlsplit(request.url).path
            if path != "/queue/changes":
                seen.append(f"{request.method} {path}")

    page.on("request", record)
    return seen


def expect_statuses(rows, label: str):
    for index in range(rows.count()):
        expect(rows.nth(index).locator(".status")).to_have_text(label)


def test_bulk_approve_refreshes_every_row_in_one_request_clears_ticks_and_undoes_as_one(
    logged_in_page, batch
):
    page, rows, _ = ticked_batch(logged_in_page, batch)
    requests = app_requests(page)
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#notice")).to_contain_text(f"Approved {BATCH}.")
    expect_statuses(rows, "Approved")
    expect(page.locator('#queue-rows input[name="article"]:checked')).to_have_count(0)
    assert requests == ["POST /queue/bulk"]

    # One Undo for the whole batch, by key as well.
    expect(page.locator("#notice").get_by_role("button", name="Undo")).to_have_count(1)
    requests.clear()
    page.locator("body").press("u")
    expect(page.locator("#notice")).to_contain_text(f"Undid {BATCH} decisions.")
    expect_statuses(rows, "Pending")
    assert len(requests) == 1 and re.fullmatch(r"POST /batches/\d+/undo", requests[0])
    assert_no_reload(page)


def test_bulk_reject_takes_a_reason(logged_in_page, batch):
    page, rows, _ = ticked_batch(logged_in_page, batch, 3)
    # The panel open on one of them follows: the answer carried its row, and the panel refreshes.
    rows.first.locator("a[data-open]").click()
    expect(page.locator("#panel .moderation .status")).to_have_text("Pending")
    page.locator("#bulk").get_by_label("Reason").fill("off-topic for this desk")
    page.get_by_role("button", name="Reject selected").click()
    expect_statuses(rows, "Rejected")
    expect(page.locator("#bulk").get_by_label("Reason")).to_have_value("")
    expect(page.locator("#panel .moderation .status")).to_have_text("Rejected")
    expect(page.locator("#panel")).to_contain_text("off-topic for this desk")
    assert_no_reload(page)


def test_another_moderators_bulk_approve_refreshes_every_row_within_the_poll_interval(logged_in_page, batch):
    prefix = batch()
    maria = logged_in_page("maria")
    watched = queue_of(maria, prefix)
    row_gets = []
    maria.on(
        "request", lambda request: row_gets.append(request.url) if request.url.endswith("/row") else None
    )
    lee = logged_in_page("lee")
    queue_of(lee, prefix)
    tick_all(lee)
    lee.get_by_role("button", name="Approve selected").click()
    expect(lee.locator("#notice")).to_contain_text(f"Approved {BATCH}.")
    # POLL_SECONDS is 1 in the browser tests: every row within a few polls, none left behind.
    for index in range(BATCH):
        expect(watched.nth(index).locator(".status")).to_have_text("Approved", timeout=4000)
        expect(watched.nth(index).locator(".by")).to_have_text("by lee")
    assert row_gets == []
    assert_no_reload(maria)


def test_recent_decisions_show_an_undone_decision_as_undone(logged_in_page, batch):
    page, rows, prefix = ticked_batch(logged_in_page, batch, 2)
    page.get_by_role("button", name="Approve selected").click()
    expect_statuses(rows, "Approved")
    recent = page.locator("#recent li", has_text=prefix)
    expect(recent).to_have_count(2)
    expect(recent.locator(".undone")).to_have_count(0)
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect_statuses(rows, "Pending")
    expect(recent.locator(".undone")).to_have_count(2)
    expect(recent.first).to_contain_text("undone")
    # A single decision undone from the notice shows as undone too.
    rows.first.focus()
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    expect(recent).to_have_count(3)
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect(rows.first.locator(".status")).to_have_text("Pending")
    expect(recent.locator(".undone")).to_have_count(3)
    assert_no_reload(page)


def test_a_poll_answered_after_an_undo_never_rolls_the_rows_back(logged_in_page, batch):
    # A poll sent before the Undo may answer after it, with the rows as they were approved.
    page, rows, _ = ticked_batch(logged_in_page, batch, 2)
    page.get_by_role("button", name="Approve selected").click()
    expect_statuses(rows, "Approved")
    approved_rows = rows.evaluate_all("rows => rows.map((row) => row.outerHTML).join('')")
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect_statuses(rows, "Pending")
    shown_after_the_late_answer = page.evaluate(
        """(rowsHtml) => {
            const poller = document.getElementById("poller");
            const template = document.createElement("template");
            template.setAttribute("data-changed-rows", "");
            template.innerHTML = rowsHtml;
            poller.append(template);
            poller.dispatchEvent(new CustomEvent("htmx:load", { bubbles: true, detail: { elt: poller } }));
            const statuses = document.querySelectorAll("#queue-rows tr.row .status");
            return Array.from(statuses, (cell) => cell.textContent.trim());
        }""",
        approved_rows,
    )
    assert shown_after_the_late_answer == ["Pending", "Pending"]
    expect_statuses(rows, "Pending")
    # What is shown is what is decided on: a key on the row approves it at its current version.
    rows.first.focus()
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    assert_no_reload(page)
