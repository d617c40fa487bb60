"""Floors of the load benchmarks: what part of a request's work alone serves, beside the whole request.

    python -m bench.floors [--n 100000] [--unique 10000] [--db PATH] [--seconds 10] [--warmup 2]
                           [--repeat 1] [--json] [--results PATH]

The load targets are ratios to a bare Flask route (bench/load_queue.py) or to Flask-Admin's list
view (bench/peer.py). A request that does only part of the real one's work, with the app's own
code, cannot be slower than the whole; when it is already under a target, no answer built on top
of that work can meet the target on this machine, and the work itself is what would have to get
cheaper. With the same database, gunicorn settings and wrk as those benchmarks, one round measures:

- the bare route (bench/bare_app.py) and Flask-Admin's list view, first page (bench/peer_admin.py):
  the baselines;
- a moderator's request that does nothing else, the queue's first page of rows without counts or
  template, and the approval alone answering nothing (bench/floor_app.py);
- the queue fragment and approve as bench/load_queue.py sends them.

and prints each as requests/s, its ratio to the bare route and to Flask-Admin, and p99, with the
targets beside the figures they bound: the fragment's 0.15 × bare and 8 × Flask-Admin (by the
rows), approve's 0.08 × bare (by the approval alone). Exit status: 0 when it ran (floors have no
target of their own), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

from . import queue_db, results, wrk
from .floor_app import DECIDE_PATH, ROWS_PATH, SIGNED_IN_PATH
from .load_queue import (
    FRAGMENT_PATH,
    TARGETS,
    BenchmarkError,
    add_load_arguments,
    check_fragment,
    ensure_tools,
    log,
    measure_approve,
    measure_get,
    run_and_print,
    run_bare,
    signed_in,
    write_pairs,
)
from .peer import TARGET as PEER_TARGET
from .peer_admin import LIST_PATH
from .servers import GUNICORN_ARGS, serve

FLOORS = ("signed in, nothing else", "queue rows, no counts or template", "approval alone, no answer")
WHOLE = ("queue fragment", "approve")
# Which target each floor bounds: (figure it is a floor of, target × bare, target × Flask-Admin).
BOUNDS = {
    "queue rows, no counts or template": ("queue fragment", TARGETS["queue fragment"], PEER_TARGET),
    "approval alone, no answer": ("approve", TARGETS["approve"], None),
}


def run_floors(db_path: Path, seconds: int, warmup: int, scratch: Path) -> dict[str, wrk.WrkResult]:
    env = {
        "DATABASE_URL": queue_db.sqlite_url(db_path),
        "SECRET_KEY": secrets.token_hex(32),
        "COPYDESK_ENV": "development",
    }
    measured = {}
    with serve("bench.floor_app:create_app()", env, scratch, ready_path="/login") as url:
        session, headers, post_headers = signed_in(url)
        check_fragment(session, headers)
        for path in (SIGNED_IN_PATH, ROWS_PATH):
            answer = session.request("GET", path, headers=headers)
            if answer.status != 200:
                raise BenchmarkError(f"GET {path} answered {answer.status}")
        if session.request("GET", ROWS_PATH, headers=headers).body.count('<tr id="article-') != 50:
            raise BenchmarkError(f"GET {ROWS_PATH} did not answer 50 rows")
        pending = queue_db.pending_versions(db_path)
        if len(pending) < 1000:
            raise BenchmarkError(f"only {len(pending)} pending articles left in {db_path}: use a new --db")
        article_id, version = pending.pop()
        answer = session.request(
            "POST", f"{DECIDE_PATH}{article_id}", form={"version": version}, headers=post_headers
        )
        if answer.status != 200 or queue_db.article_status(db_path, article_id) != "approved":
            raise BenchmarkError(
                f"POST {DECIDE_PATH}{article_id} answered {answer.status}, article not approved"
            )
        script = wrk.get_script(headers)
        for name, path in zip(FLOORS[:2], (SIGNED_IN_PATH, ROWS_PATH), strict=True):
            measured[name] = measure_get(name, url + path, script, seconds, warmup, scratch)
        measured["queue fragment"] = measure_get(
            "queue fragment", url + FRAGMENT_PATH, script, seconds, warmup, scratch
        )
        pairs = write_pairs(scratch, "decide", pending[0::2])
        decide = wrk.approve_script(post_headers, pairs, path=DECIDE_PATH + "{id}")
        log(f"wrk: {FLOORS[2]}, {seconds}s")
        measured[FLOORS[2]] = wrk.run_wrk(FLOORS[2], url, decide, seconds, scratch)
        measured["approve"] = measure_approve("approve", url, post_headers, pending[1::2], seconds, scratch)
    with serve("bench.peer_admin:create_app()", env, scratch, ready_path=LIST_PATH) as admin:
        measured["Flask-Admin list view"] = measure_get(
            "Flask-Admin list view",
            admin + f"{LIST_PATH}?page=0",
            wrk.get_script({}),
            seconds,
            warmup,
            scratch,
        )
    return measured


def run(args, scratch: Path) -> dict:
    started = time.perf_counter()
    ensure_tools()
    db_path = args.db or scratch / "queue.db"
    log(f"database {db_path}: {args.n:,} articles")
    queue_db.prepare(db_path, args.n, args.unique, args.seed, secrets.token_hex(16), log=log)
    rounds = []
    for number in range(1, args.repeat + 1):
        log(f"round {number} of {args.repeat}")
        measured = run_floors(db_path, args.seconds, args.warmup, scratch)
        measured["bare route"] = run_bare(args.seconds, args.warmup, scratch)
        rounds.append(measured)
    names = ("bare route", "Flask-Admin list view", *FLOORS, *WHOLE)
    runs = []
    for name in names:
        each = [measured[name] for measured in rounds]
        runs.append(
            {
                "name": name,
                "floor": name in FLOORS,
                "requests_per_second": [r.requests_per_second for r in each],
                "ratio_to_bare": [
                    r.requests_per_second / m["bare route"].requests_per_second
                    for r, m in zip(each, rounds, strict=True)
                ],
                "ratio_to_admin": [
                    r.requests_per_second / m["Flask-Admin list view"].requests_per_second
                    for r, m in zip(each, rounds, strict=True)
                ],
                "p99_ms": statistics.median(r.p99_ms for r in each),
                "non_2xx": sum(r.non_2xx for r in each),
            }
        )
    return {
        "articles": args.n,
        "gunicorn": " ".join(GUNICORN_ARGS),
        "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{args.seconds}s --latency",
        "rounds": args.repeat,
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }


def format_table(report: dict) -> str:
    lines = [
        f"{report['articles']:,} articles (SQLite, WAL); gunicorn {report['gunicorn']}; wrk {report['wrk']}; "
        f"127.0.0.1; medians of {report['rounds']} round(s)",
        f"{'':36}{'requests/s':>11}{'x bare':>8}{'x Flask-Admin':>15}{'p99':>10}{'non-2xx':>9}",
    ]
    for run in report["runs"]:
        label = ("floor: " if run["floor"] else "") + run["name"]
        lines.append(
            f"{label:36}{statistics.median(run['requests_per_second']):11.0f}{statistics.median(run['ratio_to_bare']):8.3f}"
            f"{statistics.median(run['ratio_to_admin']):15.2f}{run['p99_ms']:8.2f}ms{run['non_2xx']:9}"
        )
    runs = {run["name"]: run for run in report["runs"]}
    for floor, (whole, to_bare, to_admin) in BOUNDS.items():
        reached = max(runs[floor]["ratio_to_bare"])
        bound = f"{whole} >= {to_bare} x bare: its floor ({floor}) reaches {reached:.3f} at best"
        if to_admin is not None:
            bound += (
                f"; >= {to_admin} x Flask-Admin: the floor reaches {max(runs[floor]['ratio_to_admin']):.2f}"
            )
        lines.append("bound: " + bound)
    lines.append(f"took {report['seconds']:.0f}s")
    return "\n".join(lines)


def result_figures(report: dict) -> list[dict]:
    runs = {run["name"]: run for run in report["runs"]}
    bare = runs["bare route"]["requests_per_second"]
    return [
        results.figure(
            ("floor: " if run["floor"] else "") + name,
            "requests/s",
            run["requests_per_second"],
            "bare route",
            bare,
        )
        for name, run in runs.items()
        if name != "bare route"
    ]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.floors", description=__doc__.splitlines()[0])
    queue_db.add_arguments(parser)
    add_load_arguments(parser, repeat=1)
    args = parser.parse_args(argv)
    if args.n < 2100 or args.unique < 1 or args.seconds < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("need --n >= 2100, --unique >= 1, --seconds >= 1, --warmup >= 0, --repeat >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run_and_print("floors", args, run, format_table)
    if report is None:
        return 2
    if args.results:
        settings = {key: report[key] for key in ("articles", "gunicorn", "wrk", "rounds")}
        log(f"figures written to {results.record('floors', result_figures(report), settings, args.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
