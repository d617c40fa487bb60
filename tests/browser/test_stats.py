"""The stats dashboard, the audit log and the Export page in a real browser: charts drawn with labels,
htmx filters."""

import pytest

from tests.factories import approve_some, expect, screenshots


@pytest.mark.screenshot
def test_dashboard_draws_its_charts_with_labels_and_filters_in_place(logged_in_page, story):
    approve_some(logged_in_page, story)
    page = logged_in_page("lee")
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto("/stats?period=7d")
    page.evaluate("window.copydeskMarker = 'still here'")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(8)
    per_day = charts.first
    expect(per_day.locator("figcaption")).to_have_text("Decisions per day")
    expect(per_day.locator("svg.chart-svg rect.approved").first).to_be_visible()
    assert per_day.locator("svg.chart-svg rect.approved").first.bounding_box()["height"] > 0
    expect(per_day.locator("text.axis-label", has_text="Decisions")).to_be_visible()
    expect(page.locator(".headline-figures")).to_contain_text("Approved")
    moderators = charts.nth(1)
    expect(moderators.locator("text.tick", has_text="maria")).to_be_visible()
    screenshots(page, "stats", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1400})

    page.get_by_label("Period").select_option("30d")
    expect(page).to_have_url("/stats?period=30d&from=&to=&moderator=&topic=&provider=", timeout=5000)
    expect(page.locator(".period")).to_be_visible()
    assert page.evaluate("window.copydeskMarker") == "still here"


def test_audit_log_lists_the_decisions_with_links(logged_in_page, story):
    approve_some(logged_in_page, story, count=1)
    page = logged_in_page("lee")
    page.goto("/audit?action=approve")
    first = page.locator("#audit-rows tr").first
    expect(first.locator("td").nth(1)).to_have_text("maria")
    expect(first.locator("td").nth(2)).to_have_text("approve")
    first.locator("a").click()
    expect(page.locator("#panel h2")).to_be_visible()
