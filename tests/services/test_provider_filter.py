"""The provider filter, one definition for the queue, the stats and the export: part of a name or a
domain, in any case, the user's % and _ taken as text; and its suggestions."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import write_seed
from webapp.models import APPROVED, Article, db
from webapp.services import exporting, listing, moderation, stats
from webapp.services.exporting import ExportFilters
from webapp.services.listing import QueueFilters, queue_page
from webapp.services.seed_import import import_paths

PROVIDERS = {  # seed name: (provider name, domain)
    "sunday": ("The Sunday Times", "thetimes.co.uk"),
    "metro": ("Metro", "metro.co.uk"),
    "odd": ("100% News_Daily", None),
    "wire": ("Reuters", "reuters.com"),
}
CASES = [
    ("sunday", {"sunday"}),
    ("SUNDAY times", {"sunday"}),
    ("metro", {"metro"}),
    ("co.uk", {"sunday", "metro"}),
    ("REUTERS.COM", {"wire"}),
    ("%", {"odd"}),
    ("_", {"odd"}),
    ("s_d", {"odd"}),
    ("s%", set()),
    ("times_", set()),
    ("nobody", set()),
]


@pytest.fixture
def desk(app, tmp_path, make_user):
    """One approved article per provider; their ids by seed name."""
    for name, (provider, _) in PROVIDERS.items():
        write_seed(tmp_path, name, provider=f'"{provider}"')
    import_paths([str(tmp_path)], max_bytes=2**21)
    ids = dict(db.session.execute(select(Article.identity, Article.id)).all())
    for name, (_, domain) in PROVIDERS.items():
        db.session.execute(update(Article).where(Article.id == ids[name]).values(provider_domain=domain))
    maria = make_user("maria")
    for article_id in ids.values():
        moderation.decide(article_id, maria, APPROVED, 1)
    return ids


@pytest.mark.parametrize("text, expected", CASES)
def test_the_queue_matches_part_of_a_name_or_domain(desk, text, expected):
    filters = QueueFilters(status="all", provider=text)
    rows = queue_page(filters, None, timedelta(hours=48)).rows
    assert {row.id for row in rows} == {desk[name] for name in expected}


@pytest.mark.parametrize("text, expected", CASES)
def test_stats_and_export_match_the_same(desk, text, expected):
    board = stats.dashboard(stats.StatsFilters(provider=text), datetime.now(UTC), timedelta(hours=48))
    assert board.figures["approved"] == len(expected)
    assert exporting.count(ExportFilters(provider=text)) == len(expected)


def test_suggestions_are_every_name_and_domain_once(desk):
    suggestions = listing.provider_suggestions()
    names_and_domains = {value for pair in PROVIDERS.values() for value in pair if value}
    assert sorted(suggestions) == sorted(names_and_domains)
