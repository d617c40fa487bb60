"""Merging and unmerging related links: nothing lost, version-checked, audited, undoable."""

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from tests.factories import HX, REAL_SEED, csrf_token, post
from webapp.formats.seeds import split_front_matter
from webapp.models import APPROVED, Article, AuditEvent, DuplicateSuggestion, RelatedLink, db
from webapp.services import changes, merging, moderation
from webapp.services.exporting import ExportFilters, export
from webapp.services.listing import queue_rows
from webapp.services.undo import undo


def article_events():
    """The articles' events, oldest first (making a user writes one about their account)."""
    return select(AuditEvent).where(AuditEvent.article_id.is_not(None)).order_by(AuditEvent.id)


def links(article_id: int) -> list[RelatedLink]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(RelatedLink).where(RelatedLink.article_id == article_id).order_by(RelatedLink.position)
        )
    )


def visible_titles(article_id: int) -> list[str]:
    return [link.title for link in links(article_id) if link.merged_into_id is None]


def version(article_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Article, article_id).version


def test_merging_the_login_gov_pair_leaves_six_and_unmerging_restores_seven_exactly(article, make_user):
    maria = make_user("maria")
    original = [(link.id, link.position, link.title, link.web_url) for link in links(article.id)]
    assert len(original) == 7
    event = merging.merge(article.id, maria, 1, [2, 3])
    after = links(article.id)
    # Nextgov (quality 39, published first) stays; Government Executive folds under it.
    assert [link.merged_into_id for link in after] == [None, None, None, after[2].id, None, None, None]
    assert len(visible_titles(article.id)) == 6
    assert db.session.get(Article, article.id).suggestion_count == 0
    assert event["before"]["merges"]["3"] is None and event["after"]["merges"]["3"] == 2
    assert version(article.id) == 2

    merging.unmerge(article.id, maria, 2, 2)
    assert [(link.id, link.position, link.title, link.web_url) for link in links(article.id)] == original
    assert all(link.merged_into_id is None for link in links(article.id))
    assert [s.positions for s in db.session.scalars(select(DuplicateSuggestion))] == [[2, 3]]
    assert [e.action for e in db.session.scalars(article_events())] == [
        "merge",
        "unmerge",
    ]


def test_the_moderator_picks_which_entry_stays(article, make_user):
    merging.merge(article.id, make_user("maria"), 1, [2, 3], canonical=3)
    after = links(article.id)
    assert after[2].merged_into_id == after[3].id and after[3].merged_into_id is None


def test_merging_into_a_group_keeps_one_level(article, make_user):
    maria = make_user("maria")
    merging.merge(article.id, maria, 1, [2, 3], canonical=2)
    merging.merge(article.id, maria, 2, [2, 5], canonical=5)
    after = links(article.id)
    assert after[2].merged_into_id == after[5].id and after[3].merged_into_id == after[5].id


@pytest.mark.parametrize(
    "positions, canonical, message",
    [
        ([2], None, "Choose at least two related entries to merge."),
        ([2, 9], None, "There is no related entry 10."),
        ([2, 3], 4, "The entry to keep (5) must be one of those merged."),
    ],
)
def test_bad_merges_are_refused_with_a_message_and_change_nothing(
    article, make_user, positions, canonical, message
):
    with pytest.raises(changes.InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        merging.merge(article.id, make_user("maria"), 1, positions, canonical)
    assert version(article.id) == 1 and db.session.scalar(article_events()) is None


def test_an_entry_already_merged_cannot_be_merged_again_and_nothing_to_unmerge_is_refused(article, make_user):
    maria = make_user("maria")
    merging.merge(article.id, maria, 1, [2, 3], canonical=2)
    with pytest.raises(changes.InvalidInput, match="Entry 4 is already merged into another"):
        merging.merge(article.id, maria, 2, [3, 4])
    with pytest.raises(changes.InvalidInput, match="Nothing is merged into entry 1"):
        merging.unmerge(article.id, maria, 2, 0)


def test_a_stale_version_is_a_conflict_and_nothing_is_merged(article, make_user):
    maria = make_user("maria")
    moderation.set_heat(article.id, maria, 50, 1, 200)
    with pytest.raises(changes.Conflict):
        merging.merge(article.id, maria, 1, [2, 3])
    assert all(link.merged_into_id is None for link in links(article.id))
    assert db.session.get(Article, article.id).suggestion_count == 1


def test_undo_of_a_merge_and_of_that_undo(article, make_user):
    maria = make_user("maria")
    event = merging.merge(article.id, maria, 1, [2, 3])
    undone = undo(event["id"], maria)
    assert all(link.merged_into_id is None for link in links(article.id))
    assert db.session.get(Article, article.id).suggestion_count == 1
    undo(undone["id"], maria)
    assert len(visible_titles(article.id)) == 6


def test_export_after_a_merge_holds_every_url(article, make_user, tmp_path):
    maria = make_user("maria")
    merging.merge(article.id, maria, 1, [2, 3])
    moderation.decide(article.id, maria, APPROVED, 2)
    export(tmp_path, "dir", ExportFilters(), requested_by="test")
    front = yaml.safe_load(split_front_matter((tmp_path / REAL_SEED.name).read_text(encoding="utf-8"))[0])
    assert len(front["related"]) == 6
    urls = [entry["webUrl"] for entry in front["related"]] + [
        m["webUrl"] for m in front["related"][2]["mergedFrom"]
    ]
    assert (
        "https://www.nextgov.com/digital-government/2023/10/logingov-add-facial-recognition-tech/391300/"
        in urls
    )
    assert "https://www.govexec.com/technology/2023/10/logingov-add-facial-recognition-tech/391307/" in urls
    assert len(urls) == 7


# Over HTTP: the panel's forms, with htmx and without.


def test_merge_with_htmx_answers_with_the_panel_and_offers_undo(client, login, article):
    from bs4 import BeautifulSoup

    login()
    response = post(
        client,
        f"/articles/{article.id}/merge",
        HX,
        version=1,
        position=["2", "3"],
        canonical="2",
        answer="panel",
    )
    assert response.status_code == 200
    panel = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert panel.find("section", id="panel") and panel.find("html") is None
    assert panel.find("h3").get_text(strip=True) == "Related coverage (6, 1 merged)"
    assert "1 merged here: Government Executive" in panel.find("details", class_="merged").get_text(
        " ", strip=True
    )
    assert panel.select_one(f"#moderation-{article.id} input[name=version]")["value"] == "2"
    assert panel.find("form", class_="suggestion") is None
    # The row and the notice come along, out of band (in <template>s: parsed again to read their text).
    assert panel.find("tr", id=f"article-{article.id}")["hx-swap-oob"] == "true"
    notice = BeautifulSoup(str(panel.find(id="notice")), "html.parser")
    assert "Merged related links on “Met Police" in notice.get_text(" ", strip=True) and notice.find(
        "button", string="Undo"
    )


def test_merge_and_unmerge_as_plain_forms(client, login, article):
    login()
    response = post(client, f"/articles/{article.id}/merge", version=1, position=["2", "3"])
    assert response.status_code == 303 and response.location == f"/articles/{article.id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Related coverage (6, 1 merged)" in page
    response = post(client, f"/articles/{article.id}/unmerge", version=2, canonical="2")
    assert response.status_code == 303
    assert "Related coverage (7)" in client.get(response.location).get_data(as_text=True)
    assert all(link.merged_into_id is None for link in links(article.id))


def test_merge_with_a_stale_version_is_409_with_the_current_state(client, login, article, make_user):
    login()
    moderation.decide(article.id, make_user("ana"), APPROVED, 1)
    response = post(
        client, f"/articles/{article.id}/merge", HX, version=1, position=["2", "3"], answer="panel"
    )
    assert response.status_code == 409
    assert "approved by ana" in response.get_data(as_text=True)
    assert all(link.merged_into_id is None for link in links(article.id))


def test_a_bad_merge_is_422_with_the_message_in_the_panel(client, login, article):
    from bs4 import BeautifulSoup

    login()
    response = post(client, f"/articles/{article.id}/merge", HX, version=1, position=["2"], answer="panel")
    assert response.status_code == 422
    error = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(id="error-merge")
    assert error.get_text(strip=True) == "Choose at least two related entries to merge."
    assert version(article.id) == 1


def test_merge_needs_a_login_and_a_csrf_token(client, login, article):
    anonymous = client.post(
        f"/articles/{article.id}/merge",
        data={"version": 1, "position": ["2", "3"], "csrf_token": csrf_token(client, "/login")},
    )
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    login()
    assert (
        client.post(f"/articles/{article.id}/merge", data={"version": 1, "position": ["2", "3"]}).status_code
        == 400
    )
    assert all(link.merged_into_id is None for link in links(article.id))


def test_the_related_count_on_the_article_follows_every_change_to_its_list(article, make_user):
    """The queue's rows read `related_count` from the article: it must equal the visible entries."""

    def kept_and_counted() -> tuple[int, int]:
        db.session.expire_all()
        return db.session.get(Article, article.id).related_count, len(visible_titles(article.id))

    maria = make_user("maria")
    assert kept_and_counted() == (7, 7)
    merging.merge(article.id, maria, 1, [2, 3])
    assert kept_and_counted() == (6, 6)
    second = merging.merge(article.id, maria, 2, [0, 1])
    assert kept_and_counted() == (5, 5)
    undo(second["id"], maria)
    assert kept_and_counted() == (6, 6)
    merging.unmerge(article.id, maria, 4, 2)
    assert kept_and_counted() == (7, 7)
    assert queue_rows([article.id], timedelta(hours=48))[0].related_count == 7
