"""The queue's rows: views built by the service (listing.RowView), their markup rendered once per view."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from tests.factories import HX
from webapp.services import claims
from webapp.services.listing import QueueFilters, RowView, queue_page, queue_rows
from webapp.web.rendering import row_html, rows_oob_html

STALE = timedelta(hours=48)


def test_the_service_builds_what_the_row_shows(article, make_user):
    maria = make_user("maria")
    claims.claim(article.id, maria, 300)
    (view,) = queue_page(QueueFilters(), None, STALE, href=lambda article_id: f"/a/{article_id}").rows
    assert view == RowView(
        id=article.id,
        href=f"/a/{article.id}",
        version=1,
        status="pending",
        title=article.title,
        stale=True,
        seed_published=article.seed_published,
        duplicate_of_title=None,
        duplicate_reason=None,
        claimed_by_other="maria",
        provider_name="Business Matters",
        published_at=article.published_at,
        published_ago="19 Oct 2023",
        quality=16,
        heat=-1,
        decided_by=None,
        related_count=7,
        suggestion_count=article.suggestion_count,
    )
    assert queue_rows([article.id], STALE, viewer_id=maria.id)[0].claimed_by_other is None
    assert queue_rows([article.id], timedelta(days=365 * 100))[0].stale is False
    with pytest.raises(AttributeError):
        view.heat = 5


def test_equal_views_are_rendered_once_and_a_change_shows(app, article):
    (view,) = queue_rows([article.id], STALE, href=lambda article_id: f"/articles/{article_id}")
    assert row_html(view._replace()) is row_html(view)
    heated = BeautifulSoup(row_html(view._replace(heat=40)), "html.parser")
    assert [td.get_text() for td in heated.find_all("td")][5] == "40"
    unset = BeautifulSoup(row_html(view), "html.parser")
    assert [td.get_text() for td in unset.find_all("td")][5] == "not set"


def test_rows_travel_out_of_band_each_replacing_its_own(app, article):
    (view,) = queue_rows([article.id], STALE, href=lambda article_id: f"/articles/{article_id}")
    other = view._replace(id=view.id + 1, title="<b>other</b>")
    markup = str(rows_oob_html([view, other]))
    assert markup.startswith("<template>") and markup.endswith("</template>")
    rows = BeautifulSoup(markup, "html.parser").find_all("tr")
    assert [(row["id"], row["hx-swap-oob"]) for row in rows] == [
        (f"article-{view.id}", "true"),
        (f"article-{view.id + 1}", "true"),
    ]
    assert "<b>" not in markup and "&lt;b&gt;other&lt;/b&gt;" in markup
    assert "hx-swap-oob" not in row_html(view)


def test_a_row_links_with_url_for_under_the_scripts_root(client, login, article):
    login()
    for root in ("", "/desk"):
        rows = BeautifulSoup(
            client.get("/", headers=HX, environ_overrides={"SCRIPT_NAME": root}).get_data(as_text=True),
            "html.parser",
        )
        link = rows.select_one(f"#article-{article.id} a[data-open]")
        assert link["href"] == link["hx-get"] == f"{root}/articles/{article.id}"


def test_a_row_refreshed_alone_is_the_row_of_the_page(client, login, article):
    login()
    page = BeautifulSoup(client.get("/", headers=HX).get_data(as_text=True), "html.parser")
    alone = BeautifulSoup(
        client.get(f"/articles/{article.id}/row", headers=HX).get_data(as_text=True), "html.parser"
    )
    assert alone.find("tr") == page.find("tr", id=f"article-{article.id}")


def test_a_possible_duplicate_badge_names_its_reason_only_when_it_has_one(app, article):
    (view,) = queue_rows([article.id], STALE, href=lambda article_id: f"/articles/{article_id}")
    with_reason = view._replace(duplicate_of_title="Older", duplicate_reason="same headline")
    assert (
        "possible duplicate of “Older” (same headline)"
        in BeautifulSoup(row_html(with_reason), "html.parser").get_text()
    )
    badge = BeautifulSoup(row_html(view._replace(duplicate_of_title="Older")), "html.parser").find(
        class_="duplicate"
    )
    assert badge.get_text() == "possible duplicate of “Older”"
