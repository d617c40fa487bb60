"""A bad filter value says what is wrong beside its field, through htmx and without JavaScript alike;
and the Export page never puts its CSRF token in the address bar."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import PASSWORD, expect


def _mark(page):
    page.evaluate("window.copydeskMarker = 'still here'")


def _not_reloaded(page):
    assert page.evaluate("window.copydeskMarker") == "still here"


def _beside(page, field_name: str, message: str):
    """The message shows in the slot the field points to (aria-describedby); the field is marked invalid."""
    field = page.locator(f'[name="{field_name}"]').first
    slot_id = field.get_attribute("aria-describedby")
    expect(page.locator(f"#{slot_id}")).to_have_text(message)
    expect(field).to_have_attribute("aria-invalid", "true")
    return field


def _reversed_range_then_fixed(page, labels, field, message, days=("2024-02-01", "2024-01-01", "2024-03-01")):
    """Dates that end before they start get `message` beside `field`; a later end takes it away."""
    (first, last), (start, before, after) = labels, days
    page.get_by_label(first, exact=True).fill(start)
    page.get_by_label(last, exact=True).fill(before)
    control = _beside(page, field, message)
    page.get_by_label(last, exact=True).fill(after)
    expect(page.locator(f"#error-{field}")).to_have_text("")
    expect(control).not_to_have_attribute("aria-invalid", "true")


@pytest.fixture
def no_js_page(browser, live_server):
    """Factory: a page without JavaScript, logged in as `username` through the plain login form."""
    contexts = []

    def open_page(username):
        context = browser.new_context(base_url=live_server, java_script_enabled=False)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username", exact=True).fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: urlsplit(url).path != "/login")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_queue_reversed_dates_are_named_beside_the_field(logged_in_page, story):
    title = story()
    page = logged_in_page("maria")
    page.goto(f"/?status=all&q={title}")
    _mark(page)
    _reversed_range_then_fixed(
        page,
        ("From", "To"),
        "published_to",
        "To: must be on or after From.",
        ("2020-02-01", "2020-01-01", "2030-01-01"),
    )
    expect(page.locator("#queue-rows tr.row", has_text=title)).to_have_count(1)
    _not_reloaded(page)


def test_stats_custom_range_without_dates_says_so_beside_them(logged_in_page):
    page = logged_in_page("lee")
    page.goto("/stats")
    _mark(page)
    page.locator("select[name=period]").select_option(label="Custom range")
    _beside(page, "from", "From: a date like 2023-10-19 is needed.")
    _beside(page, "to", "To: a date like 2023-10-19 is needed.")
    _reversed_range_then_fixed(page, ("From", "To"), "to", "To: must be on or after From.")
    expect(page.locator("#error-from")).to_have_text("")
    expect(page.locator("#stats-board .period")).to_contain_text(
        "2024-02-01 00:00 UTC to 2024-03-02 00:00 UTC"
    )
    _not_reloaded(page)


def test_audit_bad_values_are_named_beside_their_fields(logged_in_page):
    page = logged_in_page("lee")
    page.goto("/audit")
    _mark(page)
    page.get_by_label("Article", exact=True).fill("twelve")
    page.get_by_label("Article", exact=True).press("Enter")
    _beside(page, "article", "Article: 'twelve' is not a whole number.")
    _reversed_range_then_fixed(page, ("From", "To"), "to", "To: must be on or after From.")
    _not_reloaded(page)


def test_export_address_never_holds_the_csrf_token(logged_in_page):
    page = logged_in_page("lee")
    page.goto("/exports")
    page.locator("select[name=topic]").select_option("AI")
    page.wait_for_url(lambda url: "topic=AI" in url)
    assert parse_qs(urlsplit(page.url).query) == {"topic": ["AI"]}


def test_export_reversed_dates_are_named_beside_the_field(logged_in_page):
    page = logged_in_page("lee")
    page.goto("/exports?topic=AI")
    _mark(page)
    page.get_by_label("Approved from", exact=True).fill("2024-02-01")
    page.get_by_label("Approved to", exact=True).fill("2024-01-01")
    _beside(page, "approved_to", "Approved to: must be on or after Approved from.")
    expect(page.locator("#export-count")).not_to_contain_text("will be exported")
    _reversed_range_then_fixed(
        page,
        ("Approved from", "Approved to"),
        "approved_to",
        "Approved to: must be on or after Approved from.",
    )
    expect(page.locator("#export-count")).to_contain_text("will be exported")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"topic": ["AI"], "approved_from": ["2024-02-01"], "approved_to": ["2024-03-01"]}
    _not_reloaded(page)


NO_JS = {
    "queue": (
        "maria",
        "/?published_from=2024-02-01&published_to=2024-01-01",
        "published_to",
        "To: must be on or after From.",
    ),
    "stats": ("lee", "/stats?period=custom&from=2024-02-01", "to", "To: a date like 2023-10-19 is needed."),
    "audit": ("lee", "/audit?from=2024-02-01&to=2024-01-01", "to", "To: must be on or after From."),
    "users": ("ada", "/admin/users?state=gone", "state", "State must be one of active, disabled."),
}


@pytest.mark.parametrize("name", NO_JS)
def test_without_javascript_the_page_names_the_bad_field(no_js_page, name):
    username, url, field, message = NO_JS[name]
    page = no_js_page(username)
    response = page.goto(url)
    assert response.status == 422
    _beside(page, field, message)
    if name == "stats":
        expect(page.locator("select[name=period]")).to_have_value("custom")


def test_export_without_javascript_names_the_bad_field(no_js_page):
    page = no_js_page("lee")
    page.goto("/exports")
    page.get_by_label("Approved from", exact=True).fill("2024-02-01")
    page.get_by_label("Approved to", exact=True).fill("2024-01-01")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Export as zip").click()
    assert answer.value.status == 422
    _beside(page, "approved_to", "Approved to: must be on or after Approved from.")
