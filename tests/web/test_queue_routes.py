"""The queue and article routes over HTTP: roles, CSRF, fragments, conflicts, heat, bulk, undo, claims."""

import json
import re
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, func, select

from tests.factories import (
    HX,
    PASSWORD,
    REAL_SEED,
    FreshRequestClient,
    csrf_token,
    fresh,
    post,
    soup,
    write_seed,
)
from webapp.models import APPROVED, PENDING, Article, AuditEvent, Claim, User, db, role_at_least, utcnow
from webapp.services import claims, jobs, moderation
from webapp.services import undo as undo_module
from webapp.services.seed_import import import_paths


def token(client) -> str:
    return csrf_token(client, "/")


# Every route a logged-in user reaches: the least role that may use it, and its answer to that role
# (a POST sent as a plain form). A lower role gets 403, an anonymous visitor the way to log in.
ROUTES = [
    ("GET", "/", "moderator", 200),
    ("GET", "/articles/{id}", "moderator", 200),
    ("GET", "/articles/{id}/row", "moderator", 200),
    ("GET", "/articles/{id}/history", "moderator", 200),
    ("GET", "/articles/{id}/related", "moderator", 200),
    ("GET", "/decisions/recent", "moderator", 200),
    ("GET", "/queue/changes?since=2020-01-01T00:00:00%2B00:00", "moderator", 200),
    ("POST", "/articles/{id}/claim", "moderator", 204),
    ("GET", "/account/password", "moderator", 200),
    ("POST", "/account/password", "moderator", 422),  # sent empty: refused, with the messages
    ("GET", "/admin/users", "admin", 200),
    ("POST", "/admin/users", "admin", 200),  # the page, with the one-time password shown once
    ("POST", "/admin/users/{user}/role", "admin", 303),
    ("POST", "/admin/users/{user}/disable", "admin", 303),
    ("POST", "/admin/users/{user}/enable", "admin", 303),
    ("POST", "/admin/users/{user}/reset-password", "admin", 200),  # the page, with the password
    ("POST", "/admin/users/{user}/end-sessions", "admin", 303),
    ("POST", "/exports", "lead", 303),  # the export's job page follows
    ("GET", "/jobs/{job}", "lead", 200),
    ("POST", "/jobs/{job}/cancel", "lead", 303),
    ("GET", "/jobs/{job}/download", "lead", 200),
    ("POST", "/imports/upload", "lead", 422),  # sent without files: refused, with the message
]
FORMS = {
    "/exports": {"format": "zip"},
    "/admin/users": {"username": "newcomer", "role": "moderator"},
    "/admin/users/{user}/role": {"role": "lead"},
}


@pytest.mark.parametrize("role", [None, "moderator", "lead", "admin"])
@pytest.mark.parametrize("method, path, least, answer", ROUTES)
def test_route_by_role(client, login, make_user, article, method, path, least, answer, role, tmp_path):
    if role:
        login("someone", role)
    target = make_user("target", "moderator")
    url = path.format(id=article.id, user=target.id, job=finished_export(tmp_path))
    valid_token = token(client) if role else csrf_token(client, "/login")
    response = (
        client.get(url, headers=HX)
        if method == "GET"
        else client.post(url, data=FORMS.get(path, {}), headers={"X-CSRFToken": valid_token})
    )
    if response.mimetype == "application/zip":
        response.get_data()
        response.close()  # a download holds its file open
    if role is None:
        # htmx asked: a 401 with a banner linking to the login form, never the login page itself.
        expected = 401 if method == "GET" else 302
    else:
        expected = answer if role_at_least(role, least) else 403
    assert response.status_code == expected
    if role is None:
        login_link = soup(response).find("a")["href"] if method == "GET" else response.location
        assert login_link.startswith("/login")
    if expected in (302, 401, 403):
        db.session.expire_all()
        assert (target.role, target.active, target.must_change_password) == ("moderator", True, False)
        assert db.session.scalar(select(func.count(User.id))) == (2 if role else 1)


def finished_export(folder) -> int:
    """A done export job, its file kept for a day."""
    job_id = jobs.create("export", {"format": "zip", "filters": {}}, requested_by="lena").id
    jobs.claim(job_id)
    (folder / "export.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    kept = utcnow() + timedelta(days=1)
    jobs.finish(job_id, result_path=str(folder / "export.zip"), result_expires_at=kept)
    return job_id


# The CSRF check runs before the login check: a form without a token is refused (400) whoever sends it;
# an anonymous visitor's form with a valid token (from the login page) is sent to log in.
@pytest.mark.parametrize("with_token, expected", [(True, 302), (False, 400)])
@pytest.mark.parametrize("action", ["approve", "reject", "reopen", "heat"])
def test_anonymous_actions_change_nothing(client, article, action, with_token, expected):
    data = {"version": 1, "heat": 5} | ({"csrf_token": csrf_token(client)} if with_token else {})
    response = client.post(f"/articles/{article.id}/{action}", data=data)
    assert response.status_code == expected
    if expected == 302:
        assert response.location.startswith("/login?next=")
    assert fresh(article.id).version == 1


def test_post_without_csrf_token_is_refused(client, login, article):
    login()
    response = client.post(f"/articles/{article.id}/approve", data={"version": 1}, headers=HX)
    assert response.status_code == 400
    assert fresh(article.id).status == PENDING


def test_csrf_token_in_the_htmx_header_is_accepted(client, login, article):
    login()
    page = soup(client.get("/"))
    header = json.loads(page.body["hx-headers"])["X-CSRFToken"]
    response = client.post(
        f"/articles/{article.id}/approve",
        data={"version": 1, "answer": "moderation"},
        headers={**HX, "X-CSRFToken": header},
    )
    assert response.status_code == 200 and fresh(article.id).status == APPROVED


def test_htmx_gets_the_fragment_and_a_browser_the_page(client, login, article):
    login()
    full = client.get("/")
    fragment = client.get("/", headers=HX)
    restore = client.get("/", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert soup(full).find("html") and soup(restore).find("html")
    rows = soup(fragment)
    assert rows.find("html") is None and rows.find("tr", id=f"article-{article.id}")
    panel = client.get(f"/articles/{article.id}", headers=HX)
    assert soup(panel).find("section", id="panel") and soup(panel).find("html") is None
    assert soup(client.get(f"/articles/{article.id}")).find("html")


def test_row_shows_what_a_moderator_needs(client, login, article):
    login()
    row = soup(client.get("/")).find("tr", id=f"article-{article.id}")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[1].startswith("Met Police roll out facial recognition technology") and "stale" in cells[1]
    assert cells[2:8] == ["Business Matters", "19 Oct 2023", "16", "not set", "Pending", "7"]
    assert row.find("time")["title"] == "2023-10-19 13:22 UTC"


def test_approve_with_htmx_swaps_the_moderation_block_and_sends_row_and_history_along(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/approve", HX, version=1, answer="moderation")
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    answer = soup(response)
    block = answer.find("div", id=f"moderation-{article.id}")
    assert block.find(class_="status").get_text() == "Approved" and block.find(
        "button", string="Return to pending"
    )
    history = answer.find(id=f"history-{article.id}")
    assert history["hx-swap-oob"] == "true" and "approve by maria" in history.get_text(" ", strip=True)
    # The panel's other forms send this block's version (static/js/app.js): they are not sent again.
    assert block["data-version"] == "2" and answer.find(id=f"related-{article.id}") is None
    row = answer.find("tr", id=f"article-{article.id}")
    assert row["hx-swap-oob"] == "true" and "status-approved" in row["class"]
    notice = answer.find(id="notice")
    assert notice["hx-swap-oob"] == "true" and notice.find("button", string="Undo")
    # Parsed again: the text inside a <template> is not the document's text.
    recent = BeautifulSoup(str(answer.find(id="recent")), "html.parser")
    assert recent.section["hx-swap-oob"] == "true" and "Met Police" in recent.get_text()
    counts = BeautifulSoup(str(answer.find(id="queue-counts")), "html.parser")
    assert counts.get_text(" ", strip=True) == "0 pending · you: 1 today"
    assert fresh(article.id).status == APPROVED


def test_approve_from_a_row_answers_with_the_row(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/approve", HX, version=1, answer="row")
    row = soup(response).find("tr", id=f"article-{article.id}")
    assert "status-approved" in row["class"] and f"panel-stale-{article.id}" in response.headers["HX-Trigger"]


def test_plain_form_post_redirects_and_shows_undo(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/approve", version=1, next="/?status=all")
    assert response.status_code == 303 and response.location == "/?status=all"
    page = soup(client.get("/?status=all"))
    assert "Approved “Met Police" in page.find(id="notice").get_text()
    assert page.find(id="notice").find("form")["action"].endswith("/undo")


@pytest.mark.parametrize(
    "path, data, phrase",
    [
        ("approve", {}, "Approved"),
        ("reject", {"reason": "off-topic"}, "Rejected"),
        ("heat", {"heat": "40"}, "Heat set on"),
    ],
)
def test_an_htmx_change_answers_with_its_own_notice_and_undo(client, login, article, path, data, phrase):
    """The answer's notice comes from the event the change wrote, read back from nothing."""
    login()
    answer = soup(post(client, f"/articles/{article.id}/{path}", HX, version=1, **data))
    (event_id,) = db.session.scalars(select(AuditEvent.id).where(AuditEvent.article_id == article.id))
    notice = answer.find(id="notice")  # out of band, in a <template>: get_text() skips it
    assert notice.find("span").string.startswith(f"{phrase} “Met Police")
    assert notice.find("form")["hx-post"] == f"/events/{event_id}/undo"
    # The same notice as the one the page shows when it asks for it afresh.
    shown = soup(client.get("/notice", headers=HX)).find(id="notice")
    assert shown.find("span").string == notice.find("span").string
    assert shown.find("form")["hx-post"] == notice.find("form")["hx-post"]


def test_stale_version_answers_409_with_the_current_state(client, login, article, make_user):
    maria = make_user("maria", password=PASSWORD)
    moderation.decide(article.id, maria, APPROVED, 1)
    login("lee")
    response = post(
        client, f"/articles/{article.id}/reject", HX, version=1, reason="nope", answer="moderation"
    )
    assert response.status_code == 409
    conflict = soup(response).find(class_="conflict").get_text(" ", strip=True)
    assert re.search(r"approved by maria \d+ s ago", conflict) and "Nothing was overwritten" in conflict
    stored = fresh(article.id)
    assert (stored.status, stored.decided_by_id, stored.reject_reason, stored.version) == (
        APPROVED,
        maria.id,
        None,
        2,
    )


def test_stale_version_without_javascript_is_a_409_page(client, login, article, make_user):
    moderation.decide(article.id, make_user("maria"), APPROVED, 1)
    login("lee")
    response = post(client, f"/articles/{article.id}/approve", version=1)
    assert (
        response.status_code == 409 and soup(response).find("html") and soup(response).find(class_="conflict")
    )


@pytest.mark.parametrize("value", ["", "201", "-3", "hot", "7.5"])
def test_bad_heat_answers_422_with_a_message_beside_the_field(client, login, article, value):
    login()
    response = post(client, f"/articles/{article.id}/heat", HX, version=1, heat=value, answer="moderation")
    assert response.status_code == 422
    form = soup(response).find("form", class_="heat")
    field = form.find("input", attrs={"name": "heat"})
    error = form.find(class_="error")
    assert field["aria-invalid"] == "true" and field["aria-describedby"] == error["id"]
    assert "Heat must be a whole number from 0 to 200" in error.get_text()
    assert fresh(article.id).heat == -1 and fresh(article.id).version == 1


def test_heat_is_saved_and_shown(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/heat", HX, version=1, heat="150", answer="moderation")
    assert response.status_code == 200 and fresh(article.id).heat == 150
    assert soup(response).find("input", attrs={"name": "heat"})["value"] == "150"


def test_heat_max_is_configurable(client, login, article, app):
    app.config["HEAT_MAX"] = 100
    login()
    response = post(client, f"/articles/{article.id}/heat", HX, version=1, heat="150", answer="moderation")
    assert response.status_code == 422 and "from 0 to 100" in response.get_data(as_text=True)


def test_missing_version_is_a_400_with_a_message(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/approve")
    assert response.status_code == 400 and "which version" in response.get_data(as_text=True)


def test_unknown_article_is_404(client, login):
    login()
    assert client.get("/articles/999").status_code == 404
    assert post(client, "/articles/999/approve", version=1).status_code == 404


def test_undo_route_restores_and_only_for_the_actor(client, login, article, make_user):
    user = login()
    event = moderation.decide(article.id, user, APPROVED, 1)
    response = post(client, f"/events/{event['id']}/undo", HX, answer="none")
    assert response.status_code == 200 and fresh(article.id).status == PENDING
    assert json.loads(response.headers["HX-Trigger"]) == {f"panel-stale-{article.id}": True}
    row = soup(response).find("tr", id=f"article-{article.id}")
    assert row["hx-swap-oob"] == "true" and "status-pending" in row["class"]
    other = moderation.decide(article.id, make_user("lee"), APPROVED, 3)
    assert post(client, f"/events/{other['id']}/undo", HX).status_code == 404
    assert fresh(article.id).status == APPROVED


def test_undo_of_someone_elses_change_or_of_none_is_a_404_and_changes_nothing(
    client, login, article, make_user
):
    login()
    other = moderation.decide(article.id, make_user("lee"), APPROVED, 1)
    for event_id in (other["id"], 999):
        response = post(client, f"/events/{event_id}/undo", HX, **{"from": "notice"})
        assert response.status_code == 404
        message = soup(response).get_text(" ", strip=True)
        assert f"There is no change of yours numbered {event_id} to undo." in message
    stored = fresh(article.id)
    assert (stored.status, stored.version) == (APPROVED, 2)


def test_undo_after_someone_else_changed_the_article_is_a_409_with_its_state(
    client, login, article, make_user
):
    user = login()
    event = moderation.decide(article.id, user, APPROVED, 1)
    moderation.set_heat(article.id, make_user("lee"), 9, 2, heat_max=200)
    response = post(client, f"/events/{event['id']}/undo", HX, **{"from": "panel"})
    assert response.status_code == 409
    conflict = soup(response).find(class_="conflict").get_text(" ", strip=True)
    assert "heat set by lee" in conflict and "Nothing was overwritten" in conflict
    stored = fresh(article.id)
    assert (stored.status, stored.heat, stored.version) == (APPROVED, 9, 3)


def test_bulk_reports_changed_and_skipped(client, login, app, tmp_path, make_user):
    for name in ("a", "b", "c"):
        write_seed(tmp_path, name, title=f"Story {name}")
    import_paths([str(tmp_path)], max_bytes=2**21)
    ids = dict(db.session.execute(select(Article.identity, Article.id)).all())
    moderation.set_heat(ids["b"], make_user("lee"), 9, 1, heat_max=200)
    login()
    response = client.post(
        "/queue/bulk",
        data={"csrf_token": token(client), "verdict": "approve", "article": [f"{ids[n]}:1" for n in "abc"]},
        headers=HX,
    )
    answer = soup(response)
    notice = answer.find(id="notice").find("span").string  # out of band, in a <template>
    assert notice == "Approved 2. Skipped 1 that someone changed meanwhile: Story b."
    assert [fresh(ids[n]).status for n in "abc"] == [APPROVED, PENDING, APPROVED]
    # One answer carries every changed row (the skipped one too, as it now stands) and the recent list.
    rows = answer.find("template").find_all("tr", attrs={"hx-swap-oob": "true"})
    assert sorted(row["id"] for row in rows) == sorted(f"article-{ids[n]}" for n in "abc")
    assert answer.find("section", id="recent")["hx-swap-oob"] == "true"
    assert "HX-Trigger" not in response.headers


def test_bulk_without_selection_says_so(client, login, article):
    login()
    response = client.post(
        "/queue/bulk", data={"csrf_token": token(client), "verdict": "approve"}, headers=HX
    )
    assert response.status_code == 422 and "Select at least one article first." in response.get_data(
        as_text=True
    )
    plain = client.post("/queue/bulk", data={"csrf_token": token(client), "verdict": "approve"})
    assert plain.status_code == 303


def test_claim_by_another_moderator_shows_on_row_and_panel_and_asks_before_acting(
    client, login, article, make_user
):
    claims.claim(article.id, make_user("maria"), 300)
    login("lee")
    row = soup(client.get("/")).find("tr", id=f"article-{article.id}")
    assert "being reviewed by maria" in row.get_text()
    panel = soup(client.get(f"/articles/{article.id}", headers=HX))
    assert "Being reviewed by maria." in panel.find(class_="claim-note").get_text()
    approve = panel.find("button", attrs={"data-action": "approve"}).find_parent("form")
    assert approve["hx-confirm"] == "maria is reviewing this article. Go ahead anyway?"


def test_own_claim_asks_nothing(client, login, article):
    user = login()
    claims.claim(article.id, user, 300)
    panel = soup(client.get(f"/articles/{article.id}", headers=HX))
    assert panel.find(class_="claim-note") is None and not panel.find(attrs={"hx-confirm": True})


@pytest.mark.parametrize("claim_seconds, renewal", [(300, "every 150s"), (60, "every 30s"), (1, "every 1s")])
def test_an_open_panel_renews_its_claim_halfway_through_claim_seconds(
    client, login, article, app, claim_seconds, renewal
):
    app.config["CLAIM_SECONDS"] = claim_seconds
    login()
    for headers in (HX, {}):
        page = soup(client.get(f"/articles/{article.id}", headers=headers))
        renew = page.find(attrs={"hx-post": f"/articles/{article.id}/claim"})
        assert renew["hx-trigger"] == f"load, {renewal}"


def test_poll_carries_the_rows_changed_since(client, login, article, make_user):
    login()
    since = datetime.now(UTC)
    query = {"since": since.isoformat(), "upto": article.id}
    quiet = soup(client.get("/queue/changes", query_string=query, headers=HX))
    poller = quiet.find(id="poller")
    assert poller["hx-trigger"] == "every 10s, rows-stale from:body" and not poller.find("template")
    moderation.decide(article.id, make_user("lee"), APPROVED, 1)
    changed = client.get("/queue/changes", query_string=query, headers=HX)
    assert "HX-Trigger" not in changed.headers
    rows = soup(changed).find(id="poller").find("template", attrs={"data-changed-rows": True}).find_all("tr")
    assert [row["id"] for row in rows] == [f"article-{article.id}"]
    assert rows[0].find(class_="by").string == "by lee"
    assert client.get("/queue/changes?since=yesterday").status_code == 400


def test_a_full_page_of_changes_asks_for_the_rest_at_once(client, login, app, tmp_path, make_user):
    for number in range(3):
        write_seed(tmp_path, f"s{number}")
    import_paths([str(tmp_path)], max_bytes=2**21)
    ids = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    since = datetime.now(UTC)
    moderation.bulk_decide([(article_id, 1) for article_id in ids], make_user("lee"), APPROVED)
    login()
    with patch("webapp.services.listing.CHANGES_PAGE", 2):
        first = soup(client.get("/queue/changes", query_string={"since": since.isoformat()}, headers=HX))
        poller = first.find(id="poller")
        assert poller["hx-trigger"] == "load, rows-stale from:body"
        assert len(poller.find("template").find_all("tr")) == 2
        rest = json.loads(poller["hx-vals"])
        second = soup(client.get("/queue/changes", query_string=rest, headers=HX)).find(id="poller")
    assert [row["id"] for row in second.find("template").find_all("tr")] == [f"article-{ids[2]}"]
    assert second["hx-trigger"] == "every 10s, rows-stale from:body"


def test_load_more_appears_after_fifty_rows_and_continues(client, login, app, tmp_path):
    for i in range(52):
        write_seed(tmp_path, f"s{i:02}", published=f"2023-10-{1 + i % 28:02}T08:00:00Z")
    import_paths([str(tmp_path)], max_bytes=2**21)
    login()
    first = soup(client.get("/", headers=HX))
    assert len(first.find_all("tr", class_="row")) == 50
    more = first.find("tr", id="load-more")
    assert more["hx-trigger"] == "revealed" and more.find("a")["href"] == more["hx-get"]
    second = soup(client.get(more["hx-get"], headers=HX))
    assert len(second.find_all("tr", class_="row")) == 2 and second.find("tr", id="load-more") is None


def test_bad_filter_and_cursor_get_messages(client, login, article):
    login()
    response = client.get("/?published_from=someday")
    assert response.status_code == 422
    assert (
        soup(response).find(id="error-published_from").get_text()
        == "From: 'someday' is not a date like 2023-10-19."
    )
    assert client.get("/?after=garbage").status_code == 400


def test_filters_are_kept_in_the_page_and_load_more_url(client, login, article):
    login()
    page = soup(client.get("/?status=all&sort=heat&q=Police"))
    assert page.find("select", attrs={"name": "sort"}).find("option", selected=True)["value"] == "heat"
    assert page.find("input", attrs={"name": "q"})["value"] == "Police"
    assert page.find("form", id="filters")["hx-push-url"] == "true"


def test_hostile_seed_is_shown_as_text_and_unsafe_urls_are_not_links(client, login, tmp_path):
    hostile = (
        REAL_SEED.read_text(encoding="utf-8")
        .replace(
            "Met Police roll out facial recognition technology to tackle London’s shoplifting",
            "<script>alert('t')</script>",
        )
        .replace("name: Business Matters", 'name: "<img src=x onerror=alert(1)>"')
        .replace("  - AI\n", '  - "<b>AI</b>"\n')
        .replace(
            'ampWebUrl: "https://www.foxnews.com/tech/stores-spying-using-creepy-facial-recognition-technology-without-consent.amp"',
            'ampWebUrl: "javascript:alert(2)"',
        )
    )
    (tmp_path / "hostile.md").write_text(hostile, encoding="utf-8")
    assert import_paths([str(tmp_path)], max_bytes=2**21).imported == 1
    login()
    article_id = db.session.scalar(select(Article.id))
    for response in (client.get("/"), client.get(f"/articles/{article_id}")):
        page = soup(response)
        assert page.find("script", string=True) is None and page.find("b") is None
        # The only images are the seed's own https thumbnails, never markup from its text.
        assert all(set(img["src"].split(":")[:1]) == {"https"} for img in page.find_all("img"))
        assert not page.find("img", attrs={"onerror": True})
        text = response.get_data(as_text=True)
        assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in text
    panel = soup(client.get(f"/articles/{article_id}"))
    assert not panel.find("a", href="javascript:alert(2)")
    for link in panel.select("#panel a[target=_blank]"):
        assert link["href"].startswith("https://") and link["rel"] == ["noopener", "noreferrer"]


def test_panel_shows_everything_about_the_article(client, login, article):
    login()
    panel = soup(client.get(f"/articles/{article.id}")).find("section", id="panel")
    text = panel.get_text(" ", strip=True)
    assert "Business Matters · bmmagazine.co.uk" in text
    assert "encrypted payload, 561 characters" in text and article.secured not in str(panel)
    assert [t.get_text() for t in panel.select(".tag")] == [
        "Natural Language Processing",
        "AI",
        "Computer Vision",
    ]
    related = panel.select("ol.related > li")
    assert len(related) == 7
    assert "image 1200×675" in related[0].get_text() and related[0].find("a", string="AMP cache copy")
    assert (
        related[2].find("a").get_text()
        == related[3].find("a").get_text()
        == "Login.gov to add facial recognition tech"
    )
    assert panel.find("label", string="Heat") and panel.find(
        "input", attrs={"type": "range", "aria-label": "Heat slider"}
    )
    for name in ("Approve", "Reject"):
        assert panel.find("button", string=name)


def test_published_upstream_is_marked(client, login, tmp_path):
    (tmp_path / "up.md").write_text(
        REAL_SEED.read_text(encoding="utf-8").replace("published: false", "published: true"), encoding="utf-8"
    )
    import_paths([str(tmp_path)], max_bytes=2**21)
    login()
    assert "published upstream" in soup(client.get("/")).find("tr", class_="row").get_text()


def test_history_and_recent_decisions(client, login, article):
    user = login()
    moderation.decide(article.id, user, APPROVED, 1)
    panel = soup(client.get(f"/articles/{article.id}"))
    assert (
        panel.select_one("section.history li")
        .get_text(" ", strip=True)
        .startswith(f"approve by {user.username}")
    )
    history = soup(client.get(f"/articles/{article.id}/history", headers=HX)).find("section")
    assert (
        history["hx-trigger"] == f"history-stale-{article.id} from:body" and len(history.find_all("li")) == 1
    )
    assert client.get(f"/articles/{article.id}/history").status_code == 302
    recent = soup(client.get("/decisions/recent", headers=HX)).find("section", id="recent")
    assert recent["hx-trigger"] == "decisions-changed from:body"
    assert "Met Police roll out" in recent.get_text()
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.article_id == article.id)) == "approve"
    )


def test_memoised_rows_never_show_one_users_view_to_another(app, article, make_user):
    app.test_client_class = FreshRequestClient
    maria = make_user("maria")
    claims.claim(article.id, maria, 300)
    views = {}
    for name in ("maria", "lee"):
        client = app.test_client()
        if name == "lee":
            make_user("lee")
        client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(client)})
        views[name] = (
            soup(client.get("/", headers=HX)).find("tr", id=f"article-{article.id}").get_text(" ", strip=True)
        )
    assert "being reviewed by maria" not in views["maria"]
    assert "being reviewed by maria" in views["lee"]
    moderation.decide(article.id, maria, APPROVED, 1)
    response = client.get("/?status=all", headers=HX)
    row = soup(response).find("tr", id=f"article-{article.id}")
    assert row.find(class_="status").get_text() == "Approved" and "being reviewed" not in row.get_text()


@pytest.mark.parametrize("path", [f"/articles/{2**31}", f"/articles/{2**63}", "/articles/²", "/articles/٣"])
def test_an_id_past_the_database_or_not_in_ascii_digits_is_not_found(client, login, article, path):
    login()
    assert client.get(path).status_code == 404


def test_a_naive_or_unicode_poll_is_refused_naming_the_parameter(client, login, article):
    login()
    naive = client.get("/queue/changes", query_string={"since": "2023-10-19T13:22:00"})
    assert naive.status_code == 400 and "since: " in soup(naive).get_text()
    unicode_id = client.get(
        "/queue/changes", query_string={"since": "2023-10-19T13:22:00+00:00", "upto": "²"}
    )
    assert unicode_id.status_code == 400 and "upto: " in soup(unicode_id).get_text()


@pytest.mark.parametrize(
    "field, value", [("version", "²"), ("position", "9" * 5000), ("canonical", str(2**31))]
)
def test_a_merge_form_with_a_bad_number_is_refused(client, login, article, field, value):
    login()
    data = {"version": str(article.version), "position": "0", "canonical": "0", field: value}
    response = post(client, f"/articles/{article.id}/merge", **data)
    assert response.status_code == 400
    assert fresh(article.id).version == article.version


EVIL_NEXT = ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_bulk_goes_back_only_within_the_site(client, login, article, target):
    login()
    response = post(client, "/queue/bulk", verdict="approve", article=f"{article.id}:1", next=target)
    assert response.status_code == 303 and response.location == "/"
    assert fresh(article.id).status == APPROVED
    kept = post(client, "/queue/bulk", verdict="approve", article=f"{article.id}:2", next="/?status=all")
    assert kept.location == "/?status=all"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_an_action_and_its_undo_go_back_only_within_the_site(client, login, article, target):
    login()
    response = post(client, f"/articles/{article.id}/approve", version=1, next=target)
    assert response.status_code == 303 and response.location == "/"
    event = db.session.scalar(select(AuditEvent.id).where(AuditEvent.article_id == article.id))
    undone = post(client, f"/events/{event}/undo", next=target)
    assert undone.status_code == 303 and undone.location == "/"


def test_undo_twelve_seconds_after_the_change_is_refused_with_a_message(client, login, article, monkeypatch):
    user = login()
    event = moderation.decide(article.id, user, APPROVED, 1)
    monkeypatch.setattr(undo_module, "utcnow", lambda: event["created_at"] + timedelta(seconds=12))
    response = post(client, f"/events/{event['id']}/undo", HX, answer="none")
    assert response.status_code == 409
    assert "Too late to undo" in soup(response).find(id="notice").get_text()
    page = post(client, f"/events/{event['id']}/undo")
    assert page.status_code == 409 and "Too late to undo" in soup(page).find("main").get_text()
    assert (fresh(article.id).status, fresh(article.id).version) == (APPROVED, 2)


@pytest.fixture
def two_pending(app, tmp_path) -> tuple[int, int]:
    for name in ("first", "second"):
        write_seed(tmp_path, name, title=f"The {name} story")
    import_paths([str(tmp_path)], max_bytes=2**21)
    first, second = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    return first, second


def _commits_during(request):
    """What `request()` answers, and how many transactions it committed."""
    commits = []
    listener = lambda connection: commits.append(connection)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        return request(), len(commits)
    finally:
        event.remove(db.engine, "commit", listener)


def _claim_on(article_id: int):
    db.session.expire_all()
    return db.session.get(Claim, article_id)


def test_a_decision_opens_the_next_article_claimed_in_its_own_transaction(client, login, two_pending):
    decided, following = two_pending
    user = login()
    form = {"version": 1, "answer": "moderation", "open_next": following}
    response, commits = _commits_during(lambda: post(client, f"/articles/{decided}/approve", HX, **form))
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#panel"
    assert f"/articles/{following}" in response.headers["HX-Push-Url"]
    panel = soup(response).find(id="panel")
    assert panel["data-article"] == str(following) and "The second story" in panel.find("h2").get_text()
    assert fresh(decided).status == APPROVED and _claim_on(following).user_id == user.id
    assert commits == 1  # the decision and the claim together: one write, one commit


def test_a_refused_decision_claims_nothing_and_opens_nothing(client, login, two_pending, make_user):
    decided, following = two_pending
    moderation.set_heat(decided, make_user("lee"), 5, 1, 200)  # the version the form carries is now old
    login()
    form = {"version": 1, "answer": "moderation", "open_next": following}
    response = post(client, f"/articles/{decided}/approve", HX, **form)
    assert response.status_code == 409 and "HX-Retarget" not in response.headers
    assert fresh(decided).status == PENDING and _claim_on(following) is None


@pytest.mark.parametrize("next_is", ["decided meanwhile", "the decided article itself"])
def test_a_next_article_no_longer_pending_is_not_opened_nor_claimed(
    client, login, two_pending, make_user, next_is
):
    decided, following = two_pending
    if next_is == "decided meanwhile":
        moderation.decide(following, make_user("lee"), APPROVED, 1)
    else:
        following = decided
    login()
    form = {"version": 1, "answer": "moderation", "open_next": following}
    response = post(client, f"/articles/{decided}/approve", HX, **form)
    assert response.status_code == 200 and "HX-Retarget" not in response.headers
    answer = soup(response)
    assert answer.find("div", id=f"moderation-{decided}").find(class_="status").get_text() == "Approved"
    assert answer.find("tr", id=f"article-{following}") is not None  # its row says it is decided
    if next_is == "decided meanwhile":
        assert _claim_on(following) is None
