"""The job queue: Huey carries a job's id from the web process to the worker (`flask jobs worker`).

SQLite storage by default (a file beside the app's SQLite database, or in the instance folder), so a
laptop needs nothing more; Redis when JOBS_URL is a redis:// URL. With JOBS_IMMEDIATE (the tests'
setting) a job runs inside the request that starts it. What a job did and how far it is lives in our
`jobs` table (services/jobs.py), never in Huey's storage: Huey keeps no results.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from ..models import Job
from . import export_jobs, jobs, uploads

logger = logging.getLogger(__name__)

NAME = "copydesk"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def init_app(app: Flask) -> None:
    huey = make_huey(app.config["JOBS_URL"], immediate=app.config["JOBS_IMMEDIATE"])
    app.extensions["huey"] = huey
    app.extensions["copydesk_tasks"] = _register(huey, app)


def make_huey(url: str, *, immediate: bool = False):
    """Huey on Redis (redis://, rediss://, unix://) or on a SQLite file (sqlite:///PATH).

    Neither is reached before a job is queued or worked: a process that runs none (a command, a web
    process nobody exports from) never opens the queue, so a file it could not write breaks nothing."""
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey(NAME, url=url, results=False, immediate=immediate)
    filename = url.removeprefix("sqlite:///")
    return SqliteHuey(NAME, filename=filename, results=False, immediate=immediate, create_tables=False)


def _open(huey) -> None:
    """Make a SQLite queue's file and tables if they are not there yet (each process, once)."""
    storage = huey.storage
    if getattr(storage, "filename", None) is None or getattr(storage, "copydesk_opened", False):
        return
    Path(storage.filename).parent.mkdir(parents=True, exist_ok=True)
    storage.initialize_schema()
    storage.copydesk_opened = True


def jobs_folder(app: Flask) -> Path:
    """Where jobs keep their files (JOBS_FOLDER): the exports to download, the uploads to import."""
    return Path(app.config["JOBS_FOLDER"])


def _register(huey, app: Flask) -> dict:
    def settings():
        return app.config["JOB_LEASE_SECONDS"], jobs_folder(app)

    @huey.task(name="copydesk.export")
    def export_task(job_id: int) -> None:
        lease, folder = settings()
        keep_days = app.config["EXPORT_KEEP_DAYS"]
        _perform(
            app,
            job_id,
            lambda: export_jobs.run(job_id, folder / "exports", keep_days=keep_days, lease_seconds=lease),
        )

    @huey.task(name="copydesk.upload")
    def upload_task(job_id: int) -> None:
        lease, _folder = settings()
        limits = uploads.Limits(
            max_files=app.config["ZIP_MAX_FILES"],
            max_uncompressed=app.config["ZIP_MAX_UNCOMPRESSED_BYTES"],
            max_seed_bytes=app.config["SEED_MAX_BYTES"],
        )
        _perform(app, job_id, lambda: uploads.run(job_id, limits, lease_seconds=lease))

    @huey.periodic_task(crontab(minute="*"), name="copydesk.housekeeping")
    def housekeeping_task() -> None:
        with app.app_context():
            housekeeping()

    return {"export": export_task, "upload": upload_task}


def housekeeping() -> None:
    """Jobs whose worker died marked failed; export files past EXPORT_KEEP_DAYS deleted, and uploads no
    job will read."""
    for job_id in jobs.expire_leases():
        logger.warning("job %s: its lease ran out, marked failed", job_id)
    for job_id in export_jobs.delete_expired():
        logger.info("job %s: its export file was kept long enough, deleted", job_id)
    for folder in uploads.delete_leftovers(jobs_folder(current_app) / "uploads"):
        logger.info("deleted %s: uploaded files no job will import", folder)


def _perform(app: Flask, job_id: int, work) -> None:
    """Run a job's work in the app, recording how it ended."""
    with app.app_context():
        if not jobs.claim(job_id, app.config["JOB_LEASE_SECONDS"]):
            logger.info("job %s: cancelled or taken before it started", job_id)
            return
        try:
            work()
        except jobs.JobCancelled:
            jobs.cancelled(job_id)
        except jobs.JobLost:
            logger.warning("job %s: marked failed while it ran (its lease ran out); its work stopped", job_id)
        except Exception as error:
            logger.exception("job %s failed", job_id)
            jobs.fail(job_id, _message(error))
        except BaseException:
            jobs.fail(job_id, "the worker was stopped during the job")
            raise


def _message(error: Exception) -> str:
    """A message for the page: the text of an error the user can act on, else the error's kind too."""
    if isinstance(error, ValueError | OSError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def start(kind: str, params: dict, *, requested_by: str, requested_by_id: int | None) -> Job:
    """Record a job and put it on the queue. A queue that cannot be reached fails the job, with why."""
    job = jobs.create(kind, params, requested_by=requested_by, requested_by_id=requested_by_id)
    job_id = job.id
    try:
        _open(current_app.extensions["huey"])
        current_app.extensions["copydesk_tasks"][kind](job_id)
    except Exception as error:
        logger.exception("job %s could not be queued", job_id)
        jobs.fail(job_id, f"the job queue could not be reached: {error}")
    return jobs.get(job_id)


def consumer(app: Flask, workers: int, **options) -> Consumer:
    """The worker's consumer: `workers` threads running jobs, and the housekeeping every minute.

    An idle worker looks at a SQLite queue at least every second (Redis tells it at once)."""
    options = {"max_delay": 1.0, "periodic": True} | options
    huey = app.extensions["huey"]
    _open(huey)
    return huey.create_consumer(workers=workers, worker_type="thread", **options)
