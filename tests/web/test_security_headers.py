"""Response headers: HSTS pins browsers to HTTPS in production, and only there. Forwarded headers are
believed for as many proxies as TRUSTED_PROXIES says, and no further."""

import pytest
from flask import request

from tests.factories import make_app
from webapp.models import db


@pytest.mark.parametrize(
    "env, expected", [("production", "max-age=31536000; includeSubDomains"), ("development", None)]
)
def test_strict_transport_security_only_in_production(migrated, env, expected):
    app = make_app(migrated, COPYDESK_ENV=env)
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert response.headers.get("Strict-Transport-Security") == expected
    with app.app_context():
        db.engine.dispose()


def test_error_pages_carry_hsts_too(migrated):
    app = make_app(migrated, COPYDESK_ENV="production")
    assert "Strict-Transport-Security" in app.test_client().get("/no/such/page").headers
    with app.app_context():
        db.engine.dispose()


# What the client's request looks like after two proxies: the client forged the first address, the outer
# proxy wrote the client's real one, the inner proxy the outer proxy's.
FORWARDED = {"X-Forwarded-For": "192.0.2.66, 203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https, https"}


@pytest.mark.parametrize(
    "hops, seen", [(0, "10.0.0.1 http"), (1, "198.51.100.7 https"), (2, "203.0.113.9 https")]
)
def test_forwarded_headers_are_believed_only_for_the_trusted_proxies(migrated, hops, seen):
    app = make_app(migrated, TRUSTED_PROXIES=hops)
    app.add_url_rule("/peer", "peer", lambda: f"{request.remote_addr} {request.scheme}")
    response = app.test_client().get("/peer", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.get_data(as_text=True) == seen
    with app.app_context():
        db.engine.dispose()
