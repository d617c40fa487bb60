"""Copydesk with three routes that each do only part of a real request's work: bench/floors.py's app.

    gunicorn -w 2 --worker-class sync "bench.floor_app:create_app()"

Each route runs the app's own code up to a point and answers almost nothing, so its requests/s is
a ceiling for every request that does at least that work:

- `GET /bench-floor/signed-in`: a moderator's request and nothing else (the session cookie, the
  user's row, every request hook), answering "ok";
- `GET /bench-floor/rows`: that, and the queue's first page of pending articles as the queue reads
  it, with the rows' markup (`listing.queue_page`, `rendering.rows_html`): the queue fragment
  without its counts, its template and its filters' messages;
- `POST /bench-floor/decide/<id>`: that, and the approval itself (`moderation.decide`, the version
  check, the audit event, the rollups and the claims in one transaction), answering nothing: approve
  without any part of its answer.

Only the benchmarks serve this app; the routes are not part of Copydesk.
"""

from flask import Flask, request
from flask_login import current_user

import webapp
from webapp.models import APPROVED
from webapp.services import moderation
from webapp.services.filtering import parse_version
from webapp.services.listing import QueueFilters, queue_page
from webapp.web.answers import stale_after
from webapp.web.auth import role_required
from webapp.web.rendering import article_hrefs, rows_html

SIGNED_IN_PATH = "/bench-floor/signed-in"
ROWS_PATH = "/bench-floor/rows"
DECIDE_PATH = "/bench-floor/decide/"


def create_app() -> Flask:
    app = webapp.create_app()

    @app.get(SIGNED_IN_PATH)
    @role_required("moderator")
    def signed_in():
        return "ok"

    @app.get(ROWS_PATH)
    @role_required("moderator")
    def rows():
        page = queue_page(
            QueueFilters(), None, stale_after(), viewer_id=current_user.id, href=article_hrefs()
        )
        return str(rows_html(page.rows))

    @app.post(DECIDE_PATH + "<int:article_id>")
    @role_required("moderator")
    def decide(article_id: int):
        moderation.decide(article_id, current_user, APPROVED, parse_version(request.form.get("version")))
        return ""

    return app
