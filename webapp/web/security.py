"""Response headers that hold on every page (a strict CSP and friends, HSTS in production), and which
proxies are believed about the client's address and scheme."""

from flask import current_app
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Articles' own images come from the outlets' servers (SHOW_IMAGES), over https only.
        "img-src 'self' https:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# A year, the subdomains too: once a browser has seen the site over HTTPS it never tries plain HTTP.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def init_app(app) -> None:
    if hops := app.config["TRUSTED_PROXIES"]:
        # The last `hops` entries of X-Forwarded-For and -Proto, which our own proxies wrote; whatever
        # the client sent before them is ignored. Nothing forwarded is believed without proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.after_request(_add_security_headers)


def _add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Only in production, which is served over HTTPS: a laptop on http://127.0.0.1 must not be pinned.
    if current_app.config["COPYDESK_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response
