"""Response headers: HSTS pins browsers to HTTPS in production, and only there."""

import pytest

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
