"""`make demo`: a fresh SQLite database that looks like a desk in use, for a newcomer to click through.

    python -m bench.demo [--database instance/demo.db] [--seeds 2000] [--days 90] [--seed 1]

Deletes the database file and builds it again, in three layers:

- the history: `--days` days of a desk's work (bench/history.py): articles imported and decided by
  twelve moderators and two leads on their shifts, with reopens, heat changes, merges and undos, so
  that every figure of the stats dashboard has data, ending now;
- the queue: `--seeds` generated seeds with planted duplicates (bench/generate.py), published over
  the last three days and imported with the real importer, so that they wait in the queue, newest
  first, with their duplicate suggestions;
- the users: `demo-moderator`, `demo-lead` and `admin`, each with a generated password printed once.
  The history's own staff keep their decisions but get a password nobody knows.

It lives in bench/, beside the generators it is made of, rather than as a `flask demo` command:
the wheel ships webapp/ alone, and a command there could not import bench/.
`build(path, seeds, days, seed)` does the same from Python and returns what it built.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.models import PENDING, Article, AuditEvent, DuplicateSuggestion, User, db
from webapp.services.accounts import create_user, set_password
from webapp.services.seed_import import import_paths

from . import generate
from .history import write_history

DEMO_USERS = (("demo-moderator", "moderator"), ("demo-lead", "lead"), ("admin", "admin"))
QUEUE_DAYS = 3
# The generator spreads seeds over SPREAD_MINUTES from START, and plants copies up to a day later.
CORPUS_END = generate.START + timedelta(minutes=generate.SPREAD_MINUTES, days=2)
ARTICLES_PER_DAY = 60
EVENTS_PER_ARTICLE = 4


def build(path: Path, seeds: int = 2000, days: int = 90, seed: int = 1, log=print) -> dict:
    """Delete `path`, then write the history, import the seeds and create the demo users there."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path.resolve()}"
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    articles = ARTICLES_PER_DAY * days
    write_history(url, articles=articles, events=EVENTS_PER_ARTICLE * articles, days=days, seed=seed, end=end)
    log(f"  {days} days of history written in {time.perf_counter() - started:.1f}s")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
    with app.app_context():
        with tempfile.TemporaryDirectory(prefix="copydesk-demo-seeds-") as folder:
            write_recent_corpus(seeds, seed, Path(folder), end)
            report = import_paths([folder], max_bytes=app.config["SEED_MAX_BYTES"])
        if report.imported != seeds:
            raise RuntimeError(f"the demo seeds did not all import: {report.as_dict()}")
        log(f"  {seeds:,} seeds imported in {time.perf_counter() - started:.1f}s")
        passwords = create_demo_users()
        built = describe() | {"passwords": passwords, "seconds": time.perf_counter() - started}
        db.session.remove()
        db.engine.dispose()
    return built


def write_recent_corpus(n: int, seed: int, folder: Path, end: datetime) -> None:
    """bench.generate's corpus, its dates moved into the QUEUE_DAYS before `end`, written to `folder`."""
    rng = random.Random(seed)
    builder = generate.CorpusBuilder(rng)
    for index, kinds in enumerate(generate.plan_corpus(rng, n)):
        built = builder.build(index, kinds)
        article = moved(built.article, end)
        name = built.filename
        if built.suffix == ".md":  # named YYYY-MM-DD-slug after its publication day
            name = f"{article['publishedDateTime']:%Y-%m-%d}{name[10:]}"
            while (folder / name).exists():  # two days of the generator's can fall on one of ours
                name = f"{name.removesuffix('.md')}-2.md"
        (folder / name).write_text(generate.render_seed(article, built.body), "utf-8")


def moved(value, end: datetime):
    """`value` with every datetime in it moved from the generator's 90 days to the QUEUE_DAYS before `end`,
    in the same order (the spread shrinks, so related coverage stays hours around its article)."""
    if isinstance(value, datetime):
        shrink = generate.SPREAD_MINUTES / (QUEUE_DAYS * 24 * 60)
        return (end - (CORPUS_END - value) / shrink).replace(microsecond=0)
    if isinstance(value, dict):
        return {key: moved(item, end) for key, item in value.items()}
    if isinstance(value, list):
        return [moved(item, end) for item in value]
    return value


def create_demo_users() -> dict[str, str]:
    """The demo's three users with new passwords (returned); everyone else's password is made unknowable."""
    unknowable = generate_password_hash(secrets.token_urlsafe(32))
    names = [name for name, _ in DEMO_USERS]
    db.session.execute(update(User).where(User.username.not_in(names)).values(password_hash=unknowable))
    db.session.commit()
    passwords = {}
    for name, role in DEMO_USERS:
        passwords[name] = secrets.token_urlsafe(12)
        if db.session.scalar(select(User.id).where(User.username == name)) is None:
            create_user(name, passwords[name], role)
        else:
            set_password(name, passwords[name])
    return passwords


def describe() -> dict:
    """What the demo database holds, as the summary prints it."""
    decided = select(func.count()).where(AuditEvent.action.in_(("approve", "reject")))
    return {
        "pending": db.session.scalar(select(func.count()).where(Article.status == PENDING)),
        "articles": db.session.scalar(select(func.count(Article.id))),
        "decisions": db.session.scalar(decided),
        "deciders": db.session.scalar(
            select(func.count(func.distinct(AuditEvent.actor_id))).where(
                AuditEvent.action.in_(("approve", "reject"))
            )
        ),
        "merges": db.session.scalar(select(func.count()).where(AuditEvent.action == "merge")),
        "heat_changes": db.session.scalar(select(func.count()).where(AuditEvent.action == "heat")),
        "articles_with_suggestions": db.session.scalar(
            select(func.count(func.distinct(DuplicateSuggestion.article_id)))
        ),
    }


def format_summary(built: dict, path: Path, port: str) -> str:
    users = "\n".join(f"  {name:16} {password}" for name, password in built["passwords"].items())
    return (
        f"Demo database {path}, built in {built['seconds']:.0f}s: {built['articles']:,} articles, "
        f"{built['pending']:,} pending ({built['articles_with_suggestions']:,} with duplicate suggestions); "
        f"{built['decisions']:,} decisions by {built['deciders']} people, {built['merges']:,} merges, "
        f"{built['heat_changes']:,} heat changes.\n"
        f"Serving on http://127.0.0.1:{port}/ : log in as\n{users}\n"
        "(passwords shown once: `make demo` builds a new database and new passwords every time)"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("instance/demo.db"), help="SQLite file")
    parser.add_argument("--seeds", type=int, default=2000, help="generated seeds in the queue (default 2000)")
    parser.add_argument("--days", type=int, default=90, help="days of history (default 90)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--port", default="5000", help="the port named in the summary (default 5000)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.days < 1:
        parser.error("--seeds and --days must be at least 1")
    print(f"Building the demo database {args.database} ...", flush=True)
    built = build(args.database, args.seeds, args.days, args.seed)
    print(format_summary(built, args.database, args.port), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
