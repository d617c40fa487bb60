"""A backup of the app's SQLite database while the app runs (`db backup PATH`).

SQLite's online backup API copies the database through a connection of its own, so the copy holds
every committed transaction (those still in the `-wal` file too, which a plain copy of the file
would miss) and none in flight; in WAL mode the app's writers go on meanwhile. The copy is written
under a temporary name beside PATH and only then given PATH's name, so PATH is never a half-written
database. PostgreSQL has its own tool for this, pg_dump: the error says how to call it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from ..models import db


class BackupError(RuntimeError):
    """The backup cannot be made; the message says why and, where there is one, what to do instead."""


@dataclass(frozen=True)
class Backup:
    path: Path
    bytes: int


def backup(target: Path, *, force: bool = False) -> Backup:
    """Copy the app's SQLite database to `target`; an existing `target` only with `force`."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupError(postgresql_advice(url, target))
    if backend != "sqlite":
        raise BackupError(f"db backup copies SQLite databases: back up {backend} with its own tools")
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up")
    _check_target(source, target, force)
    draft = _draft_beside(target)
    try:
        # The source is a connection from the app's pool: it waits out a writer's lock on the app's busy
        # timeout, where a fresh one would give up at once.
        with (
            contextlib.closing(sqlite3.connect(draft)) as copy,
            contextlib.closing(db.engine.raw_connection()) as connection,
        ):
            connection.driver_connection.backup(copy)
        _sync(draft)
        _give_name(draft, target, force)
    except sqlite3.Error as error:
        draft.unlink(missing_ok=True)
        raise BackupError(f"cannot back up to {target}: {error}") from None
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    _sync(target.parent)
    return Backup(target, target.stat().st_size)


def postgresql_advice(url: URL, target: Path) -> str:
    """Why `db backup` does not copy PostgreSQL, and the pg_dump (and pg_restore) command lines to use."""
    # libpq takes a plain postgresql:// URL; the password stays out of the printed line (PGPASSWORD or
    # ~/.pgpass hold it).
    plain = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string(hide_password=False)
    dump = shlex.join(["pg_dump", "--format=custom", f"--file={target}", plain])
    restore = shlex.join(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={plain}", str(target)]
    )
    return (
        "this database is PostgreSQL: back it up with pg_dump, which takes a consistent copy while "
        f"the app runs:\n  {dump}\nand restore it with:\n  {restore}"
    )


def _check_target(source: Path, target: Path, force: bool) -> None:
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the backup's file name, e.g. {target / 'copydesk.db'}")
    if not target.parent.exists():
        raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: {target.parent} is not a folder")
    if target.exists():
        if source.exists() and target.resolve() == source.resolve():
            raise BackupError(f"{target} is the database itself: give another file")
        if not force:
            raise BackupError(f"{target} already exists: give --force to replace it")


def _draft_beside(target: Path) -> Path:
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".backup.tmp", dir=target.parent)
    except OSError as error:
        raise BackupError(f"cannot write in {target.parent}: {error.strerror or error}") from None
    os.close(handle)
    return Path(name)


def _give_name(draft: Path, target: Path, force: bool) -> None:
    if force:
        os.replace(draft, target)
        return
    # link() refuses a name that exists: a file made there since the check is never replaced.
    try:
        os.link(draft, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists: give --force to replace it") from None
    draft.unlink()


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
