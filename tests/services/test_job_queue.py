"""Jobs through the queue: an export and an upload, done, failed, cancelled, and the worker's housekeeping.

Each test runs three ways: in immediate mode (the job runs in the call that starts it), and with a
real Huey consumer (worker threads) on SQLite storage and on Redis (TEST_JOBS_URL; CI runs Redis).
"""

import os
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import current_app
from sqlalchemy import select, update

from tests.factories import Uploaded, import_stories, make_app, seed_bytes, zipped
from webapp.models import APPROVED, CANCELLED, DONE, FAILED, Article, ExportRun, ImportRun, Job, db, utcnow
from webapp.services import export_jobs, exporting, job_queue, jobs, uploads
from webapp.services.accounts import create_user
from webapp.services.exporting import ExportFilters

REDIS_JOBS_URL = os.environ.get("TEST_JOBS_URL", "redis://127.0.0.1:6379/1")
FINISHED = (DONE, FAILED, CANCELLED)


@pytest.fixture(params=["immediate", "sqlite", "redis"])
def queue(request, app, migrated, tmp_path):
    """An app whose jobs run as `request.param` says; its context is the current one."""
    if request.param == "immediate":
        yield app
        return
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    if request.param == "redis":
        connection = redis.Redis.from_url(REDIS_JOBS_URL)
        try:
            connection.ping()
        except redis.RedisError as error:
            pytest.skip(f"Redis is not reachable at {REDIS_JOBS_URL} ({error}): .ci/run starts it")
        finally:
            connection.close()
        url = REDIS_JOBS_URL
    queued = make_app(migrated, JOBS_URL=url, JOBS_IMMEDIATE=False, JOBS_FOLDER=app.config["JOBS_FOLDER"])
    consumer = job_queue.consumer(queued, workers=2, max_delay=0.2, periodic=False)
    huey = queued.extensions["huey"]
    huey.flush()
    consumer.scheduler.start()
    for _worker, thread in consumer.worker_threads:
        thread.start()
    with queued.app_context():
        yield queued
        consumer.stop(graceful=True)
        huey.flush()
        db.session.remove()
        db.engine.dispose()


def finished(job_id: int, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job.status in FINISHED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")


def approved_articles(folder: Path, count: int) -> None:
    folder.mkdir()
    import_stories(folder, [f"story-{n:04d}" for n in range(count)])
    lead = create_user("lena", "a-long-password", "lead")
    db.session.execute(
        update(Article).values(status=APPROVED, decided_at=utcnow(), decided_by_id=lead.id, version=2)
    )
    db.session.commit()


def start_export(fmt="zip", **filters) -> int:
    params = export_jobs.params(ExportFilters(**filters), fmt)
    return job_queue.start("export", params, requested_by="lena", requested_by_id=None).id


def test_an_export_job_writes_the_zip_and_keeps_it_for_the_days_set(queue, tmp_path):
    approved_articles(tmp_path / "seeds", 12)
    job = finished(start_export())
    assert (job.status, job.done, job.total, job.message) == (DONE, 12, 12, None)
    with zipfile.ZipFile(job.result_path) as archive:
        assert sorted(archive.namelist()) == [f"story-{n:04d}.md" for n in range(12)]
    assert Path(job.result_path).parent == Path(queue.config["JOBS_FOLDER"]) / "exports"
    run = db.session.get(ExportRun, job.export_run_id)
    assert (run.status, run.count, run.requested_by) == ("complete", 12, "lena")
    keep = job.result_expires_at - job.finished_at
    assert timedelta(days=7) - timedelta(seconds=5) < keep <= timedelta(days=7)


def test_an_export_job_that_cannot_write_fails_with_the_reason(queue, tmp_path):
    approved_articles(tmp_path / "seeds", 2)
    Path(queue.config["JOBS_FOLDER"]).mkdir(parents=True)
    (Path(queue.config["JOBS_FOLDER"]) / "exports").write_text("a file where the folder goes")
    job = finished(start_export())
    assert job.status == FAILED
    assert "exports" in job.message and "File exists" in job.message
    assert job.result_path is None


def test_an_export_job_cancelled_midway_stops_and_leaves_no_file(queue, tmp_path, monkeypatch):
    approved_articles(tmp_path / "seeds", 30)
    monkeypatch.setattr(exporting, "BATCH_SIZE", 5)
    record_progress = jobs.progress

    def cancel_at_ten(job_id, done, total=None, **lease):
        if done >= 10:
            jobs.request_cancel(job_id)
        record_progress(job_id, done, total, **lease)

    monkeypatch.setattr(jobs, "progress", cancel_at_ten)
    job = finished(start_export())
    assert (job.status, job.done) == (CANCELLED, 5)
    assert job.result_path is None
    assert list((Path(queue.config["JOBS_FOLDER"]) / "exports").iterdir()) == []
    run = db.session.get(ExportRun, job.export_run_id)
    assert run.status == "failed" and "cancelled" in run.error


def start_upload(files: list[Uploaded]) -> int:
    params = uploads.stage(files, Path(current_app.config["JOBS_FOLDER"]) / "uploads")
    return job_queue.start("upload", params, requested_by="lena", requested_by_id=None).id


def test_an_upload_job_imports_the_files_and_records_the_run_with_its_refusals(queue):
    archive = zipped({f"seeds/s{n}.md": seed_bytes(f"s{n}") for n in range(5)} | {"../evil.md": b"x"})
    job = finished(start_upload([Uploaded("bundle.zip", archive), Uploaded("one.md", seed_bytes("one"))]))
    assert (job.status, job.done, job.total) == (DONE, 6, 6)
    run = db.session.get(ImportRun, job.import_run_id)
    assert (run.kind, run.status, run.imported, run.invalid) == ("upload", "complete", 6, 1)
    assert run.source == "upload: bundle.zip, one.md"
    assert db.session.scalar(select(db.func.count()).select_from(Article)) == 6


def test_housekeeping_fails_lapsed_jobs_and_deletes_exports_kept_long_enough(queue, tmp_path):
    approved_articles(tmp_path / "seeds", 1)
    kept = finished(start_export())
    expired = finished(start_export())
    db.session.execute(
        update(Job).where(Job.id == expired.id).values(result_expires_at=utcnow() - timedelta(minutes=1))
    )
    stuck = jobs.create("export", {}, requested_by="lena").id
    jobs.claim(stuck, lease_seconds=600)
    db.session.execute(
        update(Job).where(Job.id == stuck).values(lease_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    expired_path = Path(expired.result_path)
    job_queue.housekeeping()
    assert not expired_path.exists() and Path(kept.result_path).exists()
    assert jobs.get(expired.id).result_path is None
    assert jobs.get(stuck).status == FAILED


def test_a_queue_that_cannot_be_opened_breaks_no_page_and_fails_the_job_with_why(migrated, tmp_path):
    unwritable = tmp_path / "not-a-folder"
    unwritable.write_text("a file where the queue's folder goes")
    queued = make_app(
        migrated,
        JOBS_URL=f"sqlite:///{unwritable}/jobs.sqlite",
        JOBS_IMMEDIATE=False,
        JOBS_FOLDER=str(tmp_path),
    )
    with queued.app_context():
        params = {"format": "zip", "filters": {}}
        job = job_queue.start("export", params, requested_by="lena", requested_by_id=None)
        assert job.status == FAILED
        assert job.message.startswith("the job queue could not be reached")
        db.session.remove()
        db.engine.dispose()


def test_the_worker_command_refuses_to_run_where_jobs_run_in_the_request(runner):
    result = runner.invoke(args=["jobs", "worker"])
    assert result.exit_code == 1 and "JOBS_IMMEDIATE is set" in result.output
