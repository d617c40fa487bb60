"""Jobs' lifecycle in our table: claimed, progress under a lease, done, failed, cancelled, lease run out."""

from datetime import timedelta

import pytest

from webapp.models import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, db, utcnow
from webapp.services import jobs


def new_job(**params) -> int:
    return jobs.create("export", params, requested_by="lena").id


def status(job_id: int) -> Job:
    return jobs.get(job_id)


def test_a_job_is_queued_then_running_under_a_lease_then_done(app):
    job_id = new_job()
    assert status(job_id).status == QUEUED
    assert jobs.claim(job_id, lease_seconds=30)
    job = status(job_id)
    assert job.status == RUNNING and job.started_at is not None
    assert timedelta(seconds=25) < job.lease_expires_at - utcnow() <= timedelta(seconds=30)
    jobs.progress(job_id, 10, 40, lease_seconds=30)
    assert (status(job_id).done, status(job_id).total) == (10, 40)
    jobs.finish(job_id, done=40, result_path="/tmp/x.zip")
    job = status(job_id)
    assert (job.status, job.done, job.result_path, job.lease_expires_at) == (DONE, 40, "/tmp/x.zip", None)
    assert job.finished_at is not None


def test_a_job_is_claimed_once(app):
    job_id = new_job()
    assert jobs.claim(job_id)
    assert not jobs.claim(job_id)


def test_a_failed_job_keeps_its_message(app):
    job_id = new_job()
    jobs.claim(job_id)
    jobs.fail(job_id, "the disk is full")
    job = status(job_id)
    assert (job.status, job.message) == (FAILED, "the disk is full")


def test_a_queued_job_cancelled_never_starts(app):
    job_id = new_job()
    assert jobs.request_cancel(job_id).status == CANCELLED
    assert not jobs.claim(job_id)
    assert status(job_id).status == CANCELLED


def test_a_running_job_cancelled_stops_at_its_next_progress(app):
    job_id = new_job()
    jobs.claim(job_id)
    assert jobs.request_cancel(job_id).status == RUNNING
    with pytest.raises(jobs.JobCancelled):
        jobs.progress(job_id, 5)
    jobs.cancelled(job_id)
    assert status(job_id).status == CANCELLED


def test_a_job_whose_lease_ran_out_is_failed_and_its_worker_told_at_its_next_progress(app):
    job_id = new_job()
    jobs.claim(job_id, lease_seconds=1)
    other = new_job()
    jobs.claim(other, lease_seconds=600)
    assert jobs.expire_leases(utcnow() + timedelta(seconds=2)) == [job_id]
    job = status(job_id)
    assert (job.status, job.message) == (FAILED, jobs.LEASE_LAPSED)
    assert status(other).status == RUNNING
    with pytest.raises(jobs.JobLost):
        jobs.progress(job_id, 1)
    jobs.finish(job_id)  # the worker's late word changes nothing
    assert status(job_id).status == FAILED


def test_reading_a_job_marks_it_failed_once_its_lease_ran_out(app):
    job_id = new_job()
    jobs.claim(job_id, lease_seconds=1)
    db.session.execute(
        db.update(Job).where(Job.id == job_id).values(lease_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert status(job_id).status == FAILED


def test_progress_renews_the_lease(app):
    job_id = new_job()
    jobs.claim(job_id, lease_seconds=1)
    jobs.progress(job_id, 1, 10, lease_seconds=300)
    assert jobs.expire_leases(utcnow() + timedelta(seconds=5)) == []


def test_pace_says_rate_and_time_left(app):
    job_id = new_job()
    jobs.claim(job_id)
    jobs.progress(job_id, 25, 100)
    job = status(job_id)
    pace = jobs.pace(job, now=job.started_at + timedelta(seconds=5))
    assert (pace.percent, pace.per_second, pace.seconds_left) == (25, 5.0, 15)
    assert jobs.pace(Job(status=QUEUED, done=0, total=None)) == jobs.Pace(None, None, None)
