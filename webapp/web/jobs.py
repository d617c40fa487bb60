"""A background job's page: its progress (polled by htmx until it ends), Cancel, and an export's file."""

from pathlib import Path

from flask import Blueprint, abort, redirect, send_file, url_for

from ..models import DONE
from ..services import export_jobs, jobs
from .auth import role_required
from .rendering import fragment_or_page, render

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _job(job_id: int):
    job = jobs.get(job_id)
    if job is None:
        abort(404, f"There is no job {job_id}.")
    return job


@bp.get("/<int:job_id>")
@role_required("lead")
def show(job_id: int):
    """The job's page; htmx gets its progress fragment, which asks again while the job runs."""
    job = _job(job_id)
    return render("jobs/show.html", "jobs/_progress.html", job=job, pace=jobs.pace(job))


@bp.post("/<int:job_id>/cancel")
@role_required("lead")
def cancel(job_id: int):
    """Ask the job to stop: at once if it waits, at its next batch if it runs."""
    job = _job(job_id)
    job = jobs.request_cancel(job.id)
    return fragment_or_page(
        lambda: render("jobs/show.html", "jobs/_progress.html", job=job, pace=jobs.pace(job)),
        lambda: redirect(url_for("jobs.show", job_id=job.id), 303),
    )


@bp.get("/<int:job_id>/download")
@role_required("lead")
def download(job_id: int):
    """A finished export's file, while it is kept."""
    job = _job(job_id)
    if job.kind != "export" or job.status != DONE:
        abort(404, f"Job {job_id} has no file to download.")
    if job.result_path is None or not Path(job.result_path).is_file():
        abort(404, "This export's file is gone: it was kept for EXPORT_KEEP_DAYS days. Export again.")
    return send_file(
        job.result_path,
        mimetype=export_jobs.MIMETYPES[job.params["format"]],
        as_attachment=True,
        download_name=export_jobs.download_name(job),
        max_age=0,
    )
