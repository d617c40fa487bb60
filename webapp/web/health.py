"""Probes for a process manager or a balancer: no login, no cookie needed, no secret in the answer."""

from flask import Blueprint, current_app

from ..services.health import schema_problem

bp = Blueprint("health", __name__)

PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """200 while the process answers; the database is not asked."""
    return "ok\n", 200, PLAIN


@bp.get("/readyz")
def readyz():
    """200 when the database answers at the migrations' head, else 503 saying which is not so."""
    problem = schema_problem(current_app.extensions["migrate"].directory)
    if problem:
        return f"not ready: {problem}\n", 503, PLAIN
    return "ready\n", 200, PLAIN
