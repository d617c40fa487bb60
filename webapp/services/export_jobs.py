"""Exports from the Export page, done by a job: the file is written into the exports folder, kept for
EXPORT_KEEP_DAYS, and downloaded from the job's page. The command line's `export` does not come here."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from ..models import ExportRun, Job, db, utcnow
from . import exporting, jobs

EXTENSIONS = {"zip": "zip", "yaml": "yaml"}
MIMETYPES = {"zip": "application/zip", "yaml": "application/yaml"}


def params(filters: exporting.ExportFilters, fmt: str) -> dict:
    """A job's parameters for this export."""
    if fmt not in EXTENSIONS:
        raise exporting.ExportError(f"Format: choose zip or yaml, not {fmt!r}")
    return {"format": fmt, "filters": filters.as_dict()}


def run(job_id: int, folder: Path, *, keep_days: int, lease_seconds: int) -> None:
    """Write the job's export into `folder` with progress; raises JobStopped if cancelled."""
    job = db.session.get(Job, job_id)
    fmt = job.params["format"]
    filters = exporting.ExportFilters.from_dict(job.params["filters"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"job-{job_id}.{EXTENSIONS[fmt]}"
    jobs.progress(job_id, 0, exporting.count(filters), lease_seconds=lease_seconds)
    try:
        exported = exporting.export(
            path,
            fmt,
            filters,
            requested_by=job.requested_by,
            requested_by_id=job.requested_by_id,
            on_progress=lambda done: jobs.progress(job_id, done, lease_seconds=lease_seconds),
        )
    except BaseException:
        db.session.rollback()
        run_id = db.session.scalar(select(ExportRun.id).where(ExportRun.output == str(path)))
        if run_id is not None:
            jobs.attach(job_id, export_run_id=run_id)
        raise
    jobs.finish(
        job_id,
        done=exported.count,
        total=exported.count,
        export_run_id=exported.id,
        result_path=str(path),
        result_expires_at=utcnow() + timedelta(days=keep_days),
    )


def download_name(job: Job) -> str:
    return f"copydesk-export-{job.export_run_id}.{EXTENSIONS[job.params['format']]}"


def delete_expired() -> list[int]:
    """Delete the export files past their keeping time; the jobs whose file went."""
    gone = []
    for job in jobs.expired_results():
        with contextlib.suppress(FileNotFoundError):
            Path(job.result_path).unlink()
        jobs.forget_result(job.id)
        gone.append(job.id)
    return gone
