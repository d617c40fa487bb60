"""Reject reasons over HTTP: the listed ones in the panel's reject form, alone or with a note."""

import pytest

from tests.factories import HX, fresh, post, soup


def test_the_reject_form_lists_the_configured_reasons_numbered(client, login, article):
    login()
    form = soup(client.get(f"/articles/{article.id}", headers=HX)).select_one("form.reject-form")
    options = [option.get_text() for option in form.select("select[name=listed_reason] option")]
    assert options == [
        "none",
        "1 off-topic",
        "2 duplicate",
        "3 paywalled",
        "4 low quality",
        "5 outdated",
        "6 wrong category",
    ]
    assert form.find("input", attrs={"name": "reason", "type": "text"})


@pytest.mark.parametrize(
    ("listed", "note", "reason"),
    [
        ("paywalled", "", "paywalled"),
        ("outdated", " from 2019 ", "outdated: from 2019"),
        ("", "press release", "press release"),
        ("", "  ", None),
        ("x" * 300, "y" * 300, ("x" * 300 + ": " + "y" * 300)[:500]),
    ],
)
def test_a_reject_takes_the_listed_reason_the_note_or_both(client, login, article, listed, note, reason):
    login()
    for headers in (HX, None):
        response = post(
            client,
            f"/articles/{article.id}/reject",
            headers,
            version=fresh(article.id).version,
            listed_reason=listed,
            reason=note,
            answer="moderation",
        )
        assert response.status_code in (200, 303)
        assert fresh(article.id).reject_reason == reason
        post(client, f"/articles/{article.id}/reopen", HX, version=fresh(article.id).version)
