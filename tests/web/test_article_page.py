"""/articles/N for a browser: the queue, filtered by the query string, with the article open in the panel."""

from tests.factories import HX, post, soup
from webapp.services import moderation


def test_the_article_page_is_the_queue_with_the_article_open(client, login, article):
    login()
    response = client.get(f"/articles/{article.id}")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = soup(response)
    assert page.find("title").get_text().startswith("Met Police roll out facial recognition")
    assert page.find("h1", id="queue-heading") and page.find("tr", id=f"article-{article.id}")
    panel = page.find("section", id="panel")
    assert panel["data-article"] == str(article.id) and "empty" not in panel["class"]
    assert panel.find("h2").get_text().startswith("Met Police roll out")
    # Without JavaScript every action is a plain form; with it, the same panel is the desk's.
    assert panel.find("form", action=f"/articles/{article.id}/approve", method="post")


def test_the_article_page_takes_the_queues_filters_from_the_query(client, login, article):
    login()
    page = soup(client.get(f"/articles/{article.id}?status=all&q=nothing+matches+this"))
    assert page.find("input", id="q")["value"] == "nothing matches this"
    assert page.find("tr", id=f"article-{article.id}") is None
    assert page.find("section", id="panel")["data-article"] == str(article.id)
    bad = soup(client.get(f"/articles/{article.id}?status=sideways"))
    assert "Status must be one of" in bad.find("form", id="filters").get_text()
    assert bad.find("section", id="panel")["data-article"] == str(article.id)


def test_htmx_still_gets_the_panel_alone(client, login, article):
    login()
    fragment = soup(client.get(f"/articles/{article.id}?status=all", headers=HX))
    assert fragment.find("html") is None and fragment.find("tbody", id="queue-rows") is None
    assert fragment.find("section", id="panel")["data-article"] == str(article.id)


def test_without_javascript_a_conflict_or_a_bad_value_answers_the_desk_with_the_article(
    client, login, make_user, article
):
    login()
    moderation.decide(article.id, make_user("ana"), "approved", 1)
    conflict = post(client, f"/articles/{article.id}/reject", version=1)
    assert conflict.status_code == 409
    page = soup(conflict)
    assert page.find("h1", id="queue-heading")
    assert "approved by ana" in page.select_one("#panel .conflict").get_text(" ", strip=True)
    bad = post(client, f"/articles/{article.id}/heat", version=2, heat="500")
    assert bad.status_code == 422
    page = soup(bad)
    assert page.find("h1", id="queue-heading")
    assert "500 is too high" in page.select_one("#panel form.heat .error").get_text()
    assert page.select_one("#panel form.heat input[name=heat]")["value"] == "500"
    assert page.select_one("#panel form.heat input[name=version]")["value"] == "2"
    saved = post(client, f"/articles/{article.id}/heat", version=2, heat="50")
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/articles/{article.id}")


def test_every_heat_answer_carries_the_new_version(client, login, article):
    login()
    for version, value, status in ((1, "10", 200), (2, "abc", 422), (2, "20", 200), (3, "999", 422)):
        response = post(
            client, f"/articles/{article.id}/heat", HX, version=version, heat=value, answer="moderation"
        )
        assert response.status_code == status
        form = soup(response).select_one("form.heat")
        expected = version + 1 if status == 200 else version
        assert form.find("input", attrs={"name": "version"})["value"] == str(expected)
