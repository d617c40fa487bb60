"""The stats board: a rate from too few decisions carries their count; pending figures say what they count."""

from sqlalchemy import select

from tests.factories import soup, write_seed
from webapp.formats.charts import MIN_DECISIONS_FOR_RATE, sample_mark
from webapp.models import APPROVED, REJECTED, Article, db
from webapp.services import moderation
from webapp.services.seed_import import import_paths


def decide(tmp_path, user, count, provider="Example"):
    for index in range(count):
        write_seed(tmp_path, f"{provider}-{index}", title=f"{provider} story {index}", provider=provider)
    assert import_paths([str(tmp_path)], max_bytes=2**21).imported == count
    for index, article_id in enumerate(
        db.session.scalars(select(Article.id).where(Article.provider_name == provider)).all()
    ):
        moderation.decide(article_id, user, APPROVED if index % 3 else REJECTED, 1)


def test_the_mark_names_the_decisions_below_ten():
    assert [sample_mark(n) for n in (None, 0, 1, 3, MIN_DECISIONS_FOR_RATE - 1)] == [
        None,
        None,
        "1 decision",
        "3 decisions",
        "9 decisions",
    ]
    assert sample_mark(MIN_DECISIONS_FOR_RATE) is None and MIN_DECISIONS_FOR_RATE == 10


def test_a_rate_from_three_decisions_carries_a_mark_instead_of_a_bold_figure(client, login, tmp_path):
    lead = login("lena", "lead")
    decide(tmp_path, lead, 3)
    board = soup(client.get("/stats?period=today"))
    rate = board.select_one(".headline-figures dd.small-sample")
    assert rate.get_text(" ", strip=True) == "66.7% 3 decisions"
    assert rate.select_one(".sample-mark").get_text() == "3 decisions"
    per_outlet = board.select_one("#per-outlet-title").find_parent("figure")
    assert per_outlet.select_one("svg rect.approved.small-sample") is not None
    assert per_outlet.select_one("svg text.value.small-sample").get_text() == "67% · 3 decisions"
    cell = per_outlet.select_one(".chart-data td.rate")
    assert cell.get_text(" ", strip=True) == "66.7% (3 decisions)"
    moderators = board.select_one("#per-moderator-title").find_parent("figure")
    assert moderators.select_one(".chart-data td.rate .sample-mark").get_text() == "(3 decisions)"


def test_ten_decisions_make_a_rate_that_stands_alone(client, login, tmp_path):
    lead = login("lena", "lead")
    decide(tmp_path, lead, 10)
    board = soup(client.get("/stats?period=today"))
    assert board.select_one(".small-sample") is None and board.select_one(".sample-mark") is None
    rates = [
        div.dd.get_text(strip=True) for div in board.select(".headline-figures div") if "rate" in div.dt.text
    ]
    assert rates == ["60.0%"]


def test_stale_and_oldest_pending_say_what_they_count(client, login, app):
    login("lena", "lead")
    app.config["STALE_AFTER_HOURS"] = 36
    board = soup(client.get("/stats"))
    help_texts = {
        div.dt.get_text(strip=True): div.select_one("dd.help").get_text()
        for div in board.select(".headline-figures div")
        if div.select_one("dd.help")
    }
    assert help_texts == {
        "Stale pending now": "published over 36 h ago",
        "Oldest pending": "waiting since its import",
    }
