"""Jobs: the state of background work that the pages show, kept in our own `jobs` table.

The queue (job_queue.py, Huey) only carries a job's id to a worker; everything a page shows (how far,
how it ended, the cancel flag) is here, so any app process renders it whatever queue runs the job.

A worker holds a lease on a running job and renews it with each step of progress. A job whose lease
runs out (its worker died, or hangs) is marked failed by `expire_leases`, which the worker's
housekeeping and every reading of a job call: no job stays "running" forever. Progress is written on
a connection of its own, in short transactions, so that it never commits the work's own session (an
export reads its articles through an open cursor) and shows at once in other processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..models import (
    ACTIVE_JOB_STATUSES,
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    Job,
    db,
    utcnow,
)

DEFAULT_LEASE_SECONDS = 60
MAX_MESSAGE = 500
LEASE_LAPSED = "the worker stopped answering (its lease ran out): it was stopped or it died"


class JobStopped(Exception):
    """Raised in a job's work at its next step: it was cancelled, or is no longer its worker's."""


class JobCancelled(JobStopped):
    """Someone asked the job to stop."""


class JobLost(JobStopped):
    """The job was marked failed (its lease ran out) while its worker still worked on it."""


def create(kind: str, params: dict, *, requested_by: str, requested_by_id: int | None = None) -> Job:
    """A queued job, committed (its id goes on the queue)."""
    job = Job(kind=kind, params=params, requested_by=requested_by, requested_by_id=requested_by_id)
    db.session.add(job)
    db.session.commit()
    return job


def _write(job_id: int, *conditions, **values) -> bool:
    """Update the job in a transaction of its own; whether it was changed (`conditions` held)."""
    with db.engine.begin() as connection:
        result = connection.execute(update(Job).where(Job.id == job_id, *conditions).values(**values))
    return result.rowcount == 1


def claim(job_id: int, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> bool:
    """Take a queued job for this worker: running, under a lease. False if it was cancelled or taken."""
    now = utcnow()
    return _write(
        job_id,
        Job.status == QUEUED,
        Job.cancel_requested.is_(False),
        status=RUNNING,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
    )


def progress(
    job_id: int, done: int, total: int | None = None, *, lease_seconds: int = DEFAULT_LEASE_SECONDS
) -> None:
    """Record how far the job is and renew its lease; raises JobStopped if it is to stop."""
    values = {"done": done, "lease_expires_at": utcnow() + timedelta(seconds=lease_seconds)}
    if total is not None:
        values["total"] = total
    if not _write(job_id, Job.status == RUNNING, Job.cancel_requested.is_(False), **values):
        raise _why_stopped(job_id)


def _why_stopped(job_id: int) -> JobStopped:
    with db.engine.connect() as connection:
        status, cancel = connection.execute(
            select(Job.status, Job.cancel_requested).where(Job.id == job_id)
        ).one()
    if cancel and status in ACTIVE_JOB_STATUSES:
        return JobCancelled(f"job {job_id} was cancelled")
    return JobLost(f"job {job_id} is {status}, no longer running here")


def finish(job_id: int, **results) -> None:
    """The job ended well; `results` are the Job's columns it filled (result_path, a run's id...)."""
    _end(job_id, DONE, None, **results)


def fail(job_id: int, message: str, **results) -> None:
    _end(job_id, FAILED, message, **results)


def cancelled(job_id: int, **results) -> None:
    _end(job_id, CANCELLED, "cancelled before the end", **results)


def _end(job_id: int, status: str, message: str | None, **results) -> None:
    # A job whose lease ran out was already marked failed: its worker's late word changes nothing.
    _write(
        job_id,
        Job.status.in_(ACTIVE_JOB_STATUSES),
        status=status,
        message=message[:MAX_MESSAGE] if message else None,
        finished_at=utcnow(),
        lease_expires_at=None,
        **results,
    )


def request_cancel(job_id: int) -> Job | None:
    """Ask the job to stop: a queued job is cancelled at once, a running one at its next step."""
    _write(
        job_id,
        Job.status == QUEUED,
        status=CANCELLED,
        cancel_requested=True,
        message="cancelled before it started",
        finished_at=utcnow(),
    )
    _write(job_id, Job.status == RUNNING, cancel_requested=True)
    return get(job_id)


def expire_leases(now: datetime | None = None) -> list[int]:
    """Mark failed the running jobs whose lease has run out; their ids."""
    now = now or utcnow()
    with db.engine.begin() as connection:
        lapsed = connection.scalars(
            update(Job)
            .where(Job.status == RUNNING, Job.lease_expires_at < now)
            .values(status=FAILED, message=LEASE_LAPSED, finished_at=now, lease_expires_at=None)
            .returning(Job.id)
        )
        return sorted(lapsed)


def get(job_id: int) -> Job | None:
    """The job as it stands now (a lapsed lease marked failed first)."""
    expire_leases()
    return db.session.get(Job, job_id, populate_existing=True)


def recent(kind: str, limit: int = 20) -> list[Job]:
    expire_leases()
    return list(db.session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Pace:
    """How fast a running job goes, and how long it has left at that pace (None: cannot tell yet)."""

    percent: int | None
    per_second: float | None
    seconds_left: int | None


def pace(job: Job, now: datetime | None = None) -> Pace:
    percent = None
    if job.total:
        percent = min(100, job.done * 100 // job.total)
    elif job.status == DONE:
        percent = 100
    if job.started_at is None or not job.done:
        return Pace(percent, None, None)
    elapsed = ((job.finished_at or now or utcnow()) - job.started_at).total_seconds()
    if elapsed <= 0:
        return Pace(percent, None, None)
    per_second = job.done / elapsed
    left = None
    if job.total and job.status == RUNNING:
        left = round(max(job.total - job.done, 0) / per_second)
    return Pace(percent, per_second, left)


def expired_results(now: datetime | None = None) -> list[Job]:
    """Finished jobs whose file is past its keeping time."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Job).where(Job.result_path.is_not(None), Job.result_expires_at < now).order_by(Job.id)
        )
    )


def attach(job_id: int, **values) -> None:
    """Note what the job made or touched (a run's id, its file), whatever its status."""
    _write(job_id, **values)


def forget_result(job_id: int) -> None:
    attach(job_id, result_path=None)
