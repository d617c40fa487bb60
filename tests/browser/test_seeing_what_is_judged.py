"""Deciding faster: the article's and its related entries' images as thumbnails, the compact row mode."""

from tests.factories import expect, queue_with

OWN_IMAGE = "https://images.example.net/own-picture.jpg"
WITH_IMAGE = {
    "published: false\n": (
        f'published: false\nimages:\n  - url: "{OWN_IMAGE}"\n    width: 1200\n    height: 675\n'
        '    title: "The police van"\n'
    )
}


def loaded(image) -> bool:
    """The image was fetched and decoded (the third-party placeholder of conftest.py)."""
    image.scroll_into_view_if_needed()
    return image.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")


def assert_thumbnail(image, width, height):
    expect(image).to_have_attribute("loading", "lazy")
    expect(image).to_have_attribute("referrerpolicy", "no-referrer")
    assert image.get_attribute("alt") is not None
    assert image.get_attribute("width") == str(width) and image.get_attribute("height") == str(height)
    box = image.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (width, height)


def test_the_row_and_the_panel_show_the_images_as_lazy_thumbnails_of_fixed_size(logged_in_page, story):
    title = story(**WITH_IMAGE)
    page = logged_in_page("maria")
    page.set_viewport_size({"width": 1280, "height": 900})
    row = queue_with(page, title)
    thumb = row.locator("img.thumb")
    expect(thumb).to_have_attribute("src", OWN_IMAGE)
    assert_thumbnail(thumb, 48, 27)
    assert loaded(thumb)

    row.locator("a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(title)
    image = panel.locator("img.panel-image")
    expect(image).to_have_attribute("src", OWN_IMAGE)
    expect(image).to_have_attribute("alt", "The police van")
    assert_thumbnail(image, 160, 90)
    assert loaded(image)
    # The real seed's four related entries with images; the fifth and later have none.
    related = panel.locator("ol.related img.thumb")
    expect(related).to_have_count(4)
    for index in range(4):
        assert_thumbnail(related.nth(index), 48, 27)
        assert loaded(related.nth(index))


def test_the_secured_payload_is_folded_into_the_details(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    queue_with(page, title).locator("a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(title)
    payload = panel.get_by_text("encrypted payload")
    expect(payload).to_be_hidden()
    expect(panel.locator(".facts").first).not_to_contain_text("Secured")
    panel.locator("details.more-facts summary").click()
    expect(payload).to_be_visible()


def test_compact_rows_are_one_line_remembered_for_the_user_only(logged_in_page, story):
    titles = [story(**WITH_IMAGE), story()]
    maria = logged_in_page("maria")
    maria.set_viewport_size({"width": 1280, "height": 900})
    maria.goto(f"/?status=all&q={titles[0][:6]}")
    rows = maria.locator("#queue-rows tr.row")
    expect(rows.first).to_be_visible()
    full_height = rows.first.bounding_box()["height"]
    maria.evaluate("window.copydeskMarker = 'still here'")
    toggle = maria.get_by_role("button", name="Compact rows")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    table = maria.locator("table.queue")
    expect(table).to_have_class("queue compact")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert maria.evaluate("window.copydeskMarker") == "still here"  # swapped in place, no reload

    maria.reload()
    expect(maria.locator("table.queue")).to_have_class("queue compact")
    for title in titles:
        maria.goto(f"/?status=all&q={title}")
        row = maria.locator("#queue-rows tr.row", has_text=title)
        # One line: the row is no taller than a line of its text plus padding, the thumbnail hidden.
        line = row.locator("td.title").evaluate("td => parseFloat(getComputedStyle(td).lineHeight)")
        assert row.bounding_box()["height"] <= line + 8 < full_height
        for thumb in row.locator("img.thumb").all():
            expect(thumb).to_be_hidden()

    lee = logged_in_page("lee")
    lee.goto(f"/?status=all&q={titles[0]}")
    expect(lee.locator("table.queue")).to_have_class("queue")
    expect(lee.get_by_role("button", name="Compact rows")).to_have_attribute("aria-pressed", "false")

    # Back to full rows.
    maria.get_by_role("button", name="Compact rows").click()
    expect(maria.locator("table.queue")).to_have_class("queue")
    maria.reload()
    expect(maria.locator("table.queue")).to_have_class("queue")
