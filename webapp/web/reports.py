"""What team leads read: the stats dashboard (page, htmx fragment, CSV, JSON) and the audit log."""

import csv
import io

from flask import Blueprint, abort, jsonify, make_response, request

from ..formats import charts
from ..models import utcnow
from ..services import accounts, audit_log, listing, rollups, stats
from ..services.filtering import InvalidCursor
from .auth import role_required
from .queue import stale_after
from .rendering import render

bp = Blueprint("reports", __name__)


def _dashboard():
    filters, errors = stats.parse_filters(request.args)
    return rollups.dashboard(filters, utcnow(), stale_after()), errors


def _choices() -> dict:
    """The filter menus' values: the whole page's only, as an htmx answer swaps no menus."""
    return {
        "periods": stats.PERIODS,
        "moderators": accounts.usernames(),
        "topics": listing.topic_names(),
        "providers": listing.provider_suggestions(),
        "actions": audit_log.ACTIONS,
    }


@bp.get("/stats")
@role_required("lead")
def dashboard():
    """The dashboard; htmx gets the figures and charts only, as the filters change."""
    board, errors = _dashboard()
    return render(
        "stats/index.html",
        "stats/_filtered.html",
        status=422 if errors else 200,
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
        return jsonify({"errors": errors}), 422
    return jsonify(board.as_dict())


@bp.get("/stats.csv")
@role_required("lead")
def dashboard_csv():
    """The same figures as CSV, one section per table."""
    board, errors = _dashboard()
    if errors:
        abort(422, " ".join(errors.values()))
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
    """Every moderation event and change to an account, newest first; htmx gets the rows only."""
    filters, errors = audit_log.parse_filters(request.args)
    try:
        rows, next_cursor = audit_log.audit_page(filters, request.args.get("after"))
    except InvalidCursor:
        abort(400, "That page link is broken: start again from the first page of the audit log.")
    return render(
        "audit/index.html",
        "audit/_filtered.html",
        status=422 if errors else 200,
        rows=rows,
        next_cursor=next_cursor,
        filters=filters,
        errors=errors,
        page_context=lambda: {"choices": _choices()},
        summary=audit_log.change_summary,
        who=audit_log.actor_label,
    )
