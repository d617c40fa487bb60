"""Search benchmark: the queue's full-text search and provider filter at N articles, in-process.

    python -m bench.search [--n 100000] [--unique 10000] [--sqlite PATH] [--database-url URL ...]
                           [--runs 40] [--seed 1] [--json]

Each database (a SQLite file, default /tmp/copydesk-search-N.db, and each --database-url, a
scratch PostgreSQL database) is built as bench/queue_db.py builds the load benchmarks' one
(`unique` generated seeds imported for real, copied in SQL up to N), or reused when it holds N
articles already. The words come from the data: counted over the imported originals (every copy
repeats them), the rarest word (in 1 original: N / unique articles), the words nearest 1%, 3% and
10% of the articles, the most frequent one (common), a word in no article, a prefix and a phrase;
the providers likewise (most and least frequent, and none).

Then, in this process (a Flask app context, no HTTP), each case is one call of
`listing.queue_page` (the first 50 rows, newest first unless named, pending only) timed --runs
times after 3 unmeasured calls; the baseline is the same call without a search (the queue's
plain keyset page). Prints p50 and p95 (nearest rank) in milliseconds, the ratio of the p50 to
the baseline's, and how many articles the case matches (counted up to 100,000).

Target (issue 15): search and provider filter p95 < 20 ms at 1,000,000 articles on both
databases, rare and common words alike. Exit status: 0 when every case's p95 is under 20 ms,
1 when not, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from webapp import create_app
from webapp.models import Article, db
from webapp.services.listing import RELEVANCE, QueueFilters, count_matching, queue_page

from . import queue_db, results

TARGET_MS = 20
STALE = timedelta(hours=48)
WORD = re.compile(r"[^\W_]+")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def nearest_rank(values: list[float], rank: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(rank * len(ordered) + 0.5) - 1))]


def pick_cases(unique: int) -> dict[str, QueueFilters]:
    """The searches and provider filters timed, chosen from the imported originals' words and providers."""
    low = db.session.scalar(select(func.min(Article.id)))
    originals = db.session.execute(
        select(Article.title, Article.excerpt, Article.provider_name, Article.related_titles).where(
            Article.id < low + unique
        )
    ).all()
    documents: Counter[str] = Counter()
    for row in originals:
        documents.update({word.lower() for field in row if field for word in WORD.findall(field)})
    providers = Counter(row.provider_name for row in originals)
    by_count = sorted(documents.items(), key=lambda item: (item[1], item[0]))
    rare = next(word for word, count in by_count if len(word) > 4 and word.isalpha())
    # A word of letters, long enough for its first four to be a prefix search (a small corpus's 1%
    # word may otherwise be a number like "2").
    words = [item for item in by_count if len(item[0]) > 4 and item[0].isalpha()]
    medium = min(words, key=lambda item: abs(item[1] - len(originals) / 100))[0]
    # Words in a few percent were the slowest until SQLite's "match-set" plan (80 ms for one in 2.4%).
    few_percent = [
        min(words, key=lambda item: abs(item[1] - len(originals) * share))[0] for share in (0.03, 0.1)
    ]
    common = by_count[-1][0]
    phrase_words = WORD.findall(originals[len(originals) // 2].title)[:2]
    common_provider, _ = providers.most_common()[0]
    rare_provider, _ = providers.most_common()[-1]

    def search(q: str, sort: str = "newest") -> QueueFilters:
        return QueueFilters(q=q, sort=sort)

    return {
        "baseline: the queue's keyset page": QueueFilters(),
        f"search rare ({rare})": search(rare),
        f"search medium ({medium})": search(medium),
        f"search 3% ({few_percent[0]})": search(few_percent[0]),
        f"search 10% ({few_percent[1]})": search(few_percent[1]),
        f"search common ({common})": search(common),
        f"search common by heat ({common})": search(common, "heat"),
        f"search common by relevance ({common})": search(common, RELEVANCE),
        f"search medium by relevance ({medium})": search(medium, RELEVANCE),
        "search absent (qxzvw)": search("qxzvw"),
        f"search prefix ({medium[:4]}*)": search(medium[:4] + "*"),
        f'search phrase ("{" ".join(phrase_words)}")': search(f'"{" ".join(phrase_words)}"'),
        f"provider common ({common_provider[:5].lower()})": QueueFilters(
            provider=common_provider[:5].lower()
        ),
        f"provider rare ({rare_provider})": QueueFilters(provider=rare_provider),
        "provider none (no-such-outlet)": QueueFilters(provider="no-such-outlet"),
    }


def time_case(filters: QueueFilters, runs: int) -> dict:
    for _ in range(3):
        queue_page(filters, None, STALE)
        db.session.rollback()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        queue_page(filters, None, STALE)
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    matches = count_matching(filters, STALE, 100_000)
    db.session.rollback()
    return {"p50_ms": nearest_rank(times, 0.5), "p95_ms": nearest_rank(times, 0.95), "matches": matches}


def measure(where: Path | str, args) -> dict:
    log(f"{queue_db.shown(where)}: {args.n:,} articles")
    if not isinstance(where, Path):
        queue_db.ensure_database(where, log=log)
    queue_db.prepare(where, args.n, args.unique, args.seed, secrets.token_hex(16), log=log)
    app = create_app({"SQLALCHEMY_DATABASE_URI": queue_db.url_of(where), "SECRET_KEY": "bench"})
    with app.app_context():
        cases = pick_cases(min(args.unique, args.n))
        figures = {name: time_case(filters, args.runs) for name, filters in cases.items()}
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    baseline = next(iter(figures.values()))["p50_ms"]
    for figure in figures.values():
        figure["ratio"] = figure["p50_ms"] / baseline if baseline else None
    return {"database": dialect, "where": queue_db.shown(where), "n": args.n, "cases": figures}


def result_figures(result: dict) -> list[dict]:
    """Each case's p95 beside the plain keyset page's, measured in the same run; held under TARGET_MS."""
    (baseline_name, baseline), *cases = result["cases"].items()
    return [
        results.figure(
            name,
            "ms p95",
            [figure["p95_ms"]],
            baseline_name.removeprefix("baseline: "),
            [baseline["p95_ms"]],
            max_value=TARGET_MS,
            p50_ms=figure["p50_ms"],
            matches=figure["matches"],
        )
        for name, figure in cases
    ]


def table(measured: list[dict]) -> str:
    lines = []
    for result in measured:
        lines.append(f"\n{result['database']} ({result['where']}), {result['n']:,} articles, in-process")
        lines.append(f"{'case':<48} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7} {'matches':>9}")
        for name, figure in result["cases"].items():
            lines.append(
                f"{name[:48]:<48} {figure['p50_ms']:8.2f} {figure['p95_ms']:8.2f} "
                f"{figure['ratio']:7.2f} {figure['matches']:9,}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in each database (default 100,000)")
    parser.add_argument("--unique", type=int, default=10_000, help="seeds imported before copying (10,000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--sqlite", type=Path, help="the SQLite file (default /tmp/copydesk-search-N.db)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure the --database-url ones only")
    parser.add_argument("--database-url", action="append", default=[], help="a scratch PostgreSQL database")
    parser.add_argument("--runs", type=int, default=40, help="timed calls per case (default 40)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    results.add_argument(parser)
    args = parser.parse_args(argv)
    places: list[Path | str] = (
        [] if args.no_sqlite else [args.sqlite or Path(f"/tmp/copydesk-search-{args.n}.db")]
    )
    places += args.database_url
    try:
        measured = [measure(where, args) for where in places]
    except (queue_db.DatabaseError, SQLAlchemyError) as error:
        log(f"cannot run: {error}")
        return 2
    print(json.dumps(measured, indent=2) if args.json else table(measured))
    if args.results:
        for result in measured:
            settings = {"articles": result["n"], "runs": args.runs, "where": result["where"]}
            name = f"search ({result['database']}, {result['n']:,} articles)"
            results.record(name, result_figures(result), settings, args.results)
    slow = [
        f"{result['database']}: {name}"
        for result in measured
        for name, figure in result["cases"].items()
        if figure["p95_ms"] >= TARGET_MS
    ]
    for name in slow:
        log(f"over {TARGET_MS} ms at p95: {name}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
