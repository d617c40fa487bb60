"""What htmx gets once a session has ended: a banner with a way back, never the login page as a fragment."""

import pytest

from tests.factories import HX, csrf_token, fresh, soup
from webapp.models import PENDING
from webapp.services import accounts

QUEUE_URL = "http://localhost/?status=all&q=police"


def banner(response):
    """The banner's paragraph, after checking the answer is the banner aimed at #session-ended."""
    assert response.headers["HX-Retarget"] == "#session-ended"
    assert response.headers["HX-Reswap"] == "innerHTML"
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<form" not in body
    paragraph = soup(response).find("p")
    assert "Your session ended: log in again" in paragraph.get_text()
    return paragraph


def test_opening_an_article_after_logout_comes_back_to_that_article(client, login, article):
    login()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    response = client.get(f"/articles/{article.id}", headers={**HX, "HX-Current-URL": QUEUE_URL})
    assert response.status_code == 401
    assert banner(response).find("a")["href"] == f"/login?next=%2Farticles%2F{article.id}"


def test_an_action_with_the_cookies_gone_is_refused_with_the_banner(client, article):
    # No session, so no CSRF token in it: the CSRF check refuses the form before the login check.
    response = client.post(
        f"/articles/{article.id}/reject",
        data={"version": 1, "reason": "off-topic", "csrf_token": "stale"},
        headers={**HX, "HX-Current-URL": f"http://localhost/articles/{article.id}"},
    )
    assert response.status_code == 400
    assert banner(response).find("a")["href"] == f"/login?next=%2Farticles%2F{article.id}"
    assert fresh(article.id).status == PENDING


def test_a_mangled_token_of_a_live_session_gets_the_banner(client, login, article):
    login()
    response = client.post(
        f"/articles/{article.id}/approve",
        data={"version": 1},
        headers={**HX, "X-CSRFToken": "mangled", "HX-Current-URL": QUEUE_URL},
    )
    assert response.status_code == 400
    assert banner(response).find("a")["href"] == "/login?next=%2F%3Fstatus%3Dall%26q%3Dpolice"


def test_a_role_taken_away_gets_the_banner_with_a_reason(client, login):
    login("maria", "moderator")
    response = client.get("/stats", headers={**HX, "HX-Current-URL": "http://localhost/stats?period=30d"})
    assert response.status_code == 403
    paragraph = banner(response)
    assert "may no longer do this" in paragraph.get_text()
    assert paragraph.find("a")["href"] == "/login?next=%2Fstats%3Fperiod%3D30d"


def test_a_demoted_lead_is_logged_out_and_gets_the_banner(client, login):
    login("lena", "lead")
    accounts.set_role("lena", "moderator")
    response = client.get("/stats?period=30d", headers={**HX, "HX-Current-URL": "http://localhost/stats"})
    assert response.status_code == 401
    assert banner(response).find("a")["href"] == "/login?next=%2Fstats"


def test_the_poll_marks_its_banner_passive(client, article):
    poll = client.get(
        "/queue/changes",
        query_string={"since": "2024-01-01T00:00:00+00:00"},
        headers={**HX, "HX-Current-URL": QUEUE_URL},
    )
    assert poll.status_code == 401 and banner(poll).has_attr("data-passive")
    action = client.get(f"/articles/{article.id}", headers=HX)
    assert not banner(action).has_attr("data-passive")


@pytest.mark.parametrize(
    "send, status",
    [
        (lambda client, article: client.get(f"/articles/{article.id}"), 302),
        (lambda client, article: client.post(f"/articles/{article.id}/approve", data={"version": 1}), 400),
    ],
)
def test_without_htmx_the_answers_are_pages_as_before(client, article, send, status):
    response = send(client, article)
    assert response.status_code == status and "HX-Retarget" not in response.headers


def test_the_polls_after_the_end_pile_up_no_messages(client):
    for _ in range(5):
        client.get("/queue/changes", query_string={"since": "2024-01-01T00:00:00+00:00"}, headers=HX)
    with client.session_transaction() as session:
        assert "_flashes" not in session
