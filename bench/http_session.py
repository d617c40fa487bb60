"""A logged-in HTTP session against a local Copydesk, with the stdlib only.

Never follows redirects (a redirect to /login must show as one) and ignores proxy
settings from the environment (the server is on 127.0.0.1).
"""

from __future__ import annotations

import copy
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser


class SessionError(RuntimeError):
    """Logging in, or finding the CSRF token, failed."""


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Session:
    """Cookies kept across requests to one base URL."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _NoRedirect(), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def request(
        self, method: str, path: str, form: dict | None = None, headers: dict | None = None
    ) -> Response:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers or {}, method=method
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Response(answer.status, answer.read().decode("utf-8", "replace"), dict(answer.headers))
        except urllib.error.HTTPError as answer:
            return Response(answer.code, answer.read().decode("utf-8", "replace"), dict(answer.headers))

    def at(self, base_url: str) -> Session:
        """This session (the same cookies, shared both ways) against another base URL: another server."""
        other = copy.copy(self)
        other.base_url = base_url
        return other

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)


def log_in(base_url: str, username: str, password: str) -> Session:
    """GET /login, then POST the form with its csrf_token; the session keeps the cookie."""
    session = Session(base_url)
    page = session.request("GET", "/login")
    if page.status != 200:
        raise SessionError(f"GET /login answered {page.status}")
    tokens = find_csrf_tokens(page.body)
    if "input" not in tokens:
        raise SessionError("the login page has no csrf_token input")
    form = {"username": username, "password": password, "csrf_token": tokens["input"]}
    answer = session.request("POST", "/login", form=form)
    if answer.status not in (302, 303) or "/login" in answer.headers.get("Location", "/login"):
        raise SessionError(f"logging in as {username!r} failed: POST /login answered {answer.status}")
    return session


class _TokenFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta" and attributes.get("name") == "csrf-token" and attributes.get("content"):
            self.found.setdefault("meta", attributes["content"])
        if tag == "input" and attributes.get("name") == "csrf_token" and attributes.get("value"):
            self.found.setdefault("input", attributes["value"])
        if attributes.get("hx-headers"):
            token = _token_in_hx_headers(attributes["hx-headers"])
            if token:
                self.found.setdefault("hx-headers", token)


def _token_in_hx_headers(value: str) -> str | None:
    try:
        headers = json.loads(value)
    except ValueError:
        return None
    if not isinstance(headers, dict):
        return None
    return headers.get("X-CSRFToken") or headers.get("X-CSRF-Token")


def find_csrf_tokens(html: str) -> dict[str, str]:
    """CSRF tokens on a page, by where they were: "meta", "hx-headers" and "input"."""
    finder = _TokenFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def csrf_token(html: str) -> str:
    """The page's token for htmx requests: from the meta tag, hx-headers, or a csrf_token input."""
    tokens = find_csrf_tokens(html)
    for place in ("meta", "hx-headers", "input"):
        if place in tokens:
            return tokens[place]
    raise SessionError(
        'no CSRF token on the queue page (no <meta name="csrf-token">, hx-headers or csrf_token input)'
    )
