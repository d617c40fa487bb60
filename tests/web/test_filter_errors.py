"""A bad filter value answers 422 with its message beside its field: in the page, and out of band in the
fragment htmx swaps; the Export page's address is made of its parsed filters only."""

import pytest

from tests.factories import HX, soup

# page, a query with a bad value, the field it names, its message, and the fields that have a slot
CASES = {
    "queue": (
        "/",
        "?published_from=2024-02-01&published_to=2024-01-01",
        "published_to",
        "To: must be on or after From.",
        {"q", "status", "sort", "published_from", "published_to"},
    ),
    "queue search": (
        "/",
        '?q="election+night',
        "q",
        'Search: a double quote is not closed. Write words (all must match), "a phrase" in double quotes, '
        "or a prefix like elect*.",
        {"q", "status", "sort", "published_from", "published_to"},
    ),
    "stats": (
        "/stats",
        "?period=custom&from=2024-02-01",
        "to",
        "To: a date like 2023-10-19 is needed.",
        {"period", "from", "to"},
    ),
    "audit": (
        "/audit",
        "?article=twelve",
        "article",
        "Article: 'twelve' is not a whole number.",
        {"action", "article", "from", "to"},
    ),
    "exports": (
        "/exports",
        "?approved_from=2024-02-01&approved_to=2024-01-01",
        "approved_to",
        "Approved to: must be on or after Approved from.",
        {"approved_from", "approved_to", "format"},
    ),
}


@pytest.fixture
def lead(client, login, article):
    login("lena", "lead")
    return client


def _slots(html) -> dict[str, str]:
    return {
        slot["id"].removeprefix("error-"): slot.get_text() for slot in html.select("span.error[id^=error-]")
    }


@pytest.mark.parametrize("name", CASES)
def test_the_page_answers_422_with_the_message_beside_the_field(lead, name):
    path, query, field, message, fields = CASES[name]
    response = lead.get(path + query)
    assert response.status_code == 422
    page = soup(response)
    assert _slots(page) == {each: message if each == field else "" for each in fields}
    control = page.find(attrs={"name": field})
    assert control["aria-describedby"] == f"error-{field}" and control["aria-invalid"] == "true"
    assert lead.get(path).status_code == 200


@pytest.mark.parametrize("name", CASES)
def test_htmx_gets_the_message_out_of_band_and_every_other_slot_emptied(lead, name):
    path, query, field, message, fields = CASES[name]
    fragment_path = "/exports/count" if name == "exports" else path
    response = lead.get(fragment_path + query, headers=HX)
    assert response.status_code == 422
    oob = soup(response).find_all("span", attrs={"hx-swap-oob": True})
    on_page = fields - {"format"}  # the format is chosen by the download's button, never by htmx
    # Text inside a <template> is left out of get_text(): the slot's markup is its text here.
    assert {slot["id"].removeprefix("error-"): slot.decode_contents() for slot in oob} == {
        each: message if each == field else "" for each in on_page
    }
    fixed = soup(lead.get(fragment_path, headers=HX))
    assert {slot.decode_contents() for slot in fixed.find_all("span", attrs={"hx-swap-oob": True})} == {""}


def test_stats_json_and_csv_answer_422_too(lead):
    assert lead.get("/stats.json?period=custom").status_code == 422
    assert lead.get("/stats.csv?period=custom").status_code == 422


def test_a_broken_page_link_stays_a_400(lead):
    # Not a value the user chose: a cursor only our own pages produce.
    assert lead.get("/?after=garbage").status_code == 400
    assert lead.get("/audit?after=garbage").status_code == 400


def test_the_export_address_holds_the_parsed_filters_only(lead):
    response = lead.get(
        "/exports/count?csrf_token=secret&topic=AI&approved_from=2024-01-01&approved_to=&format=zip&junk=1",
        headers=HX,
    )
    assert response.headers["HX-Replace-Url"] == "/exports?approved_from=2024-01-01&topic=AI"
    form = soup(lead.get("/exports")).find("form", id="export-filters")
    assert form["hx-params"] == "not csrf_token"
