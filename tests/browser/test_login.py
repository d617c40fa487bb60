"""Logging in through the real form, in Chromium."""

import pytest

from tests.factories import expect, screenshots, shown_alert


@pytest.mark.screenshot
def test_moderator_logs_in_and_sees_the_queue(logged_in_page):
    page = logged_in_page("maria")

    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    screenshots(page, "queue", full_page=True)


def test_wrong_password_is_refused(page):
    page.goto("/login")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(shown_alert(page)).to_have_text("Wrong username or password.")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
