"""/metrics for Prometheus, and every request timed into it by route.

Only a scraper sees it: with `METRICS_TOKEN` as a bearer token, or from an address in
`METRICS_ALLOW`. Anyone else, with any method, gets the 404 of a page that does not exist, so the
endpoint does not even tell that it is there.
"""

import hmac
import ipaddress
import time

from flask import Blueprint, abort, current_app, g, request, request_finished, request_started
from prometheus_client.exposition import choose_encoder

from ..services import metrics

bp = Blueprint("metrics", __name__)

# Any other method is counted as "other": a label's values stay few whatever clients send.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route of a request no URL rule matched (a 404 or 405 from routing)


def init_app(app) -> None:
    # A scraper sends no CSRF token; and a refused POST must be the same 404 as a refused GET.
    app.extensions["csrf"].exempt(bp)
    request_started.connect(_start_clock, app)
    request_finished.connect(_observe, app)


@bp.route("/metrics", methods=sorted(METHODS), provide_automatic_options=False)
def scrape():
    """The metrics in Prometheus' text format (or OpenMetrics, if the scraper asks for it)."""
    if not _scraper_allowed():
        abort(404)
    if request.method not in ("GET", "HEAD"):
        abort(405)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = current_app.response_class(encode(metrics.scrape_registry()), content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def _scraper_allowed() -> bool:
    config = current_app.config
    token = config["METRICS_TOKEN"]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    return bool(config["METRICS_ALLOW"]) and _address_allowed(request.remote_addr, config["METRICS_ALLOW"])


def _address_allowed(remote_addr: str | None, allowed) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    # A server listening on IPv6 sees IPv4 clients as ::ffff:10.1.2.3.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


def _start_clock(_app, **_extra) -> None:
    g.metrics_started = time.perf_counter()


def _observe(_app, response, **_extra) -> None:
    started = g.pop("metrics_started", None)
    if started is None:
        return
    route = request.url_rule.endpoint if request.url_rule else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    metrics.observe_request(route, method, response.status_code, time.perf_counter() - started)
