"""The provider filter matches part of a name or domain, in any case, with suggestions, on every page."""

import uuid

import pytest

from tests.factories import expect, queue_with


@pytest.fixture
def provider_story(story):
    """Factory: a story from a provider of its own; (title, provider name, domain)."""

    def make():
        mark = uuid.uuid4().hex[:8]
        name, domain = f"The Sunday Metro {mark}", f"metro-{mark}.example"
        title = story(**{"Business Matters": name, "bmmagazine.co.uk": domain})
        return title, name, domain

    return make


def _filter_by_provider(page, text, submit=True):
    field = page.get_by_label("Provider", exact=True)
    field.fill(text)
    if submit:  # the Export form counts as you type: Enter there would download
        field.press("Enter")


def _suggests(page, name):
    field = page.get_by_label("Provider", exact=True)
    datalist = page.locator(f"datalist#{field.get_attribute('list')}")
    expect(datalist.locator(f'option[value="{name}"]')).to_have_count(1)


def test_queue_matches_part_of_the_name_or_the_domain_in_any_case(logged_in_page, provider_story):
    title, name, domain = provider_story()
    page = logged_in_page("maria")
    queue_with(page, title)
    _suggests(page, name)
    rows = page.locator("#queue-rows tr.row")
    _filter_by_provider(page, name.split()[-1].upper())  # its mark, in capitals: only this story
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(title)
    _filter_by_provider(page, "SUNDAY metro " + name.split()[-1])
    expect(rows).to_have_count(1)
    _filter_by_provider(page, domain.split(".")[0].upper())
    expect(rows).to_have_count(1)
    _filter_by_provider(page, "metro_%")  # wildcards are letters like any other: nothing has them
    expect(page.locator("#queue-rows tr.empty")).to_contain_text("Nothing matches.")


def test_stats_and_export_match_the_same_way(logged_in_page, provider_story):
    title, name, domain = provider_story()
    page = logged_in_page("lee")
    row = queue_with(page, title)
    row.locator("a[data-open]").click()
    page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
    expect(row.locator(".status")).to_have_text("Approved")

    page.goto("/stats")
    _suggests(page, name)
    _filter_by_provider(page, domain.upper())
    approved = page.locator(".headline-figures div", has_text="Approved").first.locator("dd")
    expect(approved).to_have_text("1")

    page.goto("/exports")
    _suggests(page, name)
    _filter_by_provider(page, name.lower().removeprefix("the "), submit=False)
    expect(page.locator("#export-count")).to_contain_text("1 approved article will be exported.")
