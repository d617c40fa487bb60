"""The related block of an article with a long related list: a page at a time, Show more (htmx and
plain), and merges on it (bench/big_seed.py times the same at 10,000 entries)."""

import pytest
from sqlalchemy import func, select

from bench.big_seed import big_seed_text
from tests.factories import HX, post, soup
from webapp.models import Article, DuplicateSuggestion, RelatedLink, db
from webapp.services.merging import PANEL_ENTRIES, PANEL_GROUPS
from webapp.services.seed_import import import_paths

ENTRIES = 400


@pytest.fixture
def big(app, tmp_path):
    """An article of 400 similar related entries: more groups and entries than one page shows."""
    (tmp_path / "big.txt").write_text(big_seed_text(ENTRIES, max_bytes=120_000), encoding="utf-8")
    report = import_paths([str(tmp_path)], max_bytes=2**21)
    assert report.imported == 1, report.errors
    article = db.session.scalar(select(Article))
    assert article.suggestion_count > PANEL_GROUPS
    return article


def suggestion_ids(page) -> list[str]:
    return [form["aria-labelledby"] for form in page.select("form.suggestion")]


def entries(page) -> list[str]:
    return [item["id"] for item in page.select("ol.related > li[id^=related-link-]")]


def test_the_panel_shows_one_page_of_groups_and_entries(client, login, big):
    login()
    page = soup(client.get(f"/articles/{big.id}", headers=HX))
    assert len(suggestion_ids(page)) == PANEL_GROUPS
    assert len(entries(page)) == PANEL_ENTRIES
    assert page.find("h3").get_text() == f"Related coverage ({ENTRIES})"
    more = page.select_one("a[data-action=more-groups]")
    assert more["href"] == more["hx-get"] and "groups_after=" in more["href"]
    more = page.select_one("a[data-action=more-entries]")
    assert more["href"] == more["hx-get"] and "entries_after=" in more["href"]


def test_show_more_with_htmx_answers_the_next_groups_then_the_last(client, login, big):
    login()
    page = soup(client.get(f"/articles/{big.id}", headers=HX))
    seen = suggestion_ids(page)
    link = page.select_one("a[data-action=more-groups]")
    while link is not None:
        response = client.get(link["hx-get"], headers=HX)
        assert response.status_code == 200 and "HX-Request" in response.vary
        fragment = soup(response)
        assert fragment.find("html") is None and fragment.select_one("#panel") is None
        found = suggestion_ids(fragment)
        assert 0 < len(found) <= PANEL_GROUPS and not set(found) & set(seen)
        seen += found
        link = fragment.select_one("a[data-action=more-groups]")
    stored = db.session.scalar(select(func.count()).where(DuplicateSuggestion.article_id == big.id))
    assert len(seen) == stored == big.suggestion_count


def test_show_more_entries_with_htmx_answers_the_next_list_items(client, login, big):
    login()
    page = soup(client.get(f"/articles/{big.id}", headers=HX))
    link = page.select_one("a[data-action=more-entries]")
    fragment = soup(client.get(link["hx-get"], headers=HX))
    items = [item["value"] for item in fragment.select("li[id^=related-link-]")]
    assert items == [str(position) for position in range(PANEL_ENTRIES + 1, 2 * PANEL_ENTRIES + 1)]
    assert fragment.select_one("li.show-more a[data-action=more-entries]") is not None


def test_show_more_without_javascript_is_the_article_page_at_the_next_groups(client, login, big):
    login()
    first = soup(client.get(f"/articles/{big.id}"))
    link = first.select_one("a[data-action=more-groups]")
    response = client.get(link["href"])
    assert response.status_code == 200
    page = soup(response)
    assert page.find("html") is not None and page.select_one("#panel") is not None
    assert suggestion_ids(page) and not set(suggestion_ids(page)) & set(suggestion_ids(first))


@pytest.mark.parametrize("value", ["x", "-1", "²", "9" * 30, ""])
def test_a_bad_page_of_the_related_block_is_400(client, login, big, value):
    login()
    response = client.get(f"/articles/{big.id}/related?groups_after={value}", headers=HX)
    assert response.status_code == 400
    assert "groups_after must be a whole number" in response.get_data(as_text=True)


def test_a_merge_on_a_long_list_answers_with_one_page_of_the_panel(client, login, big):
    login()
    first = db.session.scalar(
        select(DuplicateSuggestion)
        .where(DuplicateSuggestion.article_id == big.id)
        .order_by(DuplicateSuggestion.id)
    )
    positions = [str(position) for position in first.positions]
    response = post(
        client, f"/articles/{big.id}/merge", headers=HX, position=positions, version=1, answer="panel"
    )
    assert response.status_code == 200
    panel = soup(response)
    merged = len(positions) - 1
    assert panel.find("h3").get_text() == f"Related coverage ({ENTRIES - merged}, {merged} merged)"
    assert len(suggestion_ids(panel)) <= PANEL_GROUPS and len(entries(panel)) == PANEL_ENTRIES
    db.session.expire_all()
    hidden = db.session.scalar(
        select(func.count()).where(RelatedLink.article_id == big.id, RelatedLink.merged_into_id.is_not(None))
    )
    assert hidden == merged
