"""Import runs: every import of seed files, recorded with who or what started it, its counts and refusals.

The import itself is seed_import's; this only records it. A run is written as "running" before its
first file, so the Imports page shows it at once and a process that dies leaves a trace (marked
interrupted by the next import on that host). When the import ends, one transaction writes its
counts, each file it did not take (refused as invalid, or a conflict with a moderation) and how it
ended: the record never holds counts without their files, nor half of them.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from ..models import ImportRefusal, ImportRun, db, utcnow
from .processes import process_alive, this_process
from .seed_import import BATCH_SIZE, CONFLICT, INVALID, ImportReport, import_files

RUNS_PAGE = 50
REFUSALS_PAGE = 100
INSERT_CHUNK = 5000
COMMAND_LINE = "command line"
WATCHER = "watcher"


class ImportStopped(Exception):
    """Raised between two batches to stop an import asked to stop (the watcher on SIGTERM)."""


def source_of(specs: Iterable[str]) -> str:
    """The files, folders and patterns an import was given, as absolute paths, quoted as a shell would."""
    return " ".join(shlex.quote(os.path.abspath(spec)) for spec in specs)


def begin_run(*, kind: str, source: str, started_by: str, started_by_id: int | None = None) -> int:
    """Record a running import (after marking interrupted the runs of dead processes); its id."""
    mark_interrupted()
    host, pid, process_start = this_process()
    run = ImportRun(
        kind=kind,
        source=storable(source),
        started_by=started_by,
        started_by_id=started_by_id,
        host=host,
        pid=pid,
        process_start=process_start,
    )
    db.session.add(run)
    db.session.commit()
    return run.id


def import_into_run(
    run_id: int,
    paths: list[Path],
    report: ImportReport,
    *,
    max_bytes: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportRun:
    """Import `paths` (seed_import.import_files) and record how it went in the run `run_id`.

    Refusals already in `report` (a path that names nothing) are recorded with the rest. Whatever
    stops the import (an error, Ctrl-C, ImportStopped) is recorded, as failed or interrupted, with the
    counts of what was done, and raised again.
    """
    try:
        import_files(paths, report, max_bytes=max_bytes, batch_size=batch_size, on_progress=on_progress)
    except BaseException as error:
        db.session.rollback()
        stopped = isinstance(error, KeyboardInterrupt | SystemExit | ImportStopped)
        message = "stopped before the last files" if stopped else f"{type(error).__name__}: {error}"
        try:
            _finish(run_id, report, "interrupted" if stopped else "failed", message)
        except Exception as recording:
            error.add_note(f"import run {run_id} could not be recorded: {recording}")
        raise
    _finish(run_id, report, "complete", None)
    return db.session.get(ImportRun, run_id, populate_existing=True)


def record_import(
    paths: list[Path],
    report: ImportReport,
    *,
    kind: str,
    source: str,
    started_by: str,
    max_bytes: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportRun:
    """Begin a run, import `paths` into it, and record how it ended."""
    run_id = begin_run(kind=kind, source=source, started_by=started_by)
    return import_into_run(
        run_id, paths, report, max_bytes=max_bytes, batch_size=batch_size, on_progress=on_progress
    )


def _finish(run_id: int, report: ImportReport, status: str, error: str | None) -> None:
    """Counts, refusals and the end of the run, in one transaction."""
    try:
        db.session.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(
                status=status,
                finished_at=utcnow(),
                imported=report.imported,
                updated=report.updated,
                unchanged=report.unchanged,
                conflicts=report.conflicts,
                invalid=report.invalid,
                error=storable(error)[:500] if error else None,
            )
        )
        refused = (each for each in report.outcomes if each.outcome in (INVALID, CONFLICT))
        rows = [
            {
                "run_id": run_id,
                "position": position,
                "outcome": each.outcome,
                "file": storable(each.file),
                "message": storable(each.message),
            }
            for position, each in enumerate(refused)
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            db.session.execute(insert(ImportRefusal), rows[start : start + INSERT_CHUNK])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def storable(text: str) -> str:
    """`text` as the database can keep and a page can show it: a file name's bytes that are not UTF-8
    as `\\xff`, and NUL as `\\x00` (PostgreSQL's text holds neither)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def mark_interrupted() -> list[int]:
    """Mark interrupted the running imports whose process is gone from this host; their ids."""
    interrupted = []
    for run in db.session.scalars(select(ImportRun).where(ImportRun.status == "running")):
        if process_alive(run) is False:
            run.status, run.finished_at = "interrupted", utcnow()
            run.error = f"interrupted: {run.host}:{run.pid} ended without finishing the import"
            interrupted.append(run.id)
    db.session.commit()
    return interrupted


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: int | None  # where the next page starts (None: this is the last)


def runs_page(before: int | None = None, limit: int | None = None) -> Page:
    """Import runs newest first, from the one before the run `before`."""
    limit = limit or RUNS_PAGE
    query = select(ImportRun).order_by(ImportRun.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(ImportRun.id < before)
    runs = list(db.session.scalars(query))
    return Page(runs[:limit], runs[limit - 1].id if len(runs) > limit else None)


def get_run(run_id: int) -> ImportRun | None:
    return db.session.get(ImportRun, run_id)


def refusals_page(run_id: int, after: int | None = None, limit: int | None = None) -> Page:
    """A run's refused files in the order the import met them, from the one after position `after`."""
    limit = limit or REFUSALS_PAGE
    query = (
        select(ImportRefusal)
        .where(ImportRefusal.run_id == run_id)
        .order_by(ImportRefusal.position)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(ImportRefusal.position > after)
    refusals = list(db.session.scalars(query))
    return Page(refusals[:limit], refusals[limit - 1].position if len(refusals) > limit else None)
