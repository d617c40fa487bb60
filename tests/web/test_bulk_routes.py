"""Bulk decisions over HTTP: the reason for reject, one Undo for the batch (htmx and plain forms),
the notice offering it after a reload, and the recent decisions showing what was undone."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import HX, csrf_token, fresh, import_stories, post, soup
from webapp.models import APPROVED, PENDING, REJECTED, AuditEvent, db
from webapp.services import moderation


@pytest.fixture
def three(app, tmp_path) -> list[int]:
    return import_stories(tmp_path, "abc")


def ticked(ids):
    return [f"{article_id}:{fresh(article_id).version}" for article_id in ids]


def test_bulk_reject_keeps_the_reason_and_a_plain_form_goes_back_with_the_message(client, login, three):
    login()
    response = post(
        client, "/queue/bulk", verdict="reject", article=ticked(three), reason="paywalled", next="/?q=Story"
    )
    assert response.status_code == 303 and response.headers["Location"] == "/?q=Story"
    assert [(fresh(i).status, fresh(i).reject_reason) for i in three] == [(REJECTED, "paywalled")] * 3
    page = soup(client.get("/?q=Story&status=all"))
    assert "Rejected 3." in page.find(class_="flash").get_text()
    # The notice on the page offers one Undo for the batch, which a plain form can use too.
    notice = page.find(id="notice")
    assert "Rejected 3 articles." in notice.get_text()
    form = notice.find("form", attrs={"data-undo": True})
    assert form["action"].startswith("/batches/") and form.find("input", attrs={"name": "next"})["value"]
    undone = post(client, form["action"], next="/?q=Story")
    assert undone.status_code == 303 and undone.headers["Location"] == "/?q=Story"
    assert [fresh(i).status for i in three] == [PENDING] * 3
    assert "Undid 3 decisions." in soup(client.get("/")).find(class_="flash").get_text()


def test_batch_undo_answers_htmx_with_notice_rows_and_recent_in_one(client, login, three, make_user):
    login()
    decided = soup(post(client, "/queue/bulk", HX, verdict="approve", article=ticked(three)))
    undo_url = decided.find(id="notice").find("form")["hx-post"]
    moderation.reopen(three[1], make_user("lee"), 2)
    response = post(client, undo_url, HX, answer="none")
    answer = soup(response)
    message = answer.find(id="notice").find("span").string  # out of band, in a <template>
    assert message == "Undid 2 decisions. Skipped 1 that someone changed meanwhile: Story b."
    rows = answer.find("template").find_all("tr", attrs={"hx-swap-oob": "true"})
    assert sorted(row["id"] for row in rows) == sorted(f"article-{i}" for i in three)
    recent = answer.find("section", id="recent")
    assert recent["hx-swap-oob"] == "true"
    assert [li.find(class_="undone") is not None for li in recent.find_all("li")] == [True, False, True]
    # Audited as a reversal of each decision undone.
    undos = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "undo")).all()
    assert sorted(event.article_id for event in undos) == [three[0], three[2]]


def test_batch_undo_of_someone_elses_batch_is_a_404_and_too_late_a_409(client, login, three, make_user):
    outcome = moderation.bulk_decide([(i, 1) for i in three], make_user("lee"), APPROVED)
    maria = login()
    url = f"/batches/{outcome.events[0]['id']}/undo"
    assert post(client, url, HX).status_code == 404
    mine = moderation.bulk_decide([(i, 2) for i in three], maria, REJECTED)
    an_hour_ago = fresh_event(mine.events[0]["id"]).created_at - timedelta(hours=1)
    db.session.execute(
        update(AuditEvent).where(AuditEvent.actor_id == maria.id).values(created_at=an_hour_ago)
    )
    db.session.commit()
    late = post(client, f"/batches/{mine.events[0]['id']}/undo", HX)
    assert late.status_code == 409 and "Too late to undo" in soup(late).find(id="notice").get_text()
    assert [fresh(i).status for i in three] == [REJECTED] * 3


def fresh_event(event_id: int) -> AuditEvent:
    return db.session.get(AuditEvent, event_id)


def test_batch_undo_needs_a_login_and_the_csrf_token(client, three, login):
    maria = login()
    outcome = moderation.bulk_decide([(i, 1) for i in three], maria, APPROVED)
    url = f"/batches/{outcome.events[0]['id']}/undo"
    assert client.post(url, data={}).status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.post(url).status_code in (302, 400)
    assert [fresh(i).status for i in three] == [APPROVED] * 3
