"""Users, run from the browser: an admin adds a moderator with a one-time password, the moderator must
choose their own before anything else, reviews, and is disabled; their open page ends at the next click."""

import re
import uuid
from urllib.parse import urlsplit

import pytest

from tests.factories import expect, shown_alert

OWN_PASSWORD = "moderator's own password"


@pytest.fixture
def expected_refusals(console_errors):
    yield
    # The disabled moderator's requests are refused: Chromium logs each as a failed resource.
    console_errors[:] = [error for error in console_errors if not re.search(r"status of 401\b", error)]


def add_user(admin, username: str, role: str = "moderator") -> str:
    """Fill Add a user on the Users page (a one-time password); the password it shows."""
    form = admin.locator("#new-user")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Role").select_option(role)
    expect(form.get_by_label("One-time", exact=False)).to_be_checked()
    expect(form.get_by_label("Password again")).to_be_hidden()  # asked only for a typed password
    form.get_by_role("button", name="Create user").click()
    shown = admin.locator("#new-user code.one-time-password")
    expect(shown).to_be_visible()
    return shown.inner_text()


def test_an_admin_adds_a_moderator_who_reviews_until_disabled(
    logged_in_page, new_page, story, expected_refusals
):
    marker = f"Marker{uuid.uuid4().hex[:8]}"
    first, second = (story(**{"Britain's biggest": f"{marker} Britain's biggest"}) for _ in range(2))
    username = f"mod{uuid.uuid4().hex[:8]}"

    admin = logged_in_page("ada")
    admin.get_by_role("navigation", name="Account").get_by_role("link", name="Users").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Users")
    admin.evaluate("window.copydeskMarker = 'still here'")
    password = add_user(admin, username)
    expect(admin.locator("#new-user")).to_contain_text(f"Created moderator {username}.")
    row = admin.locator("#user-rows tr.user", has_text=username)
    expect(row).to_contain_text("one-time password")
    expect(row.locator("[data-label='Last login']")).to_have_text("never")
    assert admin.evaluate("window.copydeskMarker") == "still here", "the page reloaded"

    moderator = new_page()
    moderator.goto("/login")
    moderator.get_by_label("Username").fill(username)
    moderator.get_by_label("Password").fill(password)
    moderator.get_by_role("button", name="Log in").click()
    moderator.wait_for_url(re.compile(r"/account/password\?next="))
    expect(moderator.get_by_text("You logged in with a one-time password")).to_be_visible()
    moderator.goto(f"/?status=all&q={marker}")  # nothing else opens first
    assert urlsplit(moderator.url).path == "/account/password"
    moderator.get_by_label("Current password").fill(password)
    moderator.locator("#password").fill(OWN_PASSWORD)
    moderator.get_by_label("New password again").fill(OWN_PASSWORD)
    moderator.get_by_role("button", name="Change my password").click()
    moderator.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(moderator.locator(".flash")).to_contain_text("Your password is changed.")

    moderator.goto(f"/?status=all&q={marker}")
    rows = moderator.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    moderator.evaluate("window.copydeskMarker = 'still here'")
    moderator.locator("#queue-rows a[data-open]", has_text=first).click()
    panel = moderator.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(first)
    approve = panel.locator('[data-action="approve"]')
    expect(approve).to_be_enabled()
    approve.click()
    expect(moderator.locator("#queue-rows tr.row", has_text=first).locator(".status")).to_have_text(
        "Approved"
    )

    admin.reload()
    row = admin.locator("#user-rows tr.user", has_text=username)
    expect(row.locator("[data-label='Decisions, 30 days']")).to_contain_text("1")
    expect(row).not_to_contain_text("one-time password")
    row.get_by_role("button", name=f"Disable {username}").click()
    expect(row.locator("[data-label='State']")).to_have_text("disabled")
    expect(row.get_by_role("status")).to_contain_text(f"{username} is disabled")
    expect(row.get_by_role("button", name=f"Enable {username}")).to_be_visible()

    # The moderator's next click: the banner, not the article, and not a login page in the panel.
    moderator.locator("#queue-rows a[data-open]", has_text=second).click()
    expect(moderator.locator("#session-ended")).to_contain_text("Your session ended: log in again")
    expect(panel.get_by_role("heading", level=2)).to_have_text(first)
    expect(moderator.locator("form.login")).to_have_count(0)
    assert moderator.evaluate("window.copydeskMarker") == "still here"

    moderator.goto("/login")
    moderator.get_by_label("Username").fill(username)
    moderator.get_by_label("Password").fill(OWN_PASSWORD)
    moderator.get_by_role("button", name="Log in").click()
    expect(shown_alert(moderator)).to_have_text("Wrong username or password.")


def test_the_users_page_at_every_width(logged_in_page, console_errors, tmp_path_factory):
    """A one-time password on a narrow screen: the row's changes wrap under it, nothing scrolls sideways."""
    admin = logged_in_page("ada")
    admin.goto("/admin/users")
    username = f"wide{uuid.uuid4().hex}"
    add_user(admin, username, "lead")
    row = admin.locator("#user-rows tr.user", has_text=username)
    row.get_by_role("button", name=f"Reset password {username}").click()
    expect(row.locator("code.one-time-password")).to_be_visible()
    folder = tmp_path_factory.mktemp("users-screens")
    for width, height in ((390, 844), (768, 1024), (1280, 860)):
        admin.set_viewport_size({"width": width, "height": height})
        expect(row.get_by_role("button", name=f"End sessions {username}")).to_be_visible()
        admin.screenshot(path=str(folder / f"users-{width}.png"), full_page=True)
        wider = admin.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wider <= 0, f"{wider} px too wide at {width}"
        box = row.locator("code.one-time-password").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
