"""The Imports page: leads and admins see every import of seed files, and what each did not take, and
upload seed files (or a zip of them) for a background job to import."""

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..services import import_runs, job_queue, jobs, uploads
from .auth import role_required
from .rendering import render

bp = Blueprint("imports", __name__, url_prefix="/imports")

_CURSOR = re.compile(r"[0-9]{1,9}")  # an id or a position: under 2**31 on every database


@bp.get("")
@role_required("lead")
def index():
    """Import runs, newest first, a page at a time; htmx gets the next page's rows."""
    page = import_runs.runs_page(_cursor("before"))
    return render(
        "imports/index.html",
        "imports/_runs.html",
        runs=page.items,
        next_before=page.next_cursor,
        page_context=_page_context,
    )


@bp.post("/upload")
@role_required("lead")
def upload():
    """Keep the uploaded files and start the job that unpacks and imports them; its page follows it."""
    try:
        params = uploads.stage(request.files.getlist("files"), job_queue.jobs_folder(current_app) / "uploads")
    except uploads.UploadError as error:
        page = import_runs.runs_page()
        context = {"runs": page.items, "next_before": page.next_cursor, "upload_error": str(error)}
        return render_template("imports/index.html", **context, **_page_context()), 422
    job = job_queue.start(
        "upload", params, requested_by=current_user.username, requested_by_id=current_user.id
    )
    return redirect(url_for("jobs.show", job_id=job.id), 303)


def _page_context() -> dict:
    config = current_app.config
    return {
        "jobs": jobs.recent("upload"),
        "limits": {
            name: config[name] for name in ("MAX_UPLOAD_BYTES", "ZIP_MAX_FILES", "ZIP_MAX_UNCOMPRESSED_BYTES")
        },
    }


@bp.get("/<int:run_id>")
@role_required("lead")
def show(run_id: int):
    """One run: who or what started it, its counts, and the files it did not take."""
    run = import_runs.get_run(run_id)
    if run is None:
        abort(404, f"There is no import run {run_id}.")
    page = import_runs.refusals_page(run_id, _cursor("after"))
    return render(
        "imports/run.html",
        "imports/_refusals.html",
        run=run,
        refusals=page.items,
        next_after=page.next_cursor,
    )


def _cursor(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not _CURSOR.fullmatch(value):
        abort(400, "That page link is broken: start again from the first page of the imports.")
    return int(value)
