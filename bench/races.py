"""Racing moderators: many clients act on the same articles at the same versions at once.

    python -m bench.races [--database-url URL] [--clients 20] [--rounds 200] [--articles 3]
                          [--http [--workers 4] [--users 5]] [--seed 1]

Each round reads the raced articles' versions, then every client fires one change at the
same moment (a barrier): approve, reject, heat, reopen ("return to pending"), merge (or
unmerge, when entries are merged), undo of the article's last change (as its author, as a
second tab would) or a bulk decision over all the raced articles, each made from the
versions just read. Without --http the clients are threads calling the services, each in
its own app context and session; with --http they send the real forms (CSRF token, htmx
headers) to the app under gunicorn with --workers sync workers, logged in as --users
moderators shared by the clients.

Then it checks, and prints beside the figures: exactly one change won each race (article,
round), each accepted change has exactly one audit event and no event is unaccounted for,
and each article's events chain its versions 1, 2, 3… with no gap or repeat, each event's
state before being the previous one's after, the article ending as its last event left it.
Exit status 1 when any check fails. The database is emptied and migrated first
(PostgreSQL: the `public` schema; default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Barrier

from sqlalchemy import select, text

from webapp import create_app
from webapp.models import APPROVED, REJECTED, Article, AuditEvent, RelatedLink, User, db
from webapp.services import changes, merging, moderation
from webapp.services.accounts import create_user
from webapp.services.seed_import import import_paths
from webapp.services.undo import undo

from .http_session import Session, csrf_token, log_in
from .servers import PROJECT_ROOT, ServerError, free_port

REAL_SEED = PROJECT_ROOT / "seeds" / "000_153b8be9e8e41660.txt"
PASSWORD = "race-password"
KINDS = ("approve", "reject", "heat", "reopen", "merge", "undo", "bulk")
STATE_KEYS = ("status", "heat", "decided_by_id", "reject_reason", "version")
BARRIER_SECONDS = 60


@dataclass(frozen=True)
class Attempt:
    """One client's change in a round: what, on which (article id, version seen) pairs, as whom."""

    kind: str
    targets: tuple[tuple[int, int], ...]
    user_id: int
    detail: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Result:
    """What came of an attempt: event ids won per article (or, over HTTP, a count), losses, an error."""

    attempt: Attempt
    won: dict[int, int | None] = field(default_factory=dict)
    won_count: int = 0
    lost: dict[int, str] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Round:
    versions: dict[int, int]
    results: list[Result]


@dataclass
class Figures:
    """What a run did, and what its checks found wrong (`problems` empty when all held)."""

    mode: str
    database: str
    clients: int
    rounds: list[Round] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def races(self) -> int:
        return sum(len(r.versions) for r in self.rounds)

    @property
    def attempts(self) -> int:
        return sum(len(r.results) for r in self.rounds)

    def outcomes(self) -> Counter:
        """Per article an attempt touched: "won", "conflict" (409), "refused" (422) or "error"."""
        counts = Counter()
        for round_ in self.rounds:
            for result in round_.results:
                counts["won"] += len(result.won) + result.won_count
                counts.update(result.lost.values())
                counts["error"] += result.error is not None
        return counts

    def summary(self) -> str:
        outcomes = self.outcomes()
        kinds = Counter(result.attempt.kind for r in self.rounds for result in r.results)
        return (
            f"races {self.mode} on {self.database}: {self.clients} clients, {self.races} races "
            f"({len(self.rounds)} rounds), {self.attempts} changes fired "
            f"({', '.join(f'{k} {kinds[k]}' for k in KINDS)}): {outcomes['won']} won, "
            f"{outcomes['conflict']} conflicts, {outcomes['refused']} refused, {outcomes['error']} errors; "
            f"{self.events} audit events; {self.seconds:.1f} s; "
            f"{'all checks held' if not self.problems else f'{len(self.problems)} problems'}"
        )


# Setting up: articles with related entries to merge, and moderators.


def prepare(
    scratch: Path, articles: int, users: int, password: str = PASSWORD
) -> tuple[list[int], list[int]]:
    """Import `articles` copies of the real seed and create `users` moderators; their ids."""
    folder = scratch / "race-seeds"
    folder.mkdir(parents=True, exist_ok=True)
    original = REAL_SEED.read_text(encoding="utf-8")
    for number in range(articles):
        (folder / f"race_{number:03}.txt").write_text(original, encoding="utf-8")
    report = import_paths([str(folder)], max_bytes=2**21)
    if report.imported != articles:
        raise RuntimeError(f"importing the race seeds: {report}")
    user_ids = [create_user(f"racer{number:02}", password, "moderator").id for number in range(users)]
    article_ids = list(db.session.scalars(select(Article.id).order_by(Article.id)))
    db.session.commit()
    return article_ids, user_ids


# Planning a round from the articles as they stand.


def plan_round(
    rng: random.Random, article_ids: list[int], user_ids: list[int], clients: int, shuffle_bulk: bool
) -> Round:
    """Every client's attempt for one round, from the versions as they stand now.

    `shuffle_bulk`: each bulk decision lists the articles in an order of its own, as rows ticked
    under different sort orders are; else all list them by id.
    """
    db.session.expire_all()
    versions, last_events, merged = {}, {}, {}
    for article_id in article_ids:
        versions[article_id] = db.session.get(Article, article_id).version
        last_events[article_id] = db.session.scalar(
            select(AuditEvent).where(AuditEvent.article_id == article_id).order_by(AuditEvent.id.desc())
        )
        merged[article_id] = _merged_canonical(article_id)
    attempts = []
    for client in range(clients):
        article_id = article_ids[client % len(article_ids)]
        seen = ((article_id, versions[article_id]),)
        user_id = user_ids[client % len(user_ids)]
        kind = rng.choice(KINDS if last_events[article_id] else [k for k in KINDS if k != "undo"])
        detail: dict = {}
        if kind == "bulk":
            targets = [(a, versions[a]) for a in article_ids]
            if shuffle_bulk:
                rng.shuffle(targets)
            seen, detail = tuple(targets), {"verdict": rng.choice((APPROVED, REJECTED))}
        elif kind == "heat":
            detail = {"heat": rng.randrange(0, 200)}
        elif kind == "reject":
            detail = {"reason": f"race {rng.randrange(1000)}"}
        elif kind == "merge":
            detail = {"unmerge": merged[article_id]}
        elif kind == "undo":
            event = last_events[article_id]
            user_id, detail = event.actor_id, {"event_id": event.id}
        attempts.append(Attempt(kind, seen, user_id, detail))
    db.session.rollback()
    return Round(versions, [Result(attempt) for attempt in attempts])


def _merged_canonical(article_id: int) -> int | None:
    """The position entries are merged into on the article, or None when nothing is merged."""
    links = db.session.execute(
        select(RelatedLink.id, RelatedLink.position, RelatedLink.merged_into_id).where(
            RelatedLink.article_id == article_id
        )
    ).all()
    position_of = {link.id: link.position for link in links}
    targets = {position_of[link.merged_into_id] for link in links if link.merged_into_id is not None}
    return min(targets) if targets else None


# Firing: threads calling the services.


def fire_threads(app, round_: Round, pool: ThreadPoolExecutor) -> None:
    """Each attempt in a thread of its own, with its own app context and session, all let go at once."""
    barrier = Barrier(len(round_.results), timeout=BARRIER_SECONDS)
    futures = [pool.submit(_thread_attempt, app, barrier, result) for result in round_.results]
    for future in futures:
        future.result()


def _thread_attempt(app, barrier: Barrier, result: Result) -> None:
    attempt = result.attempt
    with app.app_context():
        try:
            user = db.session.get(User, attempt.user_id)
            db.session.expunge(user)
            db.session.rollback()  # no connection held while waiting
            barrier.wait()
            _call_service(attempt, user, result)
        except Exception as error:  # anything else is what the run is looking for
            result.error = f"{attempt.kind} on {attempt.targets}: {type(error).__name__}: {error}"
        finally:
            db.session.remove()


def _call_service(attempt: Attempt, user: User, result: Result) -> None:
    (article_id, version), detail = attempt.targets[0], attempt.detail
    if attempt.kind == "bulk":
        outcome = moderation.bulk_decide(list(attempt.targets), user, detail["verdict"])
        result.won = {event["article_id"]: event["id"] for event in outcome.events}
        result.lost = dict.fromkeys(outcome.skipped + outcome.missing, "conflict")
        return
    try:
        if attempt.kind in ("approve", "reject"):
            verdict = APPROVED if attempt.kind == "approve" else REJECTED
            event = moderation.decide(article_id, user, verdict, version, detail.get("reason"))
        elif attempt.kind == "heat":
            event = moderation.set_heat(article_id, user, detail["heat"], version, 200)
        elif attempt.kind == "reopen":
            event = moderation.reopen(article_id, user, version)
        elif attempt.kind == "merge" and detail["unmerge"] is not None:
            event = merging.unmerge(article_id, user, version, detail["unmerge"])
        elif attempt.kind == "merge":
            event = merging.merge(article_id, user, version, [0, 1])
        else:
            event = undo(detail["event_id"], user)
    except changes.Conflict:
        result.lost = {article_id: "conflict"}
    except changes.InvalidInput:
        # A merge made from a list someone merged meanwhile: refused as "already merged", not a conflict.
        result.lost = {article_id: "refused"}
    else:
        result.won = {article_id: event["id"]}


# Firing: HTTP clients against gunicorn.


@dataclass
class Client:
    session: Session
    token: str


def log_in_all(base_url: str, user_ids: list[int], password: str = PASSWORD) -> dict[int, Client]:
    """One logged-in session per user (shared by the clients acting as that user), with its CSRF token."""
    clients = {}
    for user_id in user_ids:
        session = log_in(base_url, db.session.get(User, user_id).username, password)
        clients[user_id] = Client(session, csrf_token(session.request("GET", "/").body))
    db.session.rollback()
    return clients


def fire_http(clients: dict[int, Client], round_: Round, pool: ThreadPoolExecutor) -> None:
    """Each attempt as a form posted by a thread of its own, with htmx's headers, all let go at once."""
    barrier = Barrier(len(round_.results), timeout=BARRIER_SECONDS)
    futures = [pool.submit(_http_attempt, clients, barrier, result) for result in round_.results]
    for future in futures:
        future.result()


_BULK_COUNT = re.compile(r"(?:Approved|Rejected) (\d+)\.")


def _http_attempt(clients: dict[int, Client], barrier: Barrier, result: Result) -> None:
    attempt = result.attempt
    client = clients[attempt.user_id]
    path, form = _request(attempt)
    form = [("csrf_token", client.token), ("answer", "none"), *form]
    barrier.wait()
    try:
        answer = client.session.request("POST", path, form=form, headers={"HX-Request": "true"})
    except OSError as error:
        result.error = f"POST {path}: {type(error).__name__}: {error}"
        return
    article_id = attempt.targets[0][0]
    if attempt.kind == "bulk" and answer.status == 200 and (found := _BULK_COUNT.search(answer.body)):
        result.won_count = int(found.group(1))
        result.lost = {a: "conflict" for a, _ in attempt.targets[result.won_count :]}  # a count, not which
    elif attempt.kind != "bulk" and answer.status in (200, 409, 422):
        result.won = {article_id: None} if answer.status == 200 else {}
        result.lost = (
            {} if answer.status == 200 else {article_id: {409: "conflict", 422: "refused"}[answer.status]}
        )
    else:
        result.error = f"POST {path} answered {answer.status}: {answer.body[:300]!r}"


def _request(attempt: Attempt) -> tuple[str, list[tuple[str, str]]]:
    (article_id, version), detail = attempt.targets[0], attempt.detail
    base, seen = f"/articles/{article_id}", [("version", str(version))]
    if attempt.kind == "bulk":
        items = [("article", f"{a}:{v}") for a, v in attempt.targets]
        return "/queue/bulk", [("verdict", "approve" if detail["verdict"] == APPROVED else "reject"), *items]
    if attempt.kind in ("approve", "reopen"):
        return f"{base}/{attempt.kind}", seen
    if attempt.kind == "reject":
        return f"{base}/reject", [*seen, ("reason", detail["reason"])]
    if attempt.kind == "heat":
        return f"{base}/heat", [*seen, ("heat", str(detail["heat"]))]
    if attempt.kind == "merge" and detail["unmerge"] is not None:
        return f"{base}/unmerge", [*seen, ("canonical", str(detail["unmerge"]))]
    if attempt.kind == "merge":
        return f"{base}/merge", [*seen, ("position", "0"), ("position", "1")]
    return f"/events/{detail['event_id']}/undo", []


@contextlib.contextmanager
def gunicorn(database_url: str, workers: int, scratch: Path) -> Iterator[str]:
    """The app under gunicorn (`workers` sync workers) on `database_url`; yields its base URL."""
    port = free_port()
    log = scratch / f"gunicorn-races-{port}.log"
    environment = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"} | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "races-secret",
        "COPYDESK_ENV": "development",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--worker-class", "sync"]
    # --preload: the app is built once, then forked into the workers (separate processes all the same).
    command += ["--preload", "--graceful-timeout", "5", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    with open(log, "w") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_serving(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its workers
                process.wait()


def _wait_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with status {process.returncode}:\n{log.read_text()[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/login")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise ServerError(f"gunicorn did not answer on 127.0.0.1:{port} within 60 s:\n{log.read_text()[-2000:]}")


# Running and checking.


def run(
    app,
    article_ids: list[int],
    user_ids: list[int],
    *,
    rounds: int,
    clients: int,
    seed: int = 1,
    http_clients: dict[int, Client] | None = None,
    shuffle_bulk: bool = True,
) -> Figures:
    """Fire `rounds` rounds of `clients` racing changes (threads, or HTTP when `http_clients`), then check."""
    rng = random.Random(seed)
    initial = states(article_ids)
    mode = f"over HTTP ({len(http_clients)} sessions)" if http_clients else "in threads"
    figures = Figures(mode, db.engine.dialect.name, clients)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(rounds):
            round_ = plan_round(rng, article_ids, user_ids, clients, shuffle_bulk)
            if http_clients:
                fire_http(http_clients, round_, pool)
            else:
                fire_threads(app, round_, pool)
            figures.rounds.append(round_)
    figures.seconds = time.perf_counter() - started
    # The moderation events (creating the racers wrote account events, which name no article).
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.article_id.is_not(None)).order_by(AuditEvent.id)
    ).all()
    figures.events = len(events)
    figures.problems = check(figures.rounds, events, initial, states(article_ids), exact=not http_clients)
    return figures


def check(
    rounds: list[Round], events: list[AuditEvent], initial: dict, final: dict, exact: bool
) -> list[str]:
    """Everything wrong with the outcome (see the module's docstring); `exact`: results carry event ids."""
    problems = [result.error for round_ in rounds for result in round_.results if result.error]
    by_race = {}
    for event in events:
        key = (event.article_id, event.before["version"])
        if key in by_race:
            problems.append(
                f"article {key[0]}: two events from version {key[1]}: #{by_race[key].id}, #{event.id}"
            )
        by_race[key] = event
    raced = set()
    for number, round_ in enumerate(rounds):
        problems += _check_round(number, round_, by_race, exact)
        raced |= set(round_.versions.items())
    problems += [
        f"event #{e.id} is of no race" for e in events if (e.article_id, e.before["version"]) not in raced
    ]
    for article_id, state in initial.items():
        chain = [e for e in events if e.article_id == article_id]
        problems += _check_chain(article_id, chain, state, final[article_id])
    return problems


def _check_round(number: int, round_: Round, by_race: dict, exact: bool) -> list[str]:
    problems = []
    unclaimed = []
    for article_id, version in round_.versions.items():
        event = by_race.get((article_id, version))
        winners = [r for r in round_.results if article_id in r.won]
        where = f"round {number}, article {article_id} at version {version}"
        if event is None:
            problems.append(f"{where}: no change won ({len(winners)} claimed to)")
            continue
        if len(winners) > 1:
            problems.append(f"{where}: {len(winners)} changes won: {[w.attempt.kind for w in winners]}")
        elif winners and exact and winners[0].won[article_id] != event.id:
            problems.append(f"{where}: the winner got event #{winners[0].won[article_id]}, not #{event.id}")
        elif winners and (event.action, event.actor_id) != _expected(winners[0].attempt):
            problems.append(
                f"{where}: event #{event.id} is {event.action}, the winner was {winners[0].attempt}"
            )
        elif not winners and not exact:
            unclaimed.append(event)
        elif not winners:
            problems.append(f"{where}: event #{event.id} ({event.action}) has no winner")
    if not exact:
        # Over HTTP a bulk answer gives counts: the events no single change claimed are the bulk's.
        claimed = Counter(
            (r.attempt.user_id, r.attempt.detail["verdict"])
            for r in round_.results
            for _ in range(r.won_count)
        )
        found = Counter(
            (e.actor_id, {"approve": APPROVED, "reject": REJECTED}.get(e.action)) for e in unclaimed
        )
        if claimed != found:
            problems.append(f"round {number}: bulk answers counted {dict(claimed)}, the events {dict(found)}")
    return problems


def _expected(attempt: Attempt) -> tuple[str, int]:
    if attempt.kind == "merge":
        return ("unmerge" if attempt.detail["unmerge"] is not None else "merge"), attempt.user_id
    if attempt.kind == "bulk":
        return ("approve" if attempt.detail["verdict"] == APPROVED else "reject"), attempt.user_id
    return attempt.kind, attempt.user_id


def _check_chain(article_id: int, events: list[AuditEvent], initial: dict, final: dict) -> list[str]:
    """The article's events chain its versions from `initial`, each from the last one's after, to `final`."""
    problems, expected = [], initial
    for event in events:
        before = {key: event.before[key] for key in STATE_KEYS}
        if before != expected:
            problems.append(f"article {article_id}: event #{event.id} starts from {before}, not {expected}")
        if event.after["version"] != event.before["version"] + 1:
            problems.append(
                f"article {article_id}: event #{event.id} goes from version "
                f"{event.before['version']} to {event.after['version']}"
            )
        expected = {key: event.after[key] for key in STATE_KEYS}
    if final != expected:
        problems.append(f"article {article_id} ends as {final}, its last event left {expected}")
    return problems


def states(article_ids: list[int]) -> dict[int, dict]:
    """The articles' moderation state as the database holds it now."""
    db.session.expire_all()
    found = {a: {key: getattr(db.session.get(Article, a), key) for key in STATE_KEYS} for a in article_ids}
    db.session.rollback()
    return found


def empty_database(database_url: str) -> None:
    """Start from nothing: drop PostgreSQL's `public` schema (SQLite: a fresh file), then migrate."""
    from flask_migrate import upgrade

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.races", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a scratch database, emptied first (default: a temporary SQLite)"
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--articles", type=int, default=3)
    parser.add_argument(
        "--http", action="store_true", help="send forms to gunicorn instead of calling services"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (with --http)")
    parser.add_argument("--users", type=int, default=5, help="moderators logged in (with --http)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--bulk-order",
        choices=("shuffled", "by-id"),
        default="shuffled",
        help="the order each bulk decision lists the articles in",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="copydesk-races-") as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'races.db'}"
        options = {"pool_size": args.clients + 2, "max_overflow": 0}
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "races", "SQLALCHEMY_ENGINE_OPTIONS": options}
        )
        with app.app_context():
            empty_database(url)
            users = args.users if args.http else args.clients
            article_ids, user_ids = prepare(Path(scratch), args.articles, users)
            kwargs = {"rounds": args.rounds, "clients": args.clients, "seed": args.seed}
            kwargs["shuffle_bulk"] = args.bulk_order == "shuffled"
            if args.http:
                with gunicorn(url, args.workers, Path(scratch)) as base_url:
                    figures = run(
                        app, article_ids, user_ids, http_clients=log_in_all(base_url, user_ids), **kwargs
                    )
            else:
                figures = run(app, article_ids, user_ids, **kwargs)
            db.session.remove()
            db.engine.dispose()
    print(figures.summary())
    for problem in figures.problems[:50]:
        print("  " + problem)
    return 1 if figures.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
