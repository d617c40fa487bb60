"""What team leads read: the stats dashboard (page, htmx fragment, CSV, JSON) and the audit log."""

import csv
import io

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import select

from ..formats import charts
from ..models import Topic, User, db, utcnow
from ..services import audit_log, stats
from .auth import role_required
from .queue import stale_after
from .rendering import render

bp = Blueprint("reports", __name__)


def _dashboard():
    filters, errors = stats.parse_filters(request.args)
    return stats.dashboard(filters, utcnow(), stale_after()), errors


def _choices() -> dict:
    """The filter menus' values: the whole page's only, as an htmx answer swaps no menus."""
    return {
        "periods": stats.PERIODS,
        "moderators": db.session.scalars(select(User.username).order_by(User.username)).all(),
        "topics": db.session.scalars(select(Topic.name).order_by(Topic.name)).all(),
        "actions": audit_log.ACTIONS,
    }


@bp.get("/stats")
@role_required("lead")
def dashboard():
    """The dashboard; htmx gets the figures and charts only, as the filters change."""
    board, errors = _dashboard()
    return render(
        "stats/index.html",
        "stats/_board.html",
        status=400 if errors else 200,
        board=board,
        figures=charts.dashboard_figures(board),
        errors=errors,
        page_context=lambda: {"choices": _choices()},
    )


@bp.get("/stats.json")
@role_required("lead")
def dashboard_json():
    """The same figures as JSON, with the same filters."""
    board, errors = _dashboard()
    if errors:
        return jsonify({"errors": errors}), 400
    return jsonify(board.as_dict())


@bp.get("/stats.csv")
@role_required("lead")
def dashboard_csv():
    """The same figures as CSV, one section per table."""
    board, errors = _dashboard()
    if errors:
        abort(400, " ".join(errors.values()))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(stats.csv_rows(board))
    response = make_response(buffer.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=copydesk-stats-{board.start.date()}-{board.end.date()}.csv"
    )
    return response


@bp.get("/audit")
@role_required("lead")
def audit():
    """Every moderation event, newest first; htmx gets the rows only (filters, and the next page)."""
    filters, errors = audit_log.parse_filters(request.args)
    try:
        rows, next_cursor = audit_log.audit_page(filters, request.args.get("after"))
    except audit_log.InvalidCursor:
        abort(400, "That page link is broken: start again from the first page of the audit log.")
    return render(
        "audit/index.html",
        "audit/_rows.html",
        status=400 if errors else 200,
        rows=rows,
        next_cursor=next_cursor,
        filters=filters,
        errors=errors,
        page_context=lambda: {"choices": _choices()},
        summary=audit_log.change_summary,
    )
