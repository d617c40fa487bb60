"""/metrics over HTTP: the text format, what moves after a decision, routes as labels, and who may read it."""

import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import HX, make_app, post, soup
from webapp.models import APPROVED, db

TOKEN = "a-scraper-token-of-32-characters"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def scrape(client) -> dict:
    """The scrape, parsed: {(sample name, frozenset of labels): value}."""
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scraper(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def test_the_scrape_parses_and_holds_every_metric(client, scraper, login, article):
    login()
    client.get("/")
    families = {name for name, _ in scrape(client)}
    assert {
        "copydesk_http_requests_total",
        "copydesk_http_request_duration_seconds_bucket",
        "copydesk_http_request_duration_seconds_count",
        "copydesk_articles",
        "copydesk_stale_pending_articles",
    } <= families


def test_an_approve_moves_the_counters_and_the_gauges(client, scraper, login, article):
    login()
    before = scrape(client)
    # The real seed was published in 2023: pending and stale.
    assert value(before, "copydesk_articles", status="pending") == 1
    assert value(before, "copydesk_stale_pending_articles") == 1
    response = post(client, f"/articles/{article.id}/approve", HX, version=1)
    assert response.status_code == 200
    after = scrape(client)
    route = {"route": "articles.approve", "method": "POST", "status": "2xx"}
    assert value(after, "copydesk_changes_total", action="approve") == (
        value(before, "copydesk_changes_total", action="approve") + 1
    )
    assert value(after, "copydesk_http_requests_total", **route) == (
        value(before, "copydesk_http_requests_total", **route) + 1
    )
    assert value(after, "copydesk_http_request_duration_seconds_count", **route) == (
        value(before, "copydesk_http_request_duration_seconds_count", **route) + 1
    )
    assert value(after, "copydesk_articles", status="pending") == 0
    assert value(after, "copydesk_articles", status=APPROVED) == 1
    assert value(after, "copydesk_stale_pending_articles") == 0


def test_a_conflict_is_counted_as_one(client, scraper, login, article):
    login()
    before = value(scrape(client), "copydesk_change_conflicts_total", action="reject")
    assert post(client, f"/articles/{article.id}/approve", HX, version=1).status_code == 200
    assert post(client, f"/articles/{article.id}/reject", HX, version=1).status_code == 409
    assert value(scrape(client), "copydesk_change_conflicts_total", action="reject") == before + 1


def test_requests_are_labelled_by_route_never_by_path(client, scraper, login, article):
    login()
    show = {"route": "articles.show", "method": "GET"}
    counts = ("copydesk_http_requests_total", "copydesk_http_request_duration_seconds_count")
    labels = [
        show | {"status": "2xx"},
        show | {"status": "4xx"},
        {"route": "unmatched", "method": "GET", "status": "4xx"},
    ]
    before = scrape(client)
    client.get(f"/articles/{article.id}", headers=HX)
    client.get("/articles/987654", headers=HX)
    client.get("/no/such/page")
    after = scrape(client)
    for name in counts:
        assert [value(after, name, **each) - value(before, name, **each) for each in labels] == [1, 1, 1]
    routes = {dict(labels).get("route") for name, labels in after if name == "copydesk_http_requests_total"}
    assert {"articles.show", "unmatched", "auth.login", "queue.index"} <= routes
    assert not [route for route in routes if "/" in route or any(c.isdigit() for c in route)]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-of-the-same-size!!"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer ünïcode"},
    ],
)
def test_without_the_token_it_is_a_page_that_does_not_exist(client, scraper, headers):
    missing = client.get("/no-such-page")
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert soup(response).main == soup(missing).main


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"])
def test_no_method_tells_that_it_exists(client, scraper, method):
    assert client.open("/metrics", method=method).status_code == 404
    # A scraper's token gets through the CSRF check, to a plain 405 (or the answer, for HEAD).
    expected = 200 if method == "HEAD" else 405
    assert client.open("/metrics", method=method, headers=BEARER).status_code == expected


def test_with_neither_setting_nobody_gets_it(client, app):
    assert (app.config["METRICS_TOKEN"], app.config["METRICS_ALLOW"]) == (None, ())
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "allow, remote_addr, expected",
    [
        ("127.0.0.1", "127.0.0.1", 200),
        ("10.0.0.0/8, 192.168.1.7", "10.20.30.40", 200),
        ("10.0.0.0/8, 192.168.1.7", "192.168.1.7", 200),
        ("10.0.0.0/8, 192.168.1.7", "192.168.1.8", 404),
        ("10.0.0.0/8", "::ffff:10.1.2.3", 200),
        ("fd00::/8", "fd12::1", 200),
        ("fd00::/8", "10.1.2.3", 404),
        ("10.0.0.0/8", "not-an-address", 404),
    ],
)
def test_from_an_allowed_address_no_token_is_needed(client, app, allow, remote_addr, expected):
    app.config["METRICS_ALLOW"] = tuple(ipaddress.ip_network(n.strip()) for n in allow.split(","))
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": remote_addr})
    assert response.status_code == expected


@pytest.mark.parametrize(
    "forwarded_for, expected",
    [("10.1.2.3", 200), ("203.0.113.5", 404), ("10.1.2.3, 203.0.113.5", 404), ("203.0.113.5, 10.1.2.3", 200)],
)
def test_behind_a_trusted_proxy_the_client_is_checked_not_the_proxy(migrated, forwarded_for, expected):
    # The proxy itself (127.0.0.1) is not listed; what it appended last to X-Forwarded-For is the client.
    proxied = make_app(migrated, TRUSTED_PROXIES=1, METRICS_ALLOW=(ipaddress.ip_network("10.0.0.0/8"),))
    client = proxied.test_client()
    assert client.get("/metrics").status_code == 404
    response = client.get("/metrics", headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == expected
    with proxied.app_context():
        db.engine.dispose()


def test_a_token_gets_in_from_any_address(client, scraper):
    scraper.config["METRICS_ALLOW"] = (ipaddress.ip_network("10.0.0.0/8"),)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    response = client.get("/metrics", headers=BEARER, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_openmetrics_when_the_scraper_asks_for_it(client, scraper):
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    response = client.get("/metrics", headers=BEARER | accept)
    assert response.content_type.startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).endswith("# EOF\n")
