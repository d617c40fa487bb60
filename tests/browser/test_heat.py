"""Heat in a real browser: Enter, the button and the slider save through htmx, in place, once per edit."""

import re

from tests.factories import assert_no_reload, expect, queue_with


def open_article(page, title):
    """The queue on `title` with its panel open; returns the list of heat saves the page sends."""
    saves = []
    page.on("request", lambda request: saves.append(request.url) if _is_heat_save(request) else None)
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    expect(page.locator("#panel h2")).to_have_text(title)
    return row, saves


def _is_heat_save(request):
    return request.method == "POST" and request.url.endswith("/heat")


def wait_until_processed(page, selector):
    """Until htmx has bound the element's triggers (it marks each element it processed)."""
    page.wait_for_function(
        """selector => {
            const element = document.querySelector(selector);
            const data = element && element["htmx-internal-data"];
            return Boolean(data && data.initHash);
        }""",
        arg=selector,
    )


def heat_input(page):
    return page.locator("#panel").get_by_label("Heat", exact=True)


def test_enter_in_the_heat_box_saves_in_place(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, saves = open_article(page, title)
    heat_input(page).fill("40")
    heat_input(page).press("Enter")
    expect(page.locator("#panel .heat-value")).to_have_text("40")
    expect(row.locator("td").nth(5)).to_have_text("40")
    expect(page.locator("#panel .conflict")).to_have_count(0)
    # The box keeps the focus, so the next value can be typed straight away.
    expect(heat_input(page)).to_be_focused()
    assert len(saves) == 1
    assert_no_reload(page)


def test_set_heat_button_saves_in_place(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, saves = open_article(page, title)
    heat_input(page).fill("55")
    page.locator("#panel").get_by_role("button", name="Set heat").click()
    expect(page.locator("#panel .heat-value")).to_have_text("55")
    expect(row.locator("td").nth(5)).to_have_text("55")
    expect(page.locator("#panel .conflict")).to_have_count(0)
    assert len(saves) == 1
    assert_no_reload(page)


def test_slider_saves_when_it_is_let_go(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, saves = open_article(page, title)
    slider = page.locator("#panel [data-heat-slider]")
    slider.focus()
    page.keyboard.press("End")
    expect(heat_input(page)).to_have_value("200")
    expect(page.locator("#panel .heat-value")).to_have_text("200")
    expect(row.locator("td").nth(5)).to_have_text("200")
    assert len(saves) == 1
    assert_no_reload(page)


def test_three_saves_in_a_row_never_conflict(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, saves = open_article(page, title)
    panel = page.locator("#panel")
    heat_input(page).fill("10")
    heat_input(page).press("Enter")
    expect(panel.locator(".heat-value")).to_have_text("10")
    heat_input(page).fill("20")
    panel.get_by_role("button", name="Set heat").click()
    expect(panel.locator(".heat-value")).to_have_text("20")
    # The new form listens to its slider once htmx has processed it, a few ms after the swap shows.
    wait_until_processed(page, "#panel form.heat")
    panel.locator("[data-heat-slider]").focus()
    page.keyboard.press("ArrowRight")
    expect(panel.locator(".heat-value")).to_have_text("21")
    expect(row.locator("td").nth(5)).to_have_text("21")
    expect(panel.locator(".conflict")).to_have_count(0)
    expect(panel.locator("section.history li", has_text="heat by maria")).to_have_count(3)
    assert len(saves) == 3
    assert_no_reload(page)


def test_a_bad_heat_is_explained_in_place_and_the_next_save_works(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    row, saves = open_article(page, title)
    heat_input(page).fill("500")
    heat_input(page).press("Enter")
    expect(page.locator("#panel form.heat .error")).to_have_text(
        re.compile("Heat must be a whole number from 0 to 200; 500 is too high")
    )
    expect(heat_input(page)).to_have_value("500")
    # The 422's form carries the article's current version: the next save is no conflict.
    heat_input(page).fill("90")
    heat_input(page).press("Enter")
    expect(page.locator("#panel .heat-value")).to_have_text("90")
    expect(page.locator("#panel form.heat .error")).to_have_count(0)
    expect(page.locator("#panel .conflict")).to_have_count(0)
    expect(row.locator("td").nth(5)).to_have_text("90")
    assert len(saves) == 2
    assert_no_reload(page)
