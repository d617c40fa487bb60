"""A reload, or a shared link to /articles/N, shows the queue with that article open in the panel."""

from urllib.parse import parse_qs, urlsplit

from tests.factories import assert_no_reload, expect, queue_with


def test_reload_after_opening_an_article_keeps_queue_filters_and_panel(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    queue_with(page, title).locator("a[data-open]").click()
    expect(page.locator("#panel h2")).to_have_text(title)
    assert urlsplit(page.url).path.startswith("/articles/")
    page.reload()
    expect(page.locator("#panel h2")).to_have_text(title)
    # The queue around it is the one the article was opened from (its filters are in the address).
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(title)
    expect(page.locator("#q")).to_have_value(title)
    # And it is the working desk, not a page apart: approving swaps in place.
    page.evaluate("window.copydeskMarker = 'still here'")
    page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("#panel .moderation .status")).to_have_text("Approved")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    assert_no_reload(page)


def test_a_shared_link_opens_the_queue_with_that_article(logged_in_page, story):
    title = story()
    maria = logged_in_page("maria")
    queue_with(maria, title).locator("a[data-open]").click()
    expect(maria.locator("#panel h2")).to_have_text(title)
    link = urlsplit(maria.url)
    lee = logged_in_page("lee")
    lee.goto(f"{link.path}?{link.query}")
    expect(lee.locator("#panel h2")).to_have_text(title)
    expect(lee.locator("#queue-rows tr.row", has_text=title)).to_have_count(1)
    expect(lee.get_by_role("heading", name="Review queue")).to_be_visible()
    # The bare link, with no filters, opens it beside the default queue.
    lee.goto(link.path)
    expect(lee.locator("#panel h2")).to_have_text(title)
    expect(lee.get_by_role("heading", name="Review queue")).to_be_visible()


def test_opening_an_article_keeps_the_filters_the_server_knows_and_drops_a_page_cursor(logged_in_page, story):
    """The filter names come from the server's QueueFilters (the filter form's data-filter-names)."""
    title = story()
    page = logged_in_page("maria")
    queue_with(page, title)
    page.goto(f"{page.url}&sort=oldest&entries_after=3&unknown=1")
    page.locator("#queue-rows tr.row", has_text=title).locator("a[data-open]").click()
    expect(page.locator("#panel h2")).to_have_text(title)
    pushed = parse_qs(urlsplit(page.url).query)
    assert pushed["q"] == [title] and pushed["sort"] == ["oldest"]
    assert "entries_after" not in pushed and "unknown" not in pushed
