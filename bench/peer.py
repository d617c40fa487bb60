"""The peer benchmark: Copydesk's queue fragment beside Flask-Admin's list view of the same table.

    python -m bench.peer [--n 100000] [--unique 10000] [--db PATH] [--deep-page 1000]
                         [--seconds 10] [--warmup 2] [--repeat 3] [--json] [--results PATH]

Both apps read the same SQLite database (bench/queue_db.py builds it, or reuses --db) and are
served by gunicorn with the same settings (bench/servers.py: `-w 2 --worker-class sync`, access
log off); wrk (`-t2 -c8 --latency`, 127.0.0.1 only) drives each page in turn:

- Copydesk: `GET /?status=pending` with `HX-Request: true`, as a logged-in moderator: the 50-row
  queue fragment, first page; and the same with `after=<cursor>`, the page "Load more" asks for
  after `(deep page - 1) * 50` rows (page 1000: rows 49,951 to 50,000);
- Flask-Admin (bench/peer_admin.py): `GET /admin/article/?page=N`, its list view of the pending
  articles, newest first, 50 to a page: page 0 and page `deep page - 1` (its pages count from 0).

Both apps are up during a round, and each page is measured on one and straight after on the other
(which goes first alternates by round), so that a pair sees the same load on the machine.
Each page is checked once beforehand to hold 50 article rows, and the deep pages to start at the
same article. Target: on both pages Copydesk serves at least 8 times Flask-Admin's requests/s, in
every round (`--repeat`, ratios printed min / median / max). Flask-Admin is the `bench` extra
(`pip install -e '.[bench]'`). Exit status: 0 when both pass, 1 when one fails, 2 when the
benchmark could not run. With --results the figures go into bench/results.py's file too.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, select

from webapp.models import PENDING, Article
from webapp.services.filtering import format_cursor

from . import queue_db, results, wrk
from .http_session import Session, log_in
from .load_queue import (
    FRAGMENT_PATH,
    ROWS,
    BenchmarkError,
    add_load_arguments,
    ensure_tools,
    log,
    measure_get,
    run_and_print,
)
from .peer_admin import LIST_PATH
from .servers import GUNICORN_ARGS, serve

TARGET = 8.0
PAGES = ("first page", "deep page")


def deep_page_start(db_path: Path | str, deep_page: int) -> tuple[str, int]:
    """The queue's cursor for page `deep_page` (1-based) of the pending articles, newest first, and the id
    of that page's first article."""
    skip = (deep_page - 1) * ROWS
    engine = create_engine(queue_db.url_of(db_path))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Article.published_at, Article.id)
                .where(Article.status == PENDING)
                .order_by(Article.published_at.desc(), Article.id.desc())
                .offset(skip - 1)
                .limit(ROWS + 1)
            ).all()
    finally:
        engine.dispose()
    if len(rows) < ROWS + 1:
        raise BenchmarkError(
            f"page {deep_page} needs {skip + ROWS:,} pending articles, and {queue_db.shown(db_path)} "
            "has fewer: a smaller --deep-page or a larger --n"
        )
    last_before, first = rows[0], rows[1]
    return format_cursor(last_before.published_at, last_before.id), first.id


def check_copydesk_page(session: Session, path: str, headers: dict, first_id: int | None) -> None:
    answer = session.request("GET", path, headers=headers)
    rows = re.findall(r'<tr id="article-(\d+)"', answer.body)
    if answer.status != 200 or len(rows) != ROWS:
        raise BenchmarkError(
            f"Copydesk's GET {path} answered {answer.status} with {len(rows)} rows, not {ROWS}"
        )
    if first_id is not None and int(rows[0]) != first_id:
        raise BenchmarkError(f"Copydesk's GET {path} starts at article {rows[0]}, not {first_id}")


def check_admin_page(url: str, path: str, first_title: str | None) -> None:
    answer = Session(url).request("GET", path)
    titles = re.findall(r'<td class="col-title">\s*(.*?)\s*</td>', answer.body, re.S)
    if answer.status != 200 or len(titles) != ROWS:
        raise BenchmarkError(
            f"Flask-Admin's GET {path} answered {answer.status} with {len(titles)} rows, not {ROWS}"
        )
    if first_title is not None and html.unescape(titles[0]) != first_title:
        raise BenchmarkError(f"Flask-Admin's GET {path} starts at {titles[0]!r}, not {first_title!r}")


def title_of(db_path: Path | str, article_id: int) -> str:
    engine = create_engine(queue_db.url_of(db_path))
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Article.title).where(Article.id == article_id))
    finally:
        engine.dispose()


def run_round(db_path: Path, pages: dict, args, scratch: Path, number: int) -> tuple[list, list]:
    """Both apps served at once; each page measured on one, then at once on the other (which goes first
    alternates by round), so that the two figures of a pair see the same load on the machine."""
    env = {"DATABASE_URL": queue_db.sqlite_url(db_path), "SECRET_KEY": secrets.token_hex(32)}
    with (
        serve("webapp:create_app()", env | {"COPYDESK_ENV": "development"}, scratch, "/login") as ours,
        serve("bench.peer_admin:create_app()", env, scratch, ready_path=LIST_PATH) as theirs,
    ):
        session = log_in(ours, queue_db.USERNAME, queue_db.PASSWORD)
        headers = {"HX-Request": "true", "Cookie": session.cookie_header()}
        check_copydesk_page(session, pages["copydesk"][0], headers, None)
        check_copydesk_page(session, pages["copydesk"][1], headers, pages["first_id"])
        check_admin_page(theirs, pages["admin"][0], None)
        check_admin_page(theirs, pages["admin"][1], pages["first_title"])
        sides = [
            ("Copydesk queue fragment", ours, pages["copydesk"], wrk.get_script(headers)),
            ("Flask-Admin list view", theirs, pages["admin"], wrk.get_script({})),
        ]
        measured: dict[str, list[wrk.WrkResult]] = {name: [] for name, *_ in sides}
        for index, page in enumerate(PAGES):
            for name, url, paths, script in sides if number % 2 else sides[::-1]:
                measured[name].append(
                    measure_get(
                        f"{name}, {page}", url + paths[index], script, args.seconds, args.warmup, scratch
                    )
                )
    return measured["Copydesk queue fragment"], measured["Flask-Admin list view"]


def figures(rounds: list[tuple[list[wrk.WrkResult], list[wrk.WrkResult]]], deep_page: int) -> list[dict]:
    """One figure per page: Copydesk's requests/s over the rounds, Flask-Admin's as its baseline."""
    built = []
    for index in range(len(PAGES)):
        ours = [copydesk[index] for copydesk, _ in rounds]
        theirs = [admin[index] for _, admin in rounds]
        label = "page 1" if index == 0 else f"page {deep_page:,}"
        built.append(
            results.figure(
                f"queue fragment, {label}",
                "requests/s",
                [r.requests_per_second for r in ours],
                f"Flask-Admin list view, {label}",
                [r.requests_per_second for r in theirs],
                min_ratio=TARGET,
                p50_ms=[r.p50_ms for r in ours],
                p99_ms=[r.p99_ms for r in ours],
                baseline_p50_ms=[r.p50_ms for r in theirs],
                baseline_p99_ms=[r.p99_ms for r in theirs],
                non_2xx=sum(r.non_2xx for r in ours + theirs),
                socket_errors=sum(r.socket_errors for r in ours + theirs),
            )
        )
    return built


def format_table(report: dict) -> str:
    lines = [
        f"{report['articles']:,} articles (SQLite, WAL), 50 rows a page; gunicorn {report['gunicorn']}; "
        f"wrk {report['wrk']}; 127.0.0.1; {report['rounds']} round(s)",
        f"{'':28}{'Copydesk req/s':>15}{'Flask-Admin req/s':>19}{'ratio min / median / max':>27}"
        f"{'p99 ours / theirs':>22}",
    ]
    for item in report["figures"]:
        ratio = item["ratio"]
        page = item["name"].split(", ")[1]
        lines.append(
            f"{page:28}{item['median']:15.0f}{item['baseline']['median']:19.1f}"
            f"{ratio['min']:11.1f} /{ratio['median']:6.1f} /{ratio['max']:6.1f}"
            f"{max(item['p99_ms']):12.1f} /{max(item['baseline_p99_ms']):6.0f} ms"
        )
        if item["non_2xx"] or item["socket_errors"]:
            lines.append(
                f"  WARNING: {item['non_2xx']} non-2xx answers, {item['socket_errors']} socket errors"
            )
    lines.append(
        "target: Copydesk's queue fragment >= 8 x Flask-Admin's list view, in every round: "
        + "; ".join(
            f"{item['name'].split(', ')[1]} {item['ratio']['min']:.1f} {'PASS' if item['pass'] else 'FAIL'}"
            for item in report["figures"]
        )
    )
    lines.append(f"took {report['seconds']:.0f}s")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.splitlines()[0])
    queue_db.add_arguments(parser)
    parser.add_argument("--deep-page", type=int, default=1000, help="the deep page, from 1 (default 1000)")
    add_load_arguments(parser, repeat=3)
    args = parser.parse_args(argv)
    if args.n < ROWS + 1 or args.deep_page < 2 or args.seconds < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("need --n >= 51, --deep-page >= 2, --seconds >= 1, --warmup >= 0, --repeat >= 1")
    return args


def run(args, scratch: Path) -> dict:
    started = time.perf_counter()
    ensure_tools()
    if importlib.util.find_spec("flask_admin") is None:
        raise BenchmarkError("Flask-Admin is not installed: pip install -e '.[bench]' (make setup-dev does)")
    db_path = args.db or scratch / "queue.db"
    log(f"database {db_path}: {args.n:,} articles")
    queue_db.prepare(db_path, args.n, args.unique, args.seed, secrets.token_hex(16), log=log)
    cursor, first_id = deep_page_start(db_path, args.deep_page)
    copydesk_paths = [FRAGMENT_PATH, f"{FRAGMENT_PATH}&after={quote(cursor)}"]
    admin_paths = [f"{LIST_PATH}?page=0", f"{LIST_PATH}?page={args.deep_page - 1}"]
    pages = {
        "copydesk": copydesk_paths,
        "admin": admin_paths,
        "first_id": first_id,
        "first_title": title_of(db_path, first_id),
    }
    rounds = []
    for number in range(1, args.repeat + 1):
        log(f"round {number} of {args.repeat}")
        rounds.append(run_round(db_path, pages, args, scratch, number))
    return {
        "articles": args.n,
        "deep_page": args.deep_page,
        "gunicorn": " ".join(GUNICORN_ARGS),
        "wrk": f"-t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{args.seconds}s --latency",
        "rounds": args.repeat,
        "figures": figures(rounds, args.deep_page),
        "seconds": time.perf_counter() - started,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run_and_print("peer", args, run, format_table)
    if report is None:
        return 2
    if args.results:
        settings = {key: report[key] for key in ("articles", "deep_page", "gunicorn", "wrk", "rounds")}
        log(f"figures written to {results.record('peer', report['figures'], settings, args.results)}")
    return 0 if all(item["pass"] for item in report["figures"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
