"""Queue load benchmark: real HTTP through gunicorn, driven by wrk, against a bare Flask route.

    python -m bench.load_queue [--n 100000] [--unique 10000] [--db PATH] [--seconds 10]
                               [--warmup 2] [--repeat 1] [--json] [--results PATH]

With N articles in a SQLite database (WAL), under the same gunicorn settings for both
apps (`-w 2 --worker-class sync -b 127.0.0.1:PORT`, access log off), wrk
(`-t2 -c8 -d10s --latency`, 127.0.0.1 only) measures:

- bare route: `GET /` of `bench.bare_app`, a fixed string: the baseline;
- queue fragment: `GET /?status=pending` with `HX-Request: true` as a logged-in moderator,
  checked once beforehand to be the 50-row fragment, not the full page;
- approve: `POST /articles/<id>/approve` with `version=<v>`, the CSRF token in
  `X-CSRFToken` and `HX-Request: true`, each request to another pending article (the two
  wrk threads take alternate articles of one list read from the database beforehand); its
  answer is the moderation block with the row, history, related block, notice, recent
  decisions and counts out of band;
- approve + next panel: the same with `answer=moderation&open_next=<id>`, the next article
  of the thread's list, as the panel sends it: the whole answer a browser gets when the
  queue moves on, the next article's panel claimed in the same request (checked once
  beforehand: a panel, retargeted, the next article's URL pushed). The two approve runs
  take alternate articles of the pending list.

Targets: the fragment serves at least 0.15 of the bare route's requests/s, approve and
approve + next panel at least 0.08 each, and approve + next panel answers 99% within 25 ms.
Prints requests/s, the ratio to bare, p50 and p99 latency (wrk's --latency)
and responses that were not 2xx (a 409 is a version conflict: there should be none), or
the same as JSON with --json. gunicorn (pip) and wrk (apt-get) are installed when
missing. With --results the figures also go into that file (bench/results.py), each round's
beside the same round's bare route. Exit status: 0 when every target passes, 1 when one fails,
2 when the benchmark could not run (e.g. the queue routes are not there).

The database (see bench/queue_db.py) is built in a scratch folder and deleted afterwards,
or built into --db PATH and reused by later runs; 10,000 generated seeds are imported
through the real importer and copied in SQL up to N (`--unique N` imports all N,
about five minutes for 100,000). Each round approves a few thousand of its pending
articles. A whole run takes about a minute and a half with a fresh database (50 s of it
building), 40 s reusing one; `--repeat 3` runs three rounds and prints medians. Run it on
an otherwise idle machine: wrk and both apps share its cores.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import queue_db, results, wrk
from .http_session import Session, SessionError, csrf_token, log_in
from .servers import GUNICORN_ARGS, ServerError, serve

NAMES = ("bare route", "queue fragment", "approve", "approve + next panel")
TARGETS = {"queue fragment": 0.15, "approve": 0.08, "approve + next panel": 0.08}
P99_TARGETS_MS = {"approve + next panel": 25.0}
ROWS = 50
FRAGMENT_PATH = "/?status=pending"


class BenchmarkError(RuntimeError):
    """The benchmark cannot run; the message says why."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_tools() -> None:
    """gunicorn in this Python, wrk on the PATH: installed when missing."""
    if importlib.util.find_spec("gunicorn") is None:
        log("installing gunicorn with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "gunicorn"], check=True)
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            raise BenchmarkError("wrk is not installed: apt-get install wrk")
        log("installing wrk with apt-get")
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"]).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def measure_get(name: str, url: str, script: str, seconds: int, warmup: int, scratch: Path) -> wrk.WrkResult:
    if warmup:
        wrk.run_wrk(f"{name} warmup", url, script, warmup, scratch)
    log(f"wrk: {name}, {seconds}s")
    return wrk.run_wrk(name, url, script, seconds, scratch)


def check_fragment(session: Session, headers: dict) -> None:
    """The htmx queue request answers 200 with exactly the 50-row fragment."""
    answer = session.request("GET", FRAGMENT_PATH, headers=headers)
    if answer.status != 200:
        raise BenchmarkError(
            f"GET {FRAGMENT_PATH} with HX-Request answered {answer.status}: the queue route is not there yet?"
        )
    start = answer.body.lstrip()[:200].lower()
    if start.startswith("<!doctype") or "<html" in start:
        raise BenchmarkError(
            f"GET {FRAGMENT_PATH} with HX-Request answered the full page: the queue fragment is not there yet"
        )
    rows = answer.body.count('<tr id="article-')
    if rows != ROWS:
        raise BenchmarkError(f"the queue fragment has {rows} article rows, not {ROWS}")


def check_approve(session: Session, headers: dict, article: tuple[int, int], db_path: Path) -> None:
    """One approve answers 2xx and leaves the article approved."""
    article_id, version = article
    path = f"/articles/{article_id}/approve"
    answer = session.request("POST", path, form={"version": version}, headers=headers)
    if answer.status in (404, 405):
        raise BenchmarkError(f"POST {path} answered {answer.status}: the approve route is not there yet")
    if not 200 <= answer.status < 300:
        raise BenchmarkError(f"POST {path} answered {answer.status}: {answer.body[:300]!r}")
    if queue_db.article_status(db_path, article_id) != "approved":
        raise BenchmarkError(f"POST {path} answered {answer.status} but article {article_id} is not approved")


def check_approve_and_open(session: Session, headers: dict, article: tuple[int, int], next_id: int) -> None:
    """One approve naming the next article answers with that article's panel, retargeted, its URL pushed."""
    article_id, version = article
    path = f"/articles/{article_id}/approve"
    form = {"version": version, "answer": "moderation", "open_next": next_id}
    answer = session.request("POST", path, form=form, headers=headers)
    pushed = {name.lower(): value for name, value in answer.headers.items()}.get("hx-push-url")
    if (
        answer.status != 200
        or pushed != f"/articles/{next_id}"
        or f'data-article="{next_id}"' not in answer.body
    ):
        raise BenchmarkError(
            f"POST {path} with open_next={next_id} answered {answer.status}, pushed {pushed!r}: "
            f"not the next article's panel: {answer.body[:300]!r}"
        )


def write_pairs(scratch: Path, name: str, pending: list[tuple[int, int]]) -> Path:
    """The "id version" file a wrk approve script reads its articles from."""
    path = scratch / f"{name.replace(' ', '-').replace('+', 'and')}-pairs.txt"
    path.write_text("".join(f"{article_id} {version}\n" for article_id, version in pending))
    return path


def measure_approve(
    name: str, url: str, headers: dict, pending: list[tuple[int, int]], seconds: int, scratch: Path
) -> wrk.WrkResult:
    log(f"wrk: {name}, {seconds}s, {len(pending):,} pending articles to take")
    script = wrk.approve_script(headers, write_pairs(scratch, name, pending), open_next=name != "approve")
    return wrk.run_wrk(name, url, script, seconds, scratch)


def signed_in(url: str) -> tuple[Session, dict, dict]:
    """The bench moderator's session on the app at `url`, with the headers of its htmx GETs and POSTs."""
    session = log_in(url, queue_db.USERNAME, queue_db.PASSWORD)
    page = session.request("GET", "/")
    if page.status != 200:
        raise BenchmarkError(f"GET / as a moderator answered {page.status}")
    get_headers = {"HX-Request": "true", "Cookie": session.cookie_header()}
    post_headers = get_headers | {
        "X-CSRFToken": csrf_token(page.body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return session, get_headers, post_headers


def run_copydesk(db_path: Path, seconds: int, warmup: int, scratch: Path) -> list[wrk.WrkResult]:
    env = {
        "DATABASE_URL": queue_db.sqlite_url(db_path),
        "SECRET_KEY": secrets.token_hex(32),
        "COPYDESK_ENV": "development",
    }
    with serve("webapp:create_app()", env, scratch, ready_path="/login") as url:
        session, fragment_headers, approve_headers = signed_in(url)
        check_fragment(session, fragment_headers)
        pending = queue_db.pending_versions(db_path)
        if len(pending) < 1000:
            raise BenchmarkError(f"only {len(pending)} pending articles left in {db_path}: use a new --db")
        check_approve(session, approve_headers, pending.pop(), db_path)
        check_approve_and_open(session, approve_headers, pending.pop(), pending[-1][0])
        script = wrk.get_script(fragment_headers)
        fragment = measure_get("queue fragment", url + FRAGMENT_PATH, script, seconds, warmup, scratch)
        approve = measure_approve("approve", url, approve_headers, pending[0::2], seconds, scratch)
        whole = measure_approve("approve + next panel", url, approve_headers, pending[1::2], seconds, scratch)
    return [fragment, approve, whole]


def run_bare(seconds: int, warmup: int, scratch: Path) -> wrk.WrkResult:
    with serve("bench.bare_app:create_app()", {}, scratch) as url:
        return measure_get(
            "bare route", url + "/", wrk.get_script({}, count_statuses=False), seconds, warmup, scratch
        )


def summary(rounds: list[list[wrk.WrkResult]], approved: int, args, took: dict) -> dict:
    """Medians over the rounds; each ratio is the median of the rounds' own ratios to their bare run."""
    runs = []
    for index, name in enumerate(NAMES):
        results = [results[index] for results in rounds]
        ratios = [results[index].requests_per_second / results[0].requests_per_second for results in rounds]
        statuses = collections.Counter()
        for result in results:
            statuses.update(result.statuses)
        runs.append(
            {
                "name": name,
                "requests": sum(r.requests for r in results),
                "requests_per_second": statistics.median(r.requests_per_second for r in results),
                "ratio_to_bare": statistics.median(ratios),
                "p50_ms": statistics.median(r.p50_ms for r in results),
                "p99_ms": statistics.median(r.p99_ms for r in results),
                "non_2xx": sum(r.non_2xx for r in results),
                "statuses": {str(s): c for s, c in sorted(statuses.items())},
                "socket_errors": sum(r.socket_errors for r in results),
                "wrapped": sum(r.wrapped for r in results),
                "rounds": [
                    {"requests_per_second": r.requests_per_second, "ratio_to_bare": ratio}
                    for r, ratio in zip(results, ratios, strict=True)
                ],
            }
        )
    ratios = {run["name"]: run["ratio_to_bare"] for run in runs}
    p99s = {run["name"]: run["p99_ms"] for run in runs}
    return {
        "articles": args.n,
        "gunicorn": " ".join(GUNICORN_ARGS),
        "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{args.seconds}s --latency",
        "rounds": len(rounds),
        "runs": runs,
        "targets": {
            name: {
                "min_ratio": t,
                "ratio": ratios[name],
                "max_p99_ms": P99_TARGETS_MS.get(name),
                "p99_ms": p99s[name],
                "pass": ratios[name] >= t and p99s[name] < P99_TARGETS_MS.get(name, float("inf")),
            }
            for name, t in TARGETS.items()
        },
        "approved_in_database": approved,
        "seconds": took,
    }


def format_table(report: dict) -> str:
    lines = [
        f"{report['articles']:,} articles (SQLite, WAL); gunicorn {report['gunicorn']}; "
        f"wrk {report['wrk']}; 127.0.0.1"
        + (f"; medians of {report['rounds']} rounds" if report["rounds"] > 1 else ""),
        f"{'':22}{'requests/s':>11}{'x bare':>8}{'p50':>10}{'p99':>10}{'non-2xx':>9}{'socket errors':>15}",
    ]
    for run in report["runs"]:
        lines.append(
            f"{run['name']:22}{run['requests_per_second']:11.0f}{run['ratio_to_bare']:8.3f}"
            f"{run['p50_ms']:8.2f}ms{run['p99_ms']:8.2f}ms{run['non_2xx']:9}{run['socket_errors']:15}"
        )
    answered, statuses, wrapped = 0, collections.Counter(), 0
    for approve in report["runs"][2:]:
        answered += sum(count for status, count in approve["statuses"].items() if status.startswith("2"))
        statuses.update(approve["statuses"])
        wrapped += approve["wrapped"]
    lines.append(
        f"approve (both runs): {answered:,} answered 2xx (statuses {dict(statuses)}), "
        f"{report['approved_in_database']:,} articles approved in the database"
        + (f"; WARNING: ran out of pending articles {wrapped} times" if wrapped else "")
    )
    lines.append(
        "targets: "
        + "; ".join(
            f"{name} >= {t['min_ratio']:.2f} x bare"
            + (f", p99 < {t['max_p99_ms']:.0f} ms" if t["max_p99_ms"] else "")
            + f": {t['ratio']:.3f}"
            + (f", {t['p99_ms']:.1f} ms" if t["max_p99_ms"] else "")
            + f" {'PASS' if t['pass'] else 'FAIL'}"
            for name, t in report["targets"].items()
        )
    )
    took = report["seconds"]
    lines.append(f"took {took['total']:.0f}s (database {took['database']:.0f}s, load {took['load']:.0f}s)")
    return "\n".join(lines)


def add_load_arguments(parser: argparse.ArgumentParser, repeat: int) -> None:
    """The options every wrk benchmark takes: --seconds, --warmup, --repeat, --json and --results."""
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured wrk seconds before each GET run (default 2)"
    )
    parser.add_argument(
        "--repeat", type=int, default=repeat, help=f"rounds; medians are printed (default {repeat})"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    results.add_argument(parser)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.load_queue", description=__doc__.splitlines()[0])
    queue_db.add_arguments(parser)
    add_load_arguments(parser, repeat=1)
    args = parser.parse_args(argv)
    if args.n < ROWS + 1000 or args.unique < 1 or args.seconds < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error(
            f"need --n >= {ROWS + 1000}, --unique >= 1, --seconds >= 1, --warmup >= 0, --repeat >= 1"
        )
    return args


def run(args, scratch: Path) -> dict:
    started = time.perf_counter()
    ensure_tools()
    db_path = args.db or scratch / "queue.db"
    log(f"database {db_path}: {args.n:,} articles")
    built = queue_db.prepare(db_path, args.n, args.unique, args.seed, secrets.token_hex(16), log=log)
    log("  built" if built else "  reused")
    loaded = time.perf_counter()
    before = queue_db.moderation_counts(db_path)
    rounds = []
    for number in range(1, args.repeat + 1):
        log(f"round {number} of {args.repeat}")
        measured = run_copydesk(db_path, args.seconds, args.warmup, scratch)
        rounds.append([run_bare(args.seconds, args.warmup, scratch), *measured])
    checks = 2 * args.repeat  # two approves per round check the routes before wrk runs
    approved = queue_db.moderation_counts(db_path).get("approved", 0) - before.get("approved", 0) - checks
    finished = time.perf_counter()
    took = {"total": finished - started, "database": loaded - started, "load": finished - loaded}
    return summary(rounds, approved, args, took)


def run_and_print(name: str, args, run, format_table) -> dict | None:
    """`run(args, scratch)` in a scratch folder, its report printed (JSON with --json); None when it could
    not run (the reason logged)."""
    try:
        with tempfile.TemporaryDirectory(prefix=f"copydesk-{name}-") as scratch:
            report = run(args, Path(scratch))
    except (BenchmarkError, SessionError, ServerError, queue_db.DatabaseError) as error:
        log(f"{name}: {error}")
        return None
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run_and_print("load_queue", args, run, format_table)
    if report is None:
        return 2
    if args.results:
        settings = {key: report[key] for key in ("articles", "gunicorn", "wrk", "rounds")}
        written = results.record("load_queue", result_figures(report), settings, args.results)
        log(f"figures written to {written}")
    return 0 if all(t["pass"] for t in report["targets"].values()) else 1


def result_figures(report: dict) -> list[dict]:
    """The report's figures for bench/results.py: each measured path over the rounds, the bare route's
    requests/s of the same rounds as its baseline."""
    runs = {run["name"]: run for run in report["runs"]}
    bare = [r["requests_per_second"] for r in runs["bare route"]["rounds"]]
    built = []
    for name in NAMES[1:]:
        run = runs[name]
        entry = results.figure(
            name,
            "requests/s",
            [r["requests_per_second"] for r in run["rounds"]],
            "bare route",
            bare,
            min_ratio=TARGETS.get(name),
            p50_ms=run["p50_ms"],
            p99_ms=run["p99_ms"],
            non_2xx=run["non_2xx"],
        )
        if name in P99_TARGETS_MS:
            entry["target"]["max_p99_ms"] = P99_TARGETS_MS[name]
            entry["pass"] = entry["pass"] and run["p99_ms"] < P99_TARGETS_MS[name]
        built.append(entry)
    return built


if __name__ == "__main__":
    raise SystemExit(main())
