"""The scaling benchmark's parts: its database built on the suite's (PostgreSQL in CI's second pass),
wrk runs added up across instances, and the ratios and table it prints."""

from argparse import Namespace

import pytest
from sqlalchemy import func, select

from bench import queue_db
from bench.scale import RUNS, SETUPS, format_table, summary
from bench.wrk import WrkResult, combined, run_wrk_split
from tests.factories import real_seed_titled
from webapp.models import PENDING, Article, RelatedLink, User, db
from webapp.services.counts import status_counts
from webapp.services.seed_import import import_paths


def test_the_database_is_built_on_any_url_and_the_app_can_import_after_the_copies(app, migrated, tmp_path):
    assert queue_db.prepare(migrated, 60, 20, 1, "secret", log=lambda _message: None)
    assert db.session.scalar(select(func.count()).where(Article.status == PENDING)) == 60
    assert status_counts() == {PENDING: 60}  # the counters the queue shows, kept through the copies
    assert db.session.scalar(select(func.count(func.distinct(Article.identity)))) == 60
    assert db.session.scalar(select(User.role).where(User.username == queue_db.USERNAME)) == "moderator"
    copies = db.session.scalar(select(func.count()).where(RelatedLink.article_id > 20))
    assert copies == 2 * db.session.scalar(select(func.count()).where(RelatedLink.article_id <= 20))
    pending = queue_db.pending_versions(migrated)
    assert len(pending) == 60 and pending[0] == (1, 1)
    assert queue_db.article_status(migrated, pending[-1][0]) == PENDING
    # Reused as it is when it holds enough articles.
    assert not queue_db.prepare(migrated, 60, 20, 1, "secret", log=lambda _message: None)
    # On PostgreSQL the copies' ids would collide with the next import's unless the sequence moved past them.
    (tmp_path / "after_the_copies.md").write_text(real_seed_titled("After the copies"), encoding="utf-8")
    assert import_paths([str(tmp_path)], max_bytes=2**21).imported == 1
    assert db.session.scalar(select(Article.id).where(Article.title == "After the copies")) == 61


def result(name, per_second, p99=10.0, **extra):
    return WrkResult(name, int(per_second * 10), per_second, p99 / 2, p99, **extra)


def test_runs_made_at_once_add_up_and_keep_the_slowest_latency():
    one = result("approve", 100.0, 20.0, statuses={200: 1000})
    two = result("approve", 80.0, 35.0, statuses={200: 790, 409: 10}, wrapped=1)
    both = combined("approve", [one, two])
    assert (both.requests, both.requests_per_second, both.p99_ms) == (1800, 180.0, 35.0)
    assert both.statuses == {200: 1790, 409: 10} and both.non_2xx == 10 and both.wrapped == 1


def test_wrk_runs_split_over_more_instances_than_threads_are_refused(tmp_path):
    targets = [(f"http://127.0.0.1:{port}/", "") for port in (8001, 8002, 8003)]
    with pytest.raises(ValueError, match="at most 2 targets"):
        run_wrk_split("bare route", targets, 1, tmp_path)


def test_each_run_is_a_ratio_to_its_bare_route_and_to_one_worker():
    per_second = {  # bare route, queue fragment, approve
        "1 worker": (1000, 100, 40),
        "2 workers": (1600, 180, 60),
        "4 workers": (1500, 190, 62),
        "2 instances x 1 worker": (1800, 170, 70),
    }
    measured = [
        {
            "setup": {"name": setup.name, "instances": setup.instances, "workers": setup.workers},
            "runs": {
                name: result(name, rate) for name, rate in zip(RUNS, per_second[setup.name], strict=True)
            },
        }
        for setup in SETUPS
    ]
    args = Namespace(
        n=200_000, database_url="postgresql+psycopg://postgres:pw@127.0.0.1/copydesk_scale", seconds=10
    )
    report = summary(measured, args, {"total": 100.0, "database": 40.0, "load": 60.0})
    two = report["setups"][1]["runs"]
    assert [run["ratio_to_bare"] for run in two] == [1.0, 180 / 1600, 60 / 1600]
    assert report["two_workers_vs_one"] == {"bare route": 1.6, "queue fragment": 1.8, "approve": 1.5}
    table = format_table(report)
    assert "pw@" not in table
    assert "2 workers vs 1: bare route 1.60x, queue fragment 1.80x, approve 1.50x" in table
    assert "2 instances x 1 worker  bare route" in table
