"""The Export page: leads and admins choose approved articles, see how many, and start an export job."""

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..services import export_jobs, exporting, job_queue, jobs
from ..services.listing import filter_choices
from .auth import role_required

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.get("")
@role_required("lead")
def index():
    filters, errors = exporting.parse_filters(request.args)
    return _page(filters, errors, request.args, status=422 if errors else 200)


@bp.get("/count")
@role_required("lead")
def count():
    """How many articles the form's filters choose: swapped in as the form changes."""
    filters, errors = exporting.parse_filters(request.args)
    response = make_response(
        render_template(
            "exports/_filtered.html", count=None if errors else exporting.count(filters), errors=errors
        ),
        422 if errors else 200,
    )
    # The page's address from the filters as parsed: never whatever else the request carried.
    response.headers["HX-Replace-Url"] = url_for("exports.index", **filters.as_args())
    return response


@bp.post("")
@role_required("lead")
def download():
    """Start a job exporting what the filters choose into a zip or a YAML stream; its page follows it."""
    filters, errors = exporting.parse_filters(request.form)
    fmt = request.form.get("format", "")
    if fmt not in export_jobs.EXTENSIONS:
        errors["format"] = f"Format: choose zip or yaml, not {fmt!r}"
    if errors:
        return _page(filters, errors, request.form, status=422)
    job = job_queue.start(
        "export",
        export_jobs.params(filters, fmt),
        requested_by=current_user.username,
        requested_by_id=current_user.id,
    )
    return redirect(url_for("jobs.show", job_id=job.id), 303)


def _page(filters, errors, values, status=200):
    context = {
        "values": values,
        "errors": errors,
        "count": None if errors else exporting.count(filters),
        "choices": filter_choices(),
        "runs": exporting.recent_runs(),
        "jobs": jobs.recent("export"),
    }
    return render_template("exports/index.html", **context), status
