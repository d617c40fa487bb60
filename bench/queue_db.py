"""The load benchmarks' database: N articles and a moderator, built once or reused.

A SQLite file (given as a Path) or any database URL (a string: PostgreSQL for bench/scale.py).

Building: migrate, generate `unique` seeds with `bench.generate.write_corpus`, import them
with `webapp.services.seed_import.import_paths` (the real import), then copy those rows in SQL
until there are N articles. Copy k of article i gets id `i + k * max_id`, identity
`<identity>~k`, and its own copies of i's related links and topic tags, so every copy is
a consistent article; title, dates and text are the original's. Generating and importing
100,000 seeds takes about five minutes on two cores and 800 MB of scratch files; 10,000
imported and copied up to 100,000 takes under a minute (a 1.4 GB database). `unique == n`
imports them all. PostgreSQL's id sequences are moved past the copies, and its planner's
statistics taken (ANALYZE), once the rows are in.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, func, make_url, select, text

from webapp import create_app
from webapp.models import PENDING, Article, AuditEvent, RelatedLink, User, article_topics, db
from webapp.services import rollups
from webapp.services.accounts import create_user
from webapp.services.seed_import import import_paths

from .generate import write_corpus

USERNAME, PASSWORD, ROLE = "bench", "bench-password", "moderator"


class DatabaseError(RuntimeError):
    """The database cannot be used for the benchmark."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--n, --unique, --seed and --db, as the load benchmarks on this database take them."""
    parser.add_argument("--n", type=int, default=100_000, help="articles in the database (default 100,000)")
    parser.add_argument(
        "--unique", type=int, default=10_000, help="seeds imported before copying up to N (default 10,000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--db", type=Path, help="SQLite file to build, or to reuse when it already holds N articles"
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def url_of(where: Path | str) -> str:
    """A SQLite file's URL, or the URL given."""
    return sqlite_url(where) if isinstance(where, Path) else where


def prepare(where: Path | str, n: int, unique: int, seed: int, secret: str, log=print) -> bool:
    """Make the database hold at least `n` articles and the bench user; True when it was built now."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url_of(where), "SECRET_KEY": secret})
    with app.app_context():
        upgrade()  # also brings a reused database up to the newest migration
        existing = db.session.scalar(select(func.count(Article.id)))
        if existing and existing < n:
            raise DatabaseError(
                f"{shown(where)} holds {existing:,} articles, fewer than --n {n:,}: give a new database"
            )
        if not existing:
            _build(app, n, min(unique, n), seed, log)
        if not rollups.is_built():  # as a deployment does after upgrading (`stats rebuild-rollups`)
            built = rollups.rebuild()
            log(f"  rollups built: {built}")
        if db.session.scalar(select(User.id).where(User.username == USERNAME)) is None:
            create_user(USERNAME, PASSWORD, ROLE)
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return not existing


def ensure_database(url: str, log=print) -> None:
    """Create the PostgreSQL database `url` names when it does not exist (from its server's `postgres`)."""
    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                log(f"creating the database {target.database}")
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        server.dispose()


def shown(where: Path | str) -> str:
    """The database as a message names it: a file's path, or the URL without its password."""
    return str(where) if isinstance(where, Path) else make_url(where).render_as_string(hide_password=True)


def _build(app, n: int, unique: int, seed: int, log) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="copydesk-load-seeds-") as seeds:
        write_corpus(unique, seed, seeds)
        log(f"  generated {unique:,} seeds in {time.perf_counter() - started:.0f}s")
        report = import_paths([seeds], max_bytes=app.config["SEED_MAX_BYTES"])
    if report.invalid or report.imported != unique:
        raise DatabaseError(f"import of generated seeds: {report.as_dict()}")
    log(f"  imported {report.imported:,} in {time.perf_counter() - started:.0f}s")
    if n > unique:
        _multiply(n)
        log(f"  copied up to {n:,} articles in {time.perf_counter() - started:.0f}s")
    if db.engine.dialect.name == "postgresql":
        # The copies took ids of their own: the next import must not.
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('articles', 'id'), max(id)) FROM articles")
        )
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _multiply(n: int) -> None:
    low, high, count = db.session.execute(
        select(func.min(Article.id), func.max(Article.id), func.count())
    ).one()
    if high - low + 1 != count:
        raise DatabaseError("imported article ids are not contiguous; cannot copy them")
    postgresql = db.engine.dialect.name == "postgresql"
    copy = 0
    while count * (copy + 1) < n:
        copy += 1
        take = min(count, n - count * copy)
        if postgresql:
            # Without row triggers: the articles' counters would be upserted once per copied article at
            # the commit, each time slower than the last; they are counted again below.
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
        _copy_rows(shift=copy * high, suffix=f"~{copy}", low=low, high=low + take - 1)
        db.session.commit()
    if postgresql:
        db.session.execute(text("DELETE FROM article_counts"))
        db.session.execute(
            text("INSERT INTO article_counts SELECT status, count(*) FROM articles GROUP BY status")
        )
        db.session.commit()


def _copy_rows(shift: int, suffix: str, low: int, high: int) -> None:
    """Copy articles low..high, with their related links and topics, to ids shifted by `shift`."""
    params = {"shift": shift, "suffix": suffix, "low": low, "high": high}
    renamed = {"id": "id + :shift", "identity": "identity || :suffix"}
    _insert_select(Article.__table__, renamed, "id BETWEEN :low AND :high", params)
    # Fresh imports merge nothing; a copied merged_into_id would point at the original's link.
    links = {"article_id": "article_id + :shift", "merged_into_id": "NULL"}
    _insert_select(RelatedLink.__table__, links, "article_id BETWEEN :low AND :high", params, skip="id")
    topics = {"article_id": "article_id + :shift"}
    _insert_select(article_topics, topics, "article_id BETWEEN :low AND :high", params)


def _insert_select(
    table, expressions: dict[str, str], where: str, params: dict, skip: str | None = None
) -> None:
    columns = [c.name for c in table.columns if c.name != skip]
    values = ", ".join(expressions.get(c, c) for c in columns)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {values} FROM {table.name} WHERE {where}"
    )
    db.session.execute(text(statement), params)


def pending_versions(where: Path | str) -> list[tuple[int, int]]:
    """(id, version) of every pending article, by id."""
    engine = create_engine(url_of(where))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Article.id, Article.version).where(Article.status == PENDING).order_by(Article.id)
            )
            return [(row.id, row.version) for row in rows]
    finally:
        engine.dispose()


def moderation_counts(where: Path | str) -> dict[str, int]:
    """Articles per status, and audit events, as they stand now."""
    engine = create_engine(url_of(where))
    try:
        with engine.connect() as connection:
            counts = dict(
                connection.execute(select(Article.status, func.count()).group_by(Article.status)).all()
            )
            counts["audit_events"] = connection.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.article_id.is_not(None))
            )
            return counts
    finally:
        engine.dispose()


def article_status(where: Path | str, article_id: int) -> str | None:
    """One article's status, or None when there is no such article."""
    engine = create_engine(url_of(where))
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Article.status).where(Article.id == article_id))
    finally:
        engine.dispose()
