"""Scaling benchmark: the queue fragment and approve on PostgreSQL, with 1, 2 and 4 gunicorn workers
and with two gunicorn instances on one database, beside a bare Flask route under the same settings.

    python -m bench.scale [--database-url URL] [--n 200000] [--unique 10000] [--seconds 10]
                          [--warmup 2] [--fresh] [--json]

The database (default postgresql+psycopg://postgres@127.0.0.1:5432/copydesk_scale, created
when missing) holds N pending articles, built as bench/load_queue.py builds its SQLite one
(bench/queue_db.py: `unique` generated seeds imported for real, then copied in SQL up to N),
or is reused when it holds N already (`--fresh` empties it first). Each setup serves Copydesk
and then the bare route (`bench.bare_app`) with gunicorn sync workers, access log off, on
127.0.0.1, and wrk (`-t2 -c8 -dNs --latency` in all, after `--warmup` seconds unmeasured for
GETs) measures:

- bare route: `GET /` of the bare app: the baseline of that setup;
- queue fragment: `GET /?status=pending` with `HX-Request: true` as a logged-in moderator
  (checked once beforehand, on every instance, to be the 50-row fragment);
- approve: `POST /articles/<id>/approve` with its version and CSRF token, each request to
  another pending article (checked once beforehand on every instance).

The setups: one instance with 1, 2 and 4 workers, then two instances of 1 worker on two
ports, the load split between them (two wrk processes at once, `-t1 -c4` each, each approving
its own half of the articles; their requests/s added up). One login serves both instances:
they share SECRET_KEY and the database, and nothing else.

Prints, per setup, requests/s, the ratio to that setup's bare route, the ratio to the same
run with 1 worker and p99 latency, then how close 2 workers come to twice 1 (on a machine
with 2 cores, where wrk and PostgreSQL take their share too). Exit status: 0 when every
response was 2xx, 1 when some were not (a 409 is a version conflict: there should be none),
2 when the benchmark could not run. At the defaults a run takes about 8 minutes (4 of them
building the database the first time). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import queue_db, wrk
from .history import reset_database
from .http_session import SessionError, csrf_token, log_in
from .load_queue import FRAGMENT_PATH, BenchmarkError, check_approve, check_fragment, ensure_tools
from .servers import ServerError, serve_many

DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/copydesk_scale"
RUNS = ("bare route", "queue fragment", "approve")


@dataclass(frozen=True)
class Setup:
    name: str
    instances: int
    workers: int  # per instance


SETUPS = (
    Setup("1 worker", 1, 1),
    Setup("2 workers", 1, 2),
    Setup("4 workers", 1, 4),
    Setup("2 instances x 1 worker", 2, 1),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_database(url: str) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        raise BenchmarkError(f"bench.scale measures PostgreSQL, not {make_url(url).get_backend_name()}")
    queue_db.ensure_database(url, log=log)


def measure_setup(setup: Setup, url: str, pending: list[tuple[int, int]], args, scratch: Path) -> dict:
    """The three runs of one setup; `pending` are the articles its approve run may take."""
    log(f"{setup.name}: {setup.instances} instance(s) of {setup.workers} worker(s)")
    copydesk = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "COPYDESK_ENV": "development"}
    with serve_many(
        "webapp:create_app()", copydesk, scratch, setup.instances, "/login", setup.workers
    ) as urls:
        session = log_in(urls[0], queue_db.USERNAME, queue_db.PASSWORD)
        page = session.request("GET", "/")
        fragment_headers = {"HX-Request": "true", "Cookie": session.cookie_header()}
        approve_headers = fragment_headers | {
            "X-CSRFToken": csrf_token(page.body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        for instance in urls:
            check_fragment(session.at(instance), fragment_headers)
            check_approve(session.at(instance), approve_headers, pending.pop(), url)
        script = wrk.get_script(fragment_headers)
        fragment = _load(
            f"{setup.name} queue fragment", urls, FRAGMENT_PATH, [script] * len(urls), args, scratch
        )
        threads = wrk.THREADS // len(urls)
        scripts = []
        for number in range(len(urls)):
            pairs = scratch / f"approve-{setup.instances}x{setup.workers}-{number}.txt"
            pairs.write_text("".join(f"{i} {v}\n" for i, v in pending[number :: len(urls)]))
            scripts.append(wrk.approve_script(approve_headers, pairs, threads=threads))
        approve = _load(f"{setup.name} approve", urls, "", scripts, args, scratch, warmup=False)
    with serve_many("bench.bare_app:create_app()", {}, scratch, setup.instances, "/", setup.workers) as urls:
        bare_script = wrk.get_script({}, count_statuses=False)
        bare = _load(f"{setup.name} bare route", urls, "/", [bare_script] * len(urls), args, scratch)
    return {
        "setup": asdict(setup),
        "runs": {"bare route": bare, "queue fragment": fragment, "approve": approve},
    }


def _load(
    name: str, urls: list[str], path: str, scripts: list[str], args, scratch: Path, warmup: bool = True
) -> wrk.WrkResult:
    """wrk against `path` of every instance at once, each with its script."""
    targets = [(base + path, script) for base, script in zip(urls, scripts, strict=True)]
    if warmup and args.warmup:
        wrk.run_wrk_split(f"{name} warmup", targets, args.warmup, scratch)
    log(f"  wrk: {name}, {args.seconds}s")
    return wrk.run_wrk_split(name, targets, args.seconds, scratch)


def summary(measured: list[dict], args, took: dict) -> dict:
    """Each run's requests/s, its ratio to its setup's bare route and to the same run with 1 worker."""
    single = {name: measured[0]["runs"][name].requests_per_second for name in RUNS}
    setups = []
    for result in measured:
        bare = result["runs"]["bare route"].requests_per_second
        runs = []
        for name in RUNS:
            run = result["runs"][name]
            runs.append(
                asdict(run)
                | {
                    "ratio_to_bare": run.requests_per_second / bare,
                    "ratio_to_1_worker": run.requests_per_second / single[name],
                    "non_2xx": run.non_2xx,
                }
            )
        setups.append({**result["setup"], "runs": runs})
    two = next(s for s in setups if s["instances"] == 1 and s["workers"] == 2)
    return {
        "articles": args.n,
        "database": make_url(args.database_url).render_as_string(hide_password=True),
        "cores": os.cpu_count(),
        "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{args.seconds}s --latency in all",
        "setups": setups,
        "two_workers_vs_one": {
            name: run["ratio_to_1_worker"] for name, run in zip(RUNS, two["runs"], strict=True)
        },
        "seconds": took,
    }


def format_table(report: dict) -> str:
    lines = [
        f"{report['articles']:,} articles on PostgreSQL ({report['database']}); gunicorn sync workers, "
        f"access log off; wrk {report['wrk']}; 127.0.0.1; {report['cores']} cores",
        f"{'':41}{'requests/s':>11}{'x bare':>8}{'x 1 worker':>11}{'p50':>10}{'p99':>10}{'non-2xx':>9}",
    ]
    for setup in report["setups"]:
        for number, run in enumerate(setup["runs"]):
            label = setup["name"] if number == 0 else ""
            lines.append(
                f"{label:24}{RUNS[number]:17}{run['requests_per_second']:11.0f}{run['ratio_to_bare']:8.3f}"
                f"{run['ratio_to_1_worker']:11.2f}{run['p50_ms']:8.2f}ms{run['p99_ms']:8.2f}ms{run['non_2xx']:9}"
            )
    ratios = report["two_workers_vs_one"]
    lines.append(
        "2 workers vs 1: "
        + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
        + f" (twice would be 2.00x; {report['cores']} cores shared with wrk and PostgreSQL)"
    )
    wrapped = sum(run["wrapped"] for setup in report["setups"] for run in setup["runs"])
    if wrapped:
        lines.append(f"WARNING: approve ran out of pending articles {wrapped} times: use a larger --n")
    took = report["seconds"]
    lines.append(f"took {took['total']:.0f}s (database {took['database']:.0f}s, load {took['load']:.0f}s)")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=DATABASE_URL, help=f"the PostgreSQL database (default {DATABASE_URL})"
    )
    parser.add_argument("--n", type=int, default=200_000, help="articles in the database (default 200,000)")
    parser.add_argument(
        "--unique", type=int, default=10_000, help="seeds imported before copying up to N (default 10,000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--fresh", action="store_true", help="empty the database and build it again")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured wrk seconds before each GET run (default 2)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.n < 1000 or args.unique < 1 or args.seconds < 1 or args.warmup < 0:
        parser.error("need --n >= 1000, --unique >= 1, --seconds >= 1 and --warmup >= 0")
    return args


def run(args, scratch: Path) -> dict:
    started = time.perf_counter()
    ensure_tools()
    ensure_database(args.database_url)
    if args.fresh:
        log("emptying the database")
        reset_database(args.database_url)
    log(f"database: {args.n:,} articles")
    built = queue_db.prepare(
        args.database_url, args.n, args.unique, args.seed, secrets.token_hex(16), log=log
    )
    log("  built" if built else "  reused")
    loaded = time.perf_counter()
    pending = queue_db.pending_versions(args.database_url)
    if len(pending) < 1000:
        raise BenchmarkError(f"only {len(pending)} pending articles left: run again with --fresh")
    share = len(pending) // len(SETUPS)
    measured = [
        measure_setup(setup, args.database_url, pending[number * share : (number + 1) * share], args, scratch)
        for number, setup in enumerate(SETUPS)
    ]
    finished = time.perf_counter()
    return summary(
        measured, args, {"total": finished - started, "database": loaded - started, "load": finished - loaded}
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="copydesk-scale-") as scratch:
            report = run(args, Path(scratch))
    except (BenchmarkError, SessionError, ServerError, queue_db.DatabaseError, SQLAlchemyError) as error:
        log(f"scale: {error}")
        return 2
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    failed = any(
        run["non_2xx"] or run["socket_errors"] for setup in report["setups"] for run in setup["runs"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
