"""Racing moderators over HTTP: 20 clients post the real forms to 4 gunicorn workers at once.

The scenario and its checks live in bench/races.py (`python -m bench.races --http` runs it
bigger); gunicorn serves the test database itself, SQLite (WAL) or PostgreSQL.
"""

import pytest

from bench.races import gunicorn, log_in_all, prepare, run

CLIENTS = 20
WORKERS = 4


@pytest.fixture
def served(app, migrated, tmp_path):
    """3 articles and 5 moderators in the test database, served by gunicorn: base URL, their ids."""
    article_ids, user_ids = prepare(tmp_path, articles=3, users=5)
    with gunicorn(migrated, WORKERS, tmp_path) as base_url:
        yield base_url, article_ids, user_ids


def test_twenty_clients_on_four_workers_make_exactly_one_change_per_race(app, served):
    base_url, article_ids, user_ids = served
    # Five logins (under any login throttle), each session shared by four clients, as tabs are.
    sessions = log_in_all(base_url, user_ids)

    figures = run(
        app, article_ids, user_ids, rounds=15, clients=CLIENTS, http_clients=sessions, shuffle_bulk=False
    )

    print("\n" + figures.summary())
    assert figures.problems == []
    assert figures.races == 45 and figures.attempts == 300
    assert figures.events == 45 and figures.outcomes()["won"] == 45
    assert figures.outcomes()["conflict"] > 0
