"""The same story across the queue: matches found at import, shown on the row and the panel, marked
as duplicates."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from tests.factories import HX, csrf_token
from webapp.models import REJECTED, Article, StoryKey, StoryMatch, User, db
from webapp.services import changes, moderation
from webapp.services.seed_import import import_paths
from webapp.services.story_index import COVERED, DUPLICATE, RELATED_ENTRY, SAME_HEADLINE, SAME_URL
from webapp.services.undo import undo


def seed(folder, name, *, title, url, provider="Example", related=()):
    lines = [
        "---",
        "category: news",
        f'title: "{title}"',
        "publishedDateTime: 2023-10-19T13:22:00Z",
        f'webUrl: "{url}"',
        "provider:",
        f"  name: {provider}",
    ]
    if related:
        lines.append("related:")
        for related_title, related_url in related:
            lines += [f'  - title: "{related_title}"', f'    webUrl: "{related_url}"']
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")


def load(folder) -> dict[str, Article]:
    report = import_paths([str(folder)], max_bytes=2**21)
    assert report.invalid == 0, report.errors
    db.session.expire_all()
    return {article.identity: article for article in db.session.scalars(select(Article))}


def matches() -> set[tuple[str, str, str]]:
    identity = {article.id: article.identity for article in db.session.scalars(select(Article))}
    return {
        (identity[m.article_id], identity[m.other_id], m.reason)
        for m in db.session.scalars(select(StoryMatch))
    }


def test_the_same_article_at_two_addresses_flags_both(app, tmp_path):
    seed(
        tmp_path / "a",
        "first",
        title="Council approves new cycle lanes for the city centre",
        url="https://www.example.com/news/cycle-lanes?utm_source=rss",
    )
    load(tmp_path / "a")
    seed(
        tmp_path / "b",
        "second",
        title="City centre to get new cycle lanes",
        url="http://example.com/news/cycle-lanes/",
    )
    articles = load(tmp_path / "b")
    assert matches() == {("first", "second", SAME_URL), ("second", "first", SAME_URL)}
    assert articles["second"].duplicate_of_id == articles["first"].id
    assert articles["first"].duplicate_of_id == articles["second"].id


def test_a_syndicated_copy_matches_by_headline(app, tmp_path):
    seed(
        tmp_path,
        "nextgov",
        title="Login.gov to add facial recognition tech",
        url="https://www.nextgov.com/a/391300/",
    )
    seed(
        tmp_path,
        "govexec",
        title="Login.gov to add facial recognition tech",
        url="https://www.govexec.com/b/391307/",
        provider="Government Executive",
    )
    load(tmp_path)
    assert matches() == {("nextgov", "govexec", SAME_HEADLINE), ("govexec", "nextgov", SAME_HEADLINE)}


def load_in_order(folder, order: str, covering, entry) -> dict[str, Article]:
    """Import the covering article and the entry in two imports, in the order given."""
    first, second = (covering, entry) if order == "covering first" else (entry, covering)
    first(folder / "1")
    load(folder / "1")
    second(folder / "2")
    return load(folder / "2")


def kinds() -> set[tuple[str, str, str]]:
    identity = {article.id: article.identity for article in db.session.scalars(select(Article))}
    return {
        (identity[m.article_id], identity[m.other_id], m.kind) for m in db.session.scalars(select(StoryMatch))
    }


@pytest.mark.parametrize("order", ["covering first", "entry first"])
def test_an_article_only_related_to_another_is_covered_together_whichever_comes_first(app, tmp_path, order):
    def covering(folder):
        seed(
            folder,
            "covering",
            title="Met Police roll out facial recognition to tackle shoplifting",
            url="https://bmmagazine.example/met-police",
            related=[
                (
                    "Stores are spying on you with facial recognition",
                    "https://www.fox.example/tech/stores-spying",
                ),
            ],
        )

    def entry(folder):
        seed(
            folder,
            "entry",
            title="How shops watch customers with cameras",
            url="https://www-fox-example.cdn.ampproject.org/c/s/www.fox.example/tech/stores-spying.amp",
        )

    articles = load_in_order(tmp_path, order, covering, entry)
    assert matches() == {("entry", "covering", RELATED_ENTRY)}
    assert kinds() == {("entry", "covering", COVERED)}
    assert articles["entry"].duplicate_of_id is None and articles["covering"].duplicate_of_id is None


@pytest.mark.parametrize("order", ["covering first", "entry first"])
def test_a_related_entry_reporting_the_same_event_is_a_possible_duplicate(app, tmp_path, order):
    def covering(folder):
        seed(
            folder,
            "covering",
            title="Geoffrey Hinton quits Google to warn of the dangers of AI",
            url="https://news.example/hinton-quits",
            related=[("Hinton leaves Google", "https://other.example/hinton")],
        )

    def entry(folder):
        seed(
            folder,
            "entry",
            title="AI pioneer Geoffrey Hinton leaves Google",
            url="https://other.example/hinton/",
        )

    articles = load_in_order(tmp_path, order, covering, entry)
    assert kinds() == {("entry", "covering", DUPLICATE)}
    (reason,) = [m.reason for m in db.session.scalars(select(StoryMatch))]
    signals = "shared names (geoffrey, google, hinton), 44% headline words, published 0 h apart"
    assert reason == f"{RELATED_ENTRY}, {signals}"
    assert articles["entry"].duplicate_of_id == articles["covering"].id
    assert articles["covering"].duplicate_of_id is None


def test_shared_related_entries_and_generic_headlines_flag_nothing(app, tmp_path):
    shared = [("Budget row deepens as ministers clash", "https://news.example/budget-row")]
    seed(
        tmp_path, "one", title="Chancellor defends spending plans", url="https://a.example/1", related=shared
    )
    seed(tmp_path, "two", title="Opposition attacks budget timing", url="https://b.example/2", related=shared)
    seed(tmp_path, "brief-1", title="Morning briefing", url="https://c.example/brief/1")
    seed(tmp_path, "brief-2", title="Morning briefing", url="https://c.example/brief/2")
    load(tmp_path)
    assert matches() == set()


def test_a_changed_seed_is_indexed_again(app, tmp_path):
    seed(
        tmp_path,
        "first",
        title="Council approves new cycle lanes for the city centre",
        url="https://example.com/lanes",
    )
    seed(tmp_path, "second", title="Cycle lanes approved", url="https://example.com/lanes/")
    load(tmp_path)
    assert len(matches()) == 2
    seed(tmp_path, "second", title="Cycle lanes approved", url="https://example.com/other-story")
    articles = load(tmp_path)
    assert matches() == set()
    assert articles["first"].duplicate_of_id is None and articles["second"].duplicate_of_id is None
    assert db.session.scalar(
        select(StoryKey).where(StoryKey.article_id == articles["second"].id, StoryKey.position == -1)
    )


def test_the_row_and_filter_show_it_and_the_panel_marks_it(client, login, tmp_path):
    seed(
        tmp_path,
        "first",
        title="Council approves new cycle lanes for the city centre",
        url="https://example.com/lanes",
    )
    seed(
        tmp_path,
        "second",
        title="Council approves new cycle lanes for the city centre",
        url="https://other.example/lanes",
        provider="Other",
    )
    seed(tmp_path, "alone", title="Nothing else like this story here", url="https://example.com/alone")
    articles = load(tmp_path)
    first, second = articles["first"], articles["second"]
    login()
    page = BeautifulSoup(client.get("/?duplicates=1").get_data(as_text=True), "html.parser")
    rows = {row["id"]: row for row in page.select("tr.row")}
    assert set(rows) == {f"article-{first.id}", f"article-{second.id}"}
    badge = rows[f"article-{second.id}"].find(class_="duplicate").get_text(" ", strip=True)
    assert (
        badge
        == "possible duplicate of “Council approves new cycle lanes for the city centre” (same headline)"
    )

    panel = BeautifulSoup(
        client.get(f"/articles/{second.id}", headers=HX).get_data(as_text=True), "html.parser"
    )
    section = panel.find("section", class_="possible-duplicates")
    assert "Council approves new cycle lanes for the city centre" in section.get_text(" ", strip=True)
    response = client.post(
        f"/articles/{second.id}/duplicate-of/{first.id}",
        data={"csrf_token": csrf_token(client, "/"), "version": second.version, "answer": "panel"},
        headers=HX,
    )
    assert response.status_code == 200
    db.session.expire_all()
    rejected = db.session.get(Article, second.id)
    assert rejected.status == REJECTED
    assert (
        rejected.reject_reason
        == f"duplicate of #{first.id} “Council approves new cycle lanes for the city centre”"
    )


def test_marking_a_duplicate_of_nothing_is_refused(app, make_user, tmp_path):
    seed(tmp_path, "only", title="Only story in the queue today", url="https://example.com/only")
    article = load(tmp_path)["only"]
    with pytest.raises(changes.InvalidInput, match="no other article 999"):
        moderation.mark_duplicate(article.id, 999, make_user("maria"), article.version)
    with pytest.raises(changes.InvalidInput):
        moderation.mark_duplicate(article.id, article.id, make_user("ana"), article.version)


def test_a_duplicates_related_links_are_added_undone_and_exported(client, login, make_user, tmp_path):
    from webapp.formats.seeds import parse
    from webapp.models import APPROVED, AuditEvent, RelatedLink
    from webapp.services import merging
    from webapp.services.exporting import ExportFilters, export

    seed(
        tmp_path,
        "first",
        title="Council approves new cycle lanes for the city centre",
        url="https://example.com/lanes",
        related=[("Cyclists welcome the council decision on lanes", "https://news.example/cyclists")],
    )
    seed(
        tmp_path,
        "second",
        title="Council approves new cycle lanes for the city centre",
        url="https://other.example/lanes",
        provider="Other",
        related=[
            ("Cyclists welcome council decision on lanes", "https://www.news.example/cyclists?utm_source=x"),
            ("Shops fear loss of parking near new lanes", "https://shops.example/parking"),
        ],
    )
    articles = load(tmp_path)
    first, second = articles["first"], articles["second"]
    login()
    token = csrf_token(client, "/")
    client.post(
        f"/articles/{second.id}/duplicate-of/{first.id}",
        data={"csrf_token": token, "version": 1, "answer": "panel"},
        headers=HX,
    )
    panel = BeautifulSoup(
        client.get(f"/articles/{second.id}", headers=HX).get_data(as_text=True), "html.parser"
    )
    offer = panel.find("button", attrs={"data-action": "absorb"})
    assert offer.get_text(strip=True) == f"Add its 2 related links to #{first.id}"

    response = client.post(
        f"/articles/{first.id}/absorb/{second.id}",
        data={"csrf_token": token, "version": 1, "answer": "panel"},
        headers=HX,
    )
    assert response.status_code == 200
    answer = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert (
        answer.find("div", class_="related-block").find("h3").get_text(strip=True) == "Related coverage (3)"
    )
    assert "look like one article: same URL" in answer.find("form", class_="suggestion").get_text(
        " ", strip=True
    )
    db.session.expire_all()
    added = db.session.scalars(select(RelatedLink).where(RelatedLink.source_article_id == second.id)).all()
    assert [(link.article_id, link.position) for link in added] == [(first.id, 1), (first.id, 2)]

    again = client.post(
        f"/articles/{first.id}/absorb/{second.id}",
        data={"csrf_token": token, "version": 2, "answer": "panel"},
        headers=HX,
    )
    assert again.status_code == 422 and "already added here" in again.get_data(as_text=True)

    maria = db.session.scalar(select(User).where(User.username == "maria"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "absorb"))
    undone = undo(event.id, maria)
    assert db.session.scalar(select(RelatedLink).where(RelatedLink.source_article_id == second.id)) is None
    undo(undone["id"], maria)
    assert (
        len(db.session.scalars(select(RelatedLink).where(RelatedLink.source_article_id == second.id)).all())
        == 2
    )

    merging.merge(first.id, maria, 4, [0, 1], canonical=0)
    moderation.decide(first.id, maria, APPROVED, 5)
    out = tmp_path / "out"
    export(out, "dir", ExportFilters(), requested_by="test")
    exported = parse((out / "first.md").read_text(encoding="utf-8"))
    assert [entry.title for entry in exported.related] == [
        "Cyclists welcome the council decision on lanes",
        "Shops fear loss of parking near new lanes",
    ]
    assert (
        exported.related[0].extra["mergedFrom"][0]["webUrl"]
        == "https://www.news.example/cyclists?utm_source=x"
    )


def test_covered_together_shows_quietly_in_the_panel_and_neither_on_the_row_nor_in_the_filter(
    client, login, tmp_path
):
    seed(
        tmp_path,
        "covering",
        title="Met Police roll out facial recognition to tackle shoplifting",
        url="https://bmmagazine.example/met-police",
        related=[("Login.gov to add facial recognition tech", "https://nextgov.example/login-gov")],
    )
    seed(
        tmp_path,
        "entry",
        title="Login.gov to add facial recognition tech",
        url="https://nextgov.example/login-gov",
    )
    for name in ("first", "second"):
        seed(
            tmp_path,
            name,
            title="Council approves new cycle lanes for the city centre",
            url=f"https://{name}.example/lanes",
        )
    articles = load(tmp_path)
    entry, covering = articles["entry"], articles["covering"]
    login()

    queue = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    badges = {row["id"] for row in queue.select("tr.row") if row.find(class_="duplicate")}
    assert badges == {f"article-{articles['first'].id}", f"article-{articles['second'].id}"}
    filtered = BeautifulSoup(client.get("/?duplicates=1").get_data(as_text=True), "html.parser")
    assert {row["id"] for row in filtered.select("tr.row")} == badges
    assert "2 match these filters" in filtered.find(id="queue-counts").get_text(" ", strip=True)

    panel = BeautifulSoup(
        client.get(f"/articles/{entry.id}", headers=HX).get_data(as_text=True), "html.parser"
    )
    assert panel.find("section", class_="possible-duplicates") is None
    assert panel.find("button", attrs={"data-action": "mark-duplicate"}) is None
    covered = panel.find("section", class_="covered-together")
    assert covered.get_text(" ", strip=True).startswith(f"Covered together with #{covering.id}")
    assert covered.find("a")["href"] == f"/articles/{covering.id}"
    assert covered.find("form") is None
    page = BeautifulSoup(client.get(f"/articles/{entry.id}").get_data(as_text=True), "html.parser")
    assert page.find("section", class_="covered-together") is not None  # without JavaScript too

    other = BeautifulSoup(
        client.get(f"/articles/{covering.id}", headers=HX).get_data(as_text=True), "html.parser"
    )
    assert other.find("section", class_="covered-together") is None
