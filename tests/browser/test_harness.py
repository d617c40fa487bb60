"""The harness itself: broken pages fail tests, and seeds imported mid-session reach the running app."""

from tests.factories import expect

SEED = """---
category: news
title: "Harness check: a <b>title</b> with markup"
publishedDateTime: 2099-01-01T00:00:00Z
webUrl: "https://example.com/harness-check"
provider:
  name: Harness
---
Body.
"""
# page.evaluate itself bypasses the CSP; the script element it adds does not.
INJECT_INLINE_SCRIPT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.ran = 1";
    document.body.append(script);
}"""


def test_a_csp_violation_is_a_console_error(logged_in_page, console_errors):
    page = logged_in_page("maria")

    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate(INJECT_INLINE_SCRIPT)

    assert page.evaluate("() => window.ran") is None
    assert len(console_errors) == 1 and "Content Security Policy" in console_errors[0], console_errors
    console_errors.clear()


def test_an_uncaught_exception_is_reported(page, console_errors):
    page.goto("/login")

    with page.expect_event("pageerror"):
        page.evaluate("() => setTimeout(() => { throw new Error('boom') })")

    assert console_errors == ["uncaught exception: boom"]
    console_errors.clear()


def test_an_imported_seed_shows_in_the_running_app(logged_in_page, import_seed):
    report = import_seed(SEED)
    refused = import_seed("no front matter\n")

    assert report["imported"] == 1, report
    assert refused["invalid"] == 1, refused
    page = logged_in_page("lee")
    expect(page.get_by_text("Harness check: a <b>title</b> with markup", exact=True)).to_be_visible()
