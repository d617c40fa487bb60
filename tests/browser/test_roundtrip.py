"""One click, one round trip: a decision's answer carries every part it changed, the next article's
panel (claimed) included, and the queue's counts stay current."""

import re
import uuid
from urllib.parse import quote, urlsplit

from tests.factories import assert_no_reload, expect

COUNTS = re.compile(r"([\d,]+) pending(?: · ([\d,]+) match these filters)? · you: ([\d,]+) today")


def queue_of_two(page, story):
    """Two fresh pending stories of an outlet of their own, the queue filtered to them: rows, titles, url."""
    outlet = f"Outlet {uuid.uuid4().hex[:8]}"
    for _ in range(2):
        story(**{"Business Matters": outlet})
    url = f"/?provider={quote(outlet)}"
    page.goto(url)
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    page.evaluate("window.copydeskMarker = 'still here'")
    return rows, [rows.nth(i).locator("a[data-open]").inner_text() for i in range(2)], url


def counts(page) -> tuple[int, int | None, int]:
    """The counts line as numbers: pending, matching (None when not shown), yours today."""
    pending, matching, yours = COUNTS.search(page.locator("#queue-counts").inner_text()).groups()
    return int(pending.replace(",", "")), matching and int(matching.replace(",", "")), int(yours)


def record_requests(page) -> list:
    """The page's own requests (htmx's XHRs) from now on, as (method, path), with the poll for others'
    changes stopped: its timer and the rows it refreshes are not the click's. Claim renewals come every
    CLAIM_SECONDS / 2 = 150 s, never within a test, so a claim seen here is one made on opening an article."""
    page.evaluate("document.getElementById('poller').remove()")  # htmx stops an `every` whose element is gone
    seen = []

    def note(request):
        if request.resource_type in ("xhr", "fetch"):
            seen.append((request.method, urlsplit(request.url).path))

    page.on("request", note)
    return seen


def settled(page):
    """Let what the last answer set off start (htmx's settle, `load` triggers): by then it is requested."""
    page.wait_for_timeout(500)


def test_approve_in_the_panel_is_one_request_that_opens_and_claims_the_next(logged_in_page, story):
    page = logged_in_page("maria")
    rows, titles, url = queue_of_two(page, story)
    ids = [rows.nth(i).get_attribute("id").removeprefix("article-") for i in range(2)]
    pending, matching, yours = counts(page)
    assert matching == 2
    with page.expect_response(lambda response: response.url.endswith(f"/articles/{ids[0]}/claim")):
        rows.first.locator("a[data-open]").click()
    expect(page.locator("#panel h2")).to_have_text(titles[0])
    settled(page)
    requests = record_requests(page)

    page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("#panel h2")).to_have_text(titles[1])
    expect(rows.first.locator(".status")).to_have_text("Approved")
    expect(page.locator("#notice")).to_contain_text(f"Approved “{titles[0]}”.")
    expect(page.locator("#recent li").first).to_contain_text(titles[0])
    expect(page.locator("#queue-counts")).to_contain_text("1 match these filters")
    settled(page)
    assert requests == [("POST", f"/articles/{ids[0]}/approve")]  # 8 before: row, history, related,
    # recent decisions, notice, the next panel and its claim each fetched themselves
    assert urlsplit(page.url).path == f"/articles/{ids[1]}"
    expect(rows.nth(1)).to_be_focused()
    after = counts(page)
    assert after[1:] == (1, yours + 1) and after[0] <= pending - 1  # others may decide meanwhile
    assert_no_reload(page)

    # The claim came with the answer: another moderator sees it, and the panel only renews it.
    lee = logged_in_page("lee")
    lee.goto(url)
    expect(lee.locator(f"#article-{ids[1]} .badge.claim")).to_have_text("being reviewed by maria")
    renewal = page.locator(f'#panel [hx-post="/articles/{ids[1]}/claim"]')
    expect(renewal).to_have_attribute("hx-trigger", re.compile(r"^every \d+s$"))


def test_a_on_a_focused_row_is_one_request(logged_in_page, story):
    page = logged_in_page("maria")
    rows, titles, url = queue_of_two(page, story)
    first_id = rows.first.get_attribute("id").removeprefix("article-")
    yours = counts(page)[2]
    requests = record_requests(page)
    page.keyboard.press("j")
    expect(rows.first).to_be_focused()
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    expect(page.locator("#notice")).to_contain_text(f"Approved “{titles[0]}”.")
    expect(page.locator("#recent li").first).to_contain_text(titles[0])
    expect(rows.nth(1)).to_be_focused()
    settled(page)
    assert requests == [("POST", f"/articles/{first_id}/approve")]  # 3 before: row, recent, notice
    assert counts(page)[1:] == (1, yours + 1)
    assert_no_reload(page)


def test_when_the_next_article_was_decided_meanwhile_the_panel_stays_on_the_decided_one(
    logged_in_page, story
):
    page = logged_in_page("maria")
    rows, titles, url = queue_of_two(page, story)
    rows.first.locator("a[data-open]").click()
    expect(page.locator("#panel h2")).to_have_text(titles[0])
    lee = logged_in_page("lee")
    lee.goto(url)
    lee_row = lee.locator("#queue-rows tr.row", has_text=titles[1])
    lee_row.focus()
    lee.keyboard.press("a")
    expect(lee_row.locator(".status")).to_have_text("Approved")

    page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("#panel .moderation .status")).to_have_text("Approved")
    expect(page.locator("#panel h2")).to_have_text(titles[0])
    expect(rows.nth(1).locator(".status")).to_have_text("Approved")
    expect(rows.nth(1).locator(".by")).to_have_text("by lee")
    assert_no_reload(page)


def test_undo_from_the_notice_with_the_panel_on_that_article_is_one_request(logged_in_page, story):
    page = logged_in_page("maria")
    rows, titles, url = queue_of_two(page, story)
    last = rows.nth(1)
    last_id = last.get_attribute("id").removeprefix("article-")
    with page.expect_response(lambda response: response.url.endswith(f"/articles/{last_id}/claim")):
        last.locator("a[data-open]").click()
    panel = page.locator("#panel")
    # The last row: no pending article below it, so the panel stays on the decided one.
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(panel.locator(".moderation .status")).to_have_text("Approved")
    expect(page.locator("#notice")).to_contain_text(f"Approved “{titles[1]}”.")
    matching = counts(page)[1]
    settled(page)
    requests = record_requests(page)

    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect(panel.locator(".moderation .status")).to_have_text("Pending")
    expect(panel).to_have_class(re.compile(r"\bstatus-pending\b"))
    expect(last.locator(".status")).to_have_text("Pending")
    expect(panel.locator(".history")).to_contain_text("undo", ignore_case=True)
    expect(page.locator("#queue-counts")).to_contain_text(f"{matching + 1} match these filters")
    settled(page)
    # 3 before: the undo, then the panel fetching itself (panel-stale) and claiming the article again.
    event = [path for method, path in requests if path.startswith("/events/")]
    assert requests == [("POST", event[0])] and event[0].endswith("/undo"), requests
    # The article is claimed again for the one whose panel shows it, in that same request.
    lee = logged_in_page("lee")
    lee.goto(url)
    expect(lee.locator(f"#article-{last_id} .badge.claim")).to_have_text("being reviewed by maria")
    assert_no_reload(page)
