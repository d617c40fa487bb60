"""The same story twice: once one copy is rejected as the other's duplicate, the survivor offers no more."""

import uuid

from tests.factories import assert_no_reload, expect, real_seed_titled

OWN_URL = "https://bmmagazine.co.uk/news/met-police-roll-out-facial-recognition-technology-to-tackle-londons-shoplifting/"


def test_after_absorbing_a_duplicate_the_survivor_does_not_offer_to_mark_it(logged_in_page, import_seed):
    title = f"Story {uuid.uuid4().hex[:10]}"
    url = f"https://example.com/{uuid.uuid4().hex}"
    for _ in range(2):
        assert import_seed(real_seed_titled(title, **{OWN_URL: url}))["imported"] == 1
    page = logged_in_page("maria")
    page.goto(f"/?status=all&q={title}")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    page.evaluate("window.copydeskMarker = 'still here'")
    ids = sorted(
        int(row_id.removeprefix("article-")) for row_id in rows.evaluate_all("rs => rs.map(r => r.id)")
    )
    survivor, duplicate = ids
    page.locator(f"#article-{duplicate} a[data-open]").click()
    panel = page.locator("#panel")
    expect(panel).to_have_attribute("data-article", str(duplicate))
    panel.get_by_role("button", name=f"Mark as duplicate of #{survivor}").click()
    expect(panel.locator(".moderation .status")).to_have_text("Rejected")
    panel.get_by_role("button", name=f"Add its 7 related links to #{survivor}").click()
    expect(panel).to_have_attribute("data-article", str(survivor))
    expect(panel.get_by_role("heading", level=3, name="Related coverage (14)")).to_be_visible()
    duplicates = panel.locator(".possible-duplicates")
    expect(duplicates).to_contain_text("rejected as a duplicate of this one")
    expect(panel.get_by_role("button", name=f"Mark as duplicate of #{duplicate}")).to_have_count(0)
    # The rejected copy no longer offers its links again either.
    page.locator(f"#article-{duplicate} a[data-open]").click()
    expect(panel).to_have_attribute("data-article", str(duplicate))
    expect(panel.locator("[data-action=absorb]")).to_have_count(0)
    expect(panel.locator(".possible-duplicates")).to_contain_text(
        f"this article's related links were added to #{survivor}"
    )
    assert_no_reload(page)
