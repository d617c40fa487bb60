"""The Export page: leads and admins choose approved articles, see how many, and download them."""

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, make_response, render_template, request, send_file, url_for
from flask_login import current_user

from ..services import exporting
from ..services.listing import filter_choices
from .auth import role_required

bp = Blueprint("exports", __name__, url_prefix="/exports")

DOWNLOADS = {"zip": ("zip", "application/zip"), "yaml": ("yaml", "application/yaml")}


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
    """Export what the filters choose into a zip or a YAML stream, record the run, send the file."""
    filters, errors = exporting.parse_filters(request.form)
    fmt = request.form.get("format", "")
    if fmt not in DOWNLOADS:
        errors["format"] = f"Format: choose zip or yaml, not {fmt!r}"
    if errors:
        return _page(filters, errors, request.form, status=422)
    folder = Path(tempfile.mkdtemp(prefix="copydesk-export-"))
    try:
        extension, mimetype = DOWNLOADS[fmt]
        run = exporting.export(
            folder / f"export.{extension}",
            fmt,
            filters,
            requested_by=current_user.username,
            requested_by_id=current_user.id,
        )
        response = send_file(
            folder / f"export.{extension}",
            mimetype=mimetype,
            as_attachment=True,
            download_name=f"copydesk-export-{run.id}.{extension}",
            max_age=0,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response.headers["X-Copydesk-Export-Sha256"] = run.sha256
    response.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
    return response


def _page(filters, errors, values, status=200):
    context = {
        "values": values,
        "errors": errors,
        "count": None if errors else exporting.count(filters),
        "choices": filter_choices(),
        "runs": exporting.recent_runs(),
    }
    return render_template("exports/index.html", **context), status
