from tests.factories import expect

OUT = "/tmp/screens_shots"

def test_look(logged_in_page, story):
    t1, t2 = story(), story()
    page = logged_in_page("maria")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/?q={t1}")
    page.locator("#queue-rows a[data-open]").first.click()
    expect(page.locator("#panel h2")).to_be_visible()
    page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("#notice")).to_contain_text(t1)
    page.screenshot(path=f"{OUT}/n-notice-390.png")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.screenshot(path=f"{OUT}/n-notice-768.png")
