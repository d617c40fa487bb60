"""The queue's search over HTTP: a query that cannot run is a 422 naming the mistake, never a 500;
the words it matched are marked in the rows, the seed's text still escaped around them."""

import pytest

from tests.factories import HX, soup, write_seed
from webapp.services.seed_import import import_paths


@pytest.fixture
def desk(client, login, tmp_path):
    write_seed(tmp_path, "hostile", title="<script>alert(1)</script> Election & <b>night</b>")
    write_seed(tmp_path, "plain", title="Sports results")
    import_paths([str(tmp_path)], max_bytes=2**21)
    login("maria")
    return client


@pytest.mark.parametrize(
    "q, message",
    [
        ('"election night', "Search: a double quote is not closed."),
        ("el*ection", "Search: 'el*ection': * goes at the end of a word, as in elect*."),
        ("!!! ???", "Search: '!!! ???' holds no word to search for."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_query_that_cannot_run_is_a_422_naming_it(desk, q, message, headers):
    response = desk.get("/", query_string={"q": q, "status": "all"}, headers=headers)
    assert response.status_code == 422
    assert message in soup(response).find(id="error-q").decode_contents()


def test_matching_words_are_marked_and_the_title_stays_text(desk):
    page = soup(desk.get("/", query_string={"q": "election night", "status": "all"}))
    (link,) = [a for a in page.select("td.title a") if a.find("mark")]
    assert [mark.get_text() for mark in link.find_all("mark")] == ["Election", "night"]
    assert link.get_text() == "<script>alert(1)</script> Election & <b>night</b>"
    assert page.find("script", string="alert(1)") is None and page.find("b", string="night") is None
    assert len(page.select("td.title a")) == 1


def test_rows_carry_no_marks_without_a_search(desk):
    page = soup(desk.get("/", query_string={"status": "all"}))
    assert len(page.select("td.title a")) == 2 and not page.select("td.title mark")


def test_relevance_is_a_sort_of_the_filter_form(desk):
    page = soup(desk.get("/", query_string={"q": "sports", "sort": "relevance"}))
    assert page.find("select", attrs={"name": "sort"}).find("option", selected=True)["value"] == "relevance"
    assert [a.get_text() for a in page.select("td.title a")] == ["Sports results"]
