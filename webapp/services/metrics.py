"""What Prometheus reads at /metrics: the metrics the app records, the queue's gauges, and the scrape.

Under gunicorn each worker is a process of its own: with `PROMETHEUS_MULTIPROC_DIR` set (before
prometheus_client is first imported) every worker writes its counters and histograms into files there,
and a scrape, answered by any worker, sums them all (prometheus_client's multiprocess mode).
gunicorn.conf.py's hooks make that folder, empty it at start and mark dead workers. Without it, as
under `flask run` or in the tests, the one process answers for itself.

The queue's gauges are read from the database at scrape time, by a collector registered on the
scrape's own registry: in multiprocess mode nothing registered on the default registry is shown.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from flask import current_app
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..models import STATUSES, Article, db, utcnow
from .counts import status_counts
from .listing import FILTERS

# A request takes milliseconds; an import or an export of thousands of articles, minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
RUN_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
SEED_FILE_OUTCOMES = ("imported", "updated", "unchanged", "conflicts", "invalid")

logger = logging.getLogger(__name__)

# Every metric has labels, so none writes a file in PROMETHEUS_MULTIPROC_DIR before its first use.
REQUESTS = Counter(
    "copydesk_http_requests",
    "HTTP requests answered, by route (the URL rule's endpoint), method and status class.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "copydesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route, method and status class.",
    ["route", "method", "status"],
    buckets=REQUEST_BUCKETS,
)
CHANGES = Counter(
    "copydesk_changes",
    "Changes made to articles, by action: approve, reject, reopen, heat, merge, unmerge, absorb, undo "
    "(a bulk decision counts each article).",
    ["action"],
)
CONFLICTS = Counter(
    "copydesk_change_conflicts",
    "Changes refused because the article had changed since the moderator saw it, by action.",
    ["action"],
)
SEED_FILES = Counter(
    "copydesk_seed_files",
    "Seed files through an import, by outcome: imported, updated, unchanged, conflicts, invalid.",
    ["outcome"],
)
IMPORT_SECONDS = Histogram(
    "copydesk_import_duration_seconds",
    "Time an import of seed files took, by status: complete or failed.",
    ["status"],
    buckets=RUN_BUCKETS,
)
EXPORTED_ARTICLES = Counter(
    "copydesk_exported_articles", "Articles written by exports, by format.", ["format"]
)
EXPORT_SECONDS = Histogram(
    "copydesk_export_duration_seconds",
    "Time an export took, by format and status: complete or failed.",
    ["format", "status"],
    buckets=RUN_BUCKETS,
)


@contextmanager
def timed(histogram: Histogram, **labels) -> Iterator[None]:
    """Observe how long the block takes, labelled `status` complete, or failed when it raises."""
    started = time.perf_counter()
    status = "failed"
    try:
        yield
        status = "complete"
    finally:
        histogram.labels(status=status, **labels).observe(time.perf_counter() - started)


def count_changes(actions: list[str], conflicts: list[str]) -> None:
    """Count the changes made (their actions) and those refused as conflicts."""
    for action in actions:
        CHANGES.labels(action).inc()
    for action in conflicts:
        CONFLICTS.labels(action).inc()


def count_seed_files(report) -> None:
    """Count an import's files by outcome (`report` is its seed_import.ImportReport)."""
    for outcome in SEED_FILE_OUTCOMES:
        if count := getattr(report, outcome):
            SEED_FILES.labels(outcome).inc(count)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    status_class = f"{status // 100}xx"
    REQUESTS.labels(route, method, status_class).inc()
    REQUEST_SECONDS.labels(route, method, status_class).observe(seconds)


class QueueGauges:
    """The articles per status and the stale pending ones, read from the database at each scrape."""

    def collect(self):
        try:
            by_status = status_counts()
            stale = stale_pending(timedelta(hours=current_app.config["STALE_AFTER_HOURS"]))
        except SQLAlchemyError as error:
            # The requests' metrics still answer: they are what tells how an outage goes.
            db.session.rollback()
            logger.warning("queue gauges left out of the scrape: %s", error.orig or error)
            return
        articles = GaugeMetricFamily("copydesk_articles", "Articles by status.", labels=["status"])
        for status in STATUSES:
            articles.add_metric([status], by_status.get(status, 0))
        yield articles
        yield GaugeMetricFamily(
            "copydesk_stale_pending_articles",
            "Pending articles published longer ago than STALE_AFTER_HOURS.",
            value=stale,
        )


def stale_pending(stale_after: timedelta) -> int:
    """Pending articles published before `stale_after` ago: a range of the index on (status, published_at)."""
    return db.session.scalar(_stale_query(), {"stale_before": utcnow() - stale_after})


@cache
def _stale_query():
    # The queue's own "stale" filter, so the gauge and the filter always agree.
    return select(func.count()).select_from(Article).where(FILTERS["stale"].condition())


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: every worker's metrics (or this process's), and the queue's gauges."""
    registry = CollectorRegistry()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        # The default registry, holding this process's metrics, collected as one collector of this one.
        registry.register(REGISTRY)
    registry.register(QueueGauges())
    return registry
