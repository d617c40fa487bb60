"""Every screen in a real browser, at 390, 768 and 1280 px: no page scrolls sideways, the article opens
as a drawer on narrow screens, rows become cards, filters fold, and nothing is cut off or hard to see."""

import uuid
from urllib.parse import urlsplit

import pytest

from bench.big_seed import big_seed_text
from tests.factories import PASSWORD, VIEWPORTS, assert_no_reload, expect, queue_with, reject_by_keyboard
from webapp.services.merging import PANEL_ENTRIES

NARROW = [width for width in VIEWPORTS if width < 1100]
# WCAG 2.2, 1.4.11 and 2.4.13: a focus indicator needs 3:1 against what it sits on.
FOCUS_CONTRAST = 3.0
# Chromium's number input keeps this much of its width for the spin buttons.
SPIN_BUTTONS_PX = 15


def sized(page, width):
    page.set_viewport_size({"width": width, "height": VIEWPORTS[width]})
    return page


def sideways(page) -> int:
    """How many pixels the page is wider than the window, or the article's panel than its slot (0: neither
    scrolls sideways)."""
    return page.evaluate(
        """() => {
          const slot = document.querySelector(".panel-slot");
          return Math.max(0, document.documentElement.scrollWidth - window.innerWidth,
                          slot ? slot.scrollWidth - slot.clientWidth : 0);
        }"""
    )


def path_and_query(page) -> str:
    url = urlsplit(page.url)
    return url.path + (f"?{url.query}" if url.query else "")


# Whether the element is what a click at its centre reaches (nothing covers it).
ON_TOP = """element => {
  const box = element.getBoundingClientRect();
  return element.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
}"""


def open_article(page, title):
    """Open the article titled `title` from its queue row; the panel's heading is shown."""
    page.locator("#queue-rows a[data-open]", has_text=title).click()
    heading = page.locator("#panel").get_by_role("heading", level=2)
    expect(heading).to_have_text(title)
    return heading


@pytest.mark.parametrize("username", ["maria", "lee", "ada"])
@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_no_page_scrolls_sideways(new_page, logged_in_page, story, import_seed, username, width):
    title = story()
    # A run that refused a file of a long name without spaces: the Imports pages must wrap it.
    refused = import_seed("no front matter\n", name=f"{'a-very-long-file-name-' * 9}{uuid.uuid4().hex}.md")
    wide = {}
    login = sized(new_page(), width)
    login.goto("/login")
    wide["login"] = sideways(login)

    page = sized(logged_in_page(username), width)
    page.goto("/")
    expect(page.locator("#queue-rows tr.row").first).to_be_visible()
    wide["queue"] = sideways(page)
    queue_with(page, title)
    open_article(page, title)
    wide["queue with an article open"] = sideways(page)
    article_path = page.locator("#queue-rows a[data-open]", has_text=title).get_attribute("href")
    # A job's page (its progress bar): a lead starts an export; a moderator gets it as a 403 page.
    starter = page if username != "maria" else sized(logged_in_page("lee"), width)
    starter.goto("/exports")
    starter.get_by_role("button", name="Export as zip").click()
    starter.wait_for_url("**/jobs/*")
    job_path = path_and_query(starter)
    # Every other page, by its address as a link or a reload reaches it; a moderator gets the lead's
    # pages, and a moderator and a lead the admin's, as error pages (403), which must fit too.
    pages = {
        "article link": article_path,
        "recent decisions": "/decisions/recent",
        "stats": "/stats",
        "audit": "/audit",
        "export": "/exports",
        "users": "/admin/users",
        "change password": "/account/password",
        "imports": "/imports",
        "import run": f"/imports/{refused['run']}",
        "job": job_path,
        "error page": "/articles/999999999",
    }
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        wide[name] = sideways(page)
    assert {name: pixels for name, pixels in wide.items() if pixels} == {}, f"pages wider than {width} px"


@pytest.mark.parametrize("width", NARROW)
def test_an_article_opens_as_a_drawer_that_closes_back_to_its_row(logged_in_page, story, width):
    title = story()
    page = sized(logged_in_page("maria"), width)
    row = queue_with(page, title)
    queue_url = path_and_query(page)

    heading = open_article(page, title)
    expect(heading).to_be_in_viewport()
    close = page.get_by_role("button", name="Close the article")
    expect(close).to_be_in_viewport()
    assert urlsplit(page.url).path.startswith("/articles/")
    close.click()
    expect(page.locator("#panel h2")).to_have_count(0)
    expect(row).to_be_focused()
    assert path_and_query(page) == queue_url

    page.keyboard.press("o")
    expect(heading).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#panel h2")).to_have_count(0)
    expect(row).to_be_focused()
    assert path_and_query(page) == queue_url
    assert_no_reload(page)


def test_the_keyboard_works_the_queue_through_the_drawer(logged_in_page, story):
    marker = f"Marker{uuid.uuid4().hex[:8]}"
    first, second = (story(**{"Britain's biggest": f"{marker} Britain's biggest"}) for _ in range(2))
    page = sized(logged_in_page("maria"), 390)
    page.goto(f"/?status=all&q={marker}")
    page.evaluate("window.copydeskMarker = 'still here'")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    titles = [rows.nth(index).locator("a[data-open]").inner_text() for index in range(2)]
    assert sorted(titles) == sorted([first, second])
    heading = page.locator("#panel").get_by_role("heading", level=2)

    page.keyboard.press("j")
    expect(rows.first).to_be_focused()
    page.keyboard.press("o")
    expect(heading).to_have_text(titles[0])
    expect(heading).to_be_in_viewport()
    # The decision buttons are held for a moment after an article opens (the double-click guard).
    expect(page.locator('#panel [data-action="approve"]')).to_be_enabled()
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    # On to the next pending article, in the drawer.
    expect(heading).to_have_text(titles[1])
    expect(heading).to_be_in_viewport()
    # The Undo offer floats over the drawer rather than under it at the top of the page.
    expect(page.locator("#notice")).to_contain_text(f"Approved “{titles[0]}”.")
    undo = page.locator("#notice").get_by_role("button", name="Undo")
    expect(undo).to_be_in_viewport()
    assert undo.evaluate(ON_TOP), "the drawer covers the Undo button"
    page.keyboard.press("Escape")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.first).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    # `r` opens the focused row's article with the cursor in its reason; Enter rejects. The keys
    # a and r are held for 400 ms after the panel moved on (the double-click guard): let that pass.
    page.wait_for_timeout(450)
    reject_by_keyboard(page)
    expect(rows.nth(1).locator(".status")).to_have_text("Rejected")
    assert_no_reload(page)


def test_without_javascript_the_panel_is_a_block_on_a_narrow_screen(browser, live_server, story):
    title = story()
    context = browser.new_context(
        base_url=live_server, java_script_enabled=False, viewport={"width": 390, "height": VIEWPORTS[390]}
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill("maria")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/?status=all&q={title}")
        page.locator("#queue-rows a[data-open]", has_text=title).click()
        panel = page.locator("#panel")
        expect(panel.get_by_role("heading", level=2)).to_have_text(title)
        expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_visible()
        assert panel.evaluate("panel => getComputedStyle(panel.parentElement).position") != "fixed"
        expect(page.get_by_role("button", name="Close the article")).to_be_hidden()
        assert sideways(page) == 0
    finally:
        context.close()


def test_rows_are_cards_and_the_header_wraps_at_390(logged_in_page, story):
    title = story()
    page = sized(logged_in_page("lee"), 390)
    row = queue_with(page, title)
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box is None or box["x"] >= 0 and box["x"] + box["width"] <= 390, cell.inner_text()
    heat, status = row.locator("td[data-label=Heat]"), row.locator("td[data-label=Status]")
    expect(heat).to_be_in_viewport()
    expect(status).to_be_in_viewport()
    assert heat.evaluate("cell => getComputedStyle(cell, '::before').content").strip('" ') == "Heat"
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    assert sideways(page) == 0


def test_filters_fold_under_a_button_on_a_narrow_screen(logged_in_page):
    page = sized(logged_in_page("maria"), 390)
    page.goto("/")
    topic = page.get_by_label("Topic")
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    expect(topic).to_be_hidden()
    page.locator("#filters summary", has_text="Filters").click()
    expect(topic).to_be_visible()
    # A filter set, or refused, opens them.
    page.goto("/?topic=AI")
    expect(page.get_by_label("Topic")).to_be_visible()
    page.goto("/?published_from=yesterday")
    expect(page.get_by_label("From")).to_be_visible()
    # On a wide screen they are all in view without a click.
    sized(page, 1280).goto("/")
    expect(page.get_by_label("Topic")).to_be_visible()
    expect(page.locator("#filters summary")).to_be_hidden()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_nothing_in_the_panel_is_cut_off(logged_in_page, import_seed, width):
    title = f"Story {uuid.uuid4().hex[:10]}"
    assert import_seed(big_seed_text(400, max_bytes=120_000, title=title))["imported"] == 1
    page = sized(logged_in_page("maria"), width)
    queue_with(page, title)
    open_article(page, title)
    panel = page.locator("#panel")
    entries = panel.locator("ol.related > li[id^=related-link-]")
    for pages in (2, 3):
        panel.get_by_role("link", name="Show more entries").click()
        expect(entries).to_have_count(pages * PANEL_ENTRIES)

    keep = panel.locator(".merge-selection select")
    edge = panel.evaluate("panel => panel.getBoundingClientRect().right")
    assert keep.evaluate("select => select.getBoundingClientRect().right") <= edge
    assert panel.evaluate(CLIPPED_LIST_NUMBERS) == []
    heat = panel.locator('input[name="heat"]')
    room, needed = heat.evaluate(PLACEHOLDER_ROOM)
    assert room >= needed, f"the heat box shows {room:.0f} px of its placeholder, which needs {needed:.0f}"


# The numbers of ol.related whose text would start left of what clips them (the nearest ancestor that
# hides its overflow, else the window).
CLIPPED_LIST_NUMBERS = """panel => {
  const clipped = [];
  const measure = document.createElement("canvas").getContext("2d");
  for (const list of panel.querySelectorAll("ol.related")) {
    let clip = list.parentElement;
    while (clip && getComputedStyle(clip).overflowX === "visible") clip = clip.parentElement;
    const limit = clip ? clip.getBoundingClientRect().left + clip.clientLeft : 0;
    list.querySelectorAll(":scope > li[value]").forEach((item) => {
      const style = getComputedStyle(item);
      if (style.listStylePosition === "inside") return;
      measure.font = style.font;
      const number = item.value + ". ";
      if (item.getBoundingClientRect().left - measure.measureText(number).width < limit) clipped.push(number);
    });
  }
  return clipped;
}"""

# [width the heat box has for text, width its placeholder needs]
PLACEHOLDER_ROOM = f"""input => {{
  const style = getComputedStyle(input);
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
    - (style.appearance === "textfield" ? 0 : {SPIN_BUTTONS_PX});
  return [room, measure.measureText(input.placeholder).width];
}}"""


def contrast(first, second) -> float:
    """WCAG contrast ratio of two sRGB colours, each (r, g, b) in 0-255."""

    def luminance(colour):
        channels = [c / 255 for c in colour]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# The focused element's outline colour and the background it is drawn on, as [r, g, b] each.
FOCUS_COLOURS = """element => {
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const opaque = (value) => !/rgba\\(.*,\\s*0\\)$/.test(value) && value !== "transparent";
  let behind = element;
  while (behind && !opaque(getComputedStyle(behind).backgroundColor)) behind = behind.parentElement;
  const style = getComputedStyle(element);
  return {
    style: style.outlineStyle,
    outline: rgb(style.outlineColor),
    own: rgb(behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)"),
    page: rgb(getComputedStyle(document.body).backgroundColor),
  };
}"""


def test_the_focus_ring_stands_out_on_every_row_and_on_white(logged_in_page, story):
    marker = f"Marker{uuid.uuid4().hex[:8]}"
    [story(**{"Britain's biggest": f"{marker} Britain's biggest"}) for _ in range(3)]
    page = logged_in_page("maria")
    page.goto(f"/?status=all&q={marker}")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(3)
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(rows.first.locator(".status")).to_have_text("Approved")
    rows.nth(1).focus()
    reject_by_keyboard(page)
    expect(rows.nth(1).locator(".status")).to_have_text("Rejected")
    page.goto(f"/?status=all&q={marker}")

    rings = {}
    for index in range(3):
        rows.nth(index).focus()
        rings[rows.nth(index).get_attribute("class")] = rows.nth(index).evaluate(FOCUS_COLOURS)
    page.locator("#q").focus()
    page.keyboard.press("Shift+Tab")
    rings["the element before the search box"] = page.evaluate(f"({FOCUS_COLOURS})(document.activeElement)")
    for name, ring in rings.items():
        assert ring["style"] != "none", name
        for against in ("own", "page"):
            ratio = contrast(ring["outline"], ring[against])
            assert ratio >= FOCUS_CONTRAST, f"{name}: {ratio:.2f}:1 against {against} {ring[against]}"
