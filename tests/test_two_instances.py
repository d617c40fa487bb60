"""No state in any process: two gunicorn instances (one worker each) on one database, with the login
counters in one Redis, and one moderator's session used on both in turn: claims, decisions and their
undo, the poll for others' changes, the counts and the login limits behave as on a single process.

The database is the suite's (SQLite, or PostgreSQL with TEST_DATABASE_URL), so this runs in both
passes of .ci/run.
"""

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup

from bench.http_session import Session, csrf_token, log_in
from bench.servers import serve_many
from tests.factories import HX, PASSWORD, real_seed_titled
from webapp.services.seed_import import import_paths

LOGIN_LIMIT = 3
# The view whose counts are compared besides the plain queue's: two of the four articles are this outlet's.
FILTERED = "provider=quartz"


@pytest.fixture(scope="module")
def instances(migrated, login_counters, tmp_path_factory):
    """Base URLs of two gunicorn instances on the suite's database, one secret and one Redis between them."""
    env = {
        "DATABASE_URL": migrated,
        "SECRET_KEY": "two-instances-secret",
        "COPYDESK_ENV": "development",
        "RATELIMIT_STORAGE_URI": login_counters.url,
        "LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
        "UNDO_SECONDS": "60",
    }
    # The key prefix is no environment variable: gunicorn hands it to the factory as a literal.
    app_spec = f"webapp:create_app({{'RATELIMIT_KEY_PREFIX': {login_counters.prefix!r}}})"
    scratch = tmp_path_factory.mktemp("two-instances")
    with serve_many(app_spec, env, scratch, 2, ready_path="/login", workers=1) as urls:
        yield urls


@pytest.fixture
def desk(app, make_user, tmp_path):
    """Moderators maria and lee, and four pending articles, two of them from the outlet "Quartz Tribune"."""
    make_user("maria")
    make_user("lee")
    folder = tmp_path / "seeds"
    folder.mkdir()
    for number in range(4):
        outlet = {"Business Matters": "Quartz Tribune"} if number < 2 else {}
        (folder / f"two_instances_{number}.md").write_text(
            real_seed_titled(f"Two instances {number}", **outlet), encoding="utf-8"
        )
    report = import_paths([str(folder)], max_bytes=2**21)
    assert report.imported == 4, report.as_dict()


def page(answer) -> BeautifulSoup:
    return BeautifulSoup(answer.body, "html.parser")


def counts_line(answer) -> str:
    """The text of #queue-counts in an answer: "4 pending · 2 match these filters · you: 0 today"."""
    return " ".join(text_of(page(answer).find(id="queue-counts")).split())


def text_of(element) -> str:
    """The element's text, also inside a <template> (whose text is not the document's: parsed again)."""
    assert element is not None
    return BeautifulSoup(str(element), "html.parser").get_text()


def article_ids(session: Session) -> dict[str, int]:
    """The queue's article ids by title, as the first page lists them."""
    rows = page(session.request("GET", "/?status=all")).select("#queue-rows tr.row")
    return {row.select_one("td.title a").get_text(): int(row["id"].removeprefix("article-")) for row in rows}


def version_of(session: Session, article_id: int) -> str:
    box = page(session.request("GET", "/?status=all")).select_one(
        f"#article-{article_id} input[name=article]"
    )
    return box["value"].partition(":")[2]


def post(session: Session, path: str, form: dict | None = None):
    """An htmx POST from a page of the queue filtered by FILTERED, with the page's CSRF token."""
    token = csrf_token(session.request("GET", "/").body)
    headers = HX | {"X-CSRFToken": token}
    return session.request("POST", path, form={"filters": FILTERED, **(form or {})}, headers=headers)


def assert_counts_everywhere(sessions: list[Session], pending: int, matching: int, today: int):
    """The counts line, as each instance's poll and page show it, plain and filtered, is the same."""
    expected = {
        "": f"{pending} pending · you: {today} today",
        FILTERED: f"{pending} pending · {matching} match these filters · you: {today} today",
    }
    now = datetime.now(UTC).isoformat()
    shown = {}
    # The polls first: a page counts afresh, a poll may take a count kept from before.
    for session in sessions:
        for filters in expected:
            poll = session.request(
                "GET", "/queue/changes?" + urlencode({"since": now, "filters": filters}), headers=HX
            )
            shown[session.base_url, filters, "poll"] = counts_line(poll)
    for session in sessions:
        for filters in expected:
            shown[session.base_url, filters, "page"] = counts_line(session.request("GET", f"/?{filters}"))
    assert shown == {(url, filters, way): expected[filters] for url, filters, way in shown}


def test_a_moderator_works_through_two_instances_as_through_one(instances, desk):
    first, second = instances
    maria_a = log_in(first, "maria", PASSWORD)
    maria_b = maria_a.at(second)  # the same session cookie, on the other instance
    lee_b = log_in(second, "lee", PASSWORD)
    both = [maria_a, maria_b]
    assert maria_b.request("GET", "/").status == 200
    ids = article_ids(maria_b)
    claimed, decided, polled = (ids[f"Two instances {n}"] for n in range(3))
    assert_counts_everywhere(both, pending=4, matching=2, today=0)

    # A claim taken on one instance shows to another moderator on the other.
    assert post(maria_a, f"/articles/{claimed}/claim").status == 204
    row = page(lee_b.request("GET", f"/?{FILTERED}")).select_one(f"#article-{claimed}")
    assert "being reviewed by maria" in row.get_text()
    panel = page(lee_b.request("GET", f"/articles/{claimed}", headers=HX))
    assert "Being reviewed by maria." in panel.select_one(".claim-note").get_text()
    assert_counts_everywhere(both, pending=4, matching=2, today=0)

    # Approved on B, undone on A: the notice offering the Undo is the same on both.
    approved = post(maria_b, f"/articles/{decided}/approve", {"version": version_of(maria_a, decided)})
    assert approved.status == 200, approved.body[:500]
    assert counts_line(approved) == "3 pending · 1 match these filters · you: 1 today"
    assert_counts_everywhere(both, pending=3, matching=1, today=1)
    undo_form = page(maria_a.request("GET", "/notice")).select_one("#notice form[data-undo]")
    assert undo_form is not None, "the notice on A offers no Undo for the approval made on B"
    undone = post(maria_a, undo_form["action"])
    assert undone.status == 200, undone.body[:500]
    assert counts_line(undone) == "4 pending · 2 match these filters · you: 0 today"
    assert_counts_everywhere(both, pending=4, matching=2, today=0)

    # The poll of a queue open on B brings back the row changed on A.
    poller = page(lee_b.request("GET", "/")).select_one("#poller")
    poll_from = poller["hx-vals"]
    assert (
        post(maria_a, f"/articles/{polled}/approve", {"version": version_of(maria_a, polled)}).status == 200
    )
    changes = page(lee_b.request("GET", "/queue/changes?" + urlencode(json.loads(poll_from)), headers=HX))
    changed_row = changes.find("template", attrs={"data-changed-rows": True}).find(id=f"article-{polled}")
    assert changed_row is not None and "status-approved" in changed_row["class"]
    assert "by maria" in text_of(changed_row)
    assert_counts_everywhere(both, pending=3, matching=2, today=1)

    # Logging out on A ends the session on B too (its token lives in the database).
    cookie = maria_a.cookie_header()
    assert post(maria_a, "/logout").status == 302
    assert Session(second).request("GET", "/", headers={"Cookie": cookie}).status == 302


def test_failed_logins_on_both_instances_count_against_one_limit(instances, desk, login_counters):
    first, second = instances
    try:
        for number in range(LOGIN_LIMIT):
            failed = _attempt(first if number % 2 == 0 else second, "maria", "wrong password")
            assert failed.status == 401
        for instance in (second, first):
            assert _attempt(instance, "maria", PASSWORD).status == 429
    finally:
        login_counters.forget()  # 127.0.0.1 may log in again, whichever test comes next


def _attempt(base_url: str, username: str, password: str):
    session = Session(base_url)
    token = csrf_token(session.request("GET", "/login").body)
    return session.request(
        "POST", "/login", form={"username": username, "password": password, "csrf_token": token}
    )
