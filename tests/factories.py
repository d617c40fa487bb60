"""Plain helpers and constants shared by the tests (fixtures live in the conftest.py files)."""

import io
import os
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup
from flask import g
from flask.testing import FlaskClient
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from webapp import create_app
from webapp.models import Article, RollupBuild, db, utcnow
from webapp.services.seed_import import import_paths

try:
    from playwright.sync_api import expect
except ImportError:
    # The browser tests are collected all the same: their `browser` fixture then skips each one.
    expect = None

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REAL_SEED = SEEDS / "000_153b8be9e8e41660.txt"
# The product owner's shared folder: beside the checkout, or where COPYDESK_SHARED says (.ci/run
# sets it for a clone made elsewhere).
SHARED = Path(os.environ.get("COPYDESK_SHARED") or ROOT.parent / "shared")
SCREENSHOTS = ROOT / "docs" / "screenshots"
# The widths every page is tried and pictured at (a phone, a tablet, a laptop), each with a usual height.
VIEWPORTS = {390: 844, 768: 1024, 1280: 860}
PASSWORD = "correct horse battery"
# Database 4 of the machine's Redis is the suite's (failed logins counted across processes); CI starts Redis.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/4")
HX = {"HX-Request": "true"}


def make_app(database_url, **config):
    """The app on `database_url` with test settings."""
    # No checkpoint thread per test app: tests/web/test_wal_checkpoints.py turns it on where it is tested.
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret", "TESTING": True}
    # Jobs run inside the request that starts them; tests/services/test_job_queue.py runs a real worker.
    return create_app(settings | {"SQLITE_CHECKPOINT_SECONDS": 0, "JOBS_IMMEDIATE": True} | config)


class FreshRequestClient(FlaskClient):
    """A test client whose requests load the logged-in user again, as separate requests do in production.

    The tests keep one app context open, which Flask reuses for every request, and flask-login
    and Flask-WTF cache the user and the CSRF token in `g`: without this a disabled user would
    seem to stay logged in, and a second client would get the first one's token.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


def csrf_token(client, path="/login"):
    """The CSRF token of the form on `path`."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def post(client, url, headers=None, **data):
    """POST a form with a valid CSRF token, as a logged-in moderator's page sends it."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **data}, headers=headers or {})


def soup(response) -> BeautifulSoup:
    """A response's HTML, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def fresh(article_id: int) -> Article:
    """The article as the database now holds it."""
    db.session.expire_all()
    return db.session.get(Article, article_id)


def empty_tables():
    """Every table emptied, as migrated: the rollups of an empty database count everything there is."""
    # The counters last: on SQLite, deleting articles fires the triggers that keep them.
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    tables.sort(key=lambda name: name == "article_counts")
    with db.engine.begin() as connection:
        # DELETE, children first, on PostgreSQL too: its TRUNCATE of the 22 tables took 100 ms a test,
        # DELETE of a test's few rows 2 ms. Ids start again from 1, as after TRUNCATE ... RESTART IDENTITY.
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # Its counters' triggers are deferred to the commit: they must fire before article_counts goes.
            connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        for table in tables:
            connection.execute(text(f"DELETE FROM {table}"))
        if postgresql:
            connection.execute(_RESTART_SEQUENCES)
        connection.execute(insert(RollupBuild.__table__).values(id=1, built_at=utcnow()))


_RESTART_SEQUENCES = text(
    "SELECT setval(sequence.oid, 1, false) FROM pg_class AS sequence"
    " JOIN pg_namespace AS namespace ON namespace.oid = sequence.relnamespace"
    " WHERE sequence.relkind = 'S' AND namespace.nspname = current_schema()"
)


def seed_text(front_matter: str, body: str = "") -> str:
    """A seed file's text from its front matter and body."""
    return f"---\n{front_matter}---\n{body}"


MINIMAL = """category: news
title: "A title"
publishedDateTime: 2023-10-19T13:22:00Z
webUrl: "https://example.com/a"
provider:
  name: Example
  domain: example.com
"""

BAD_SEEDS = {
    "no front matter": ("category: news\n", "line 1: no front matter"),
    "unterminated": ("---\n" + MINIMAL, "line 1: unterminated front matter"),
    "yaml syntax": (seed_text(MINIMAL + 'excerpt: "unclosed\n'), "YAML error"),
    "bad indentation": (
        seed_text(MINIMAL + "topics:\n  - a\n - b\n"),
        "line 11, column 2: YAML error: did not find expected key",
    ),
    "not a mapping": (
        seed_text("- just\n- a list\n"),
        "front matter: must be a mapping of fields, got a list",
    ),
    "scalar front matter": (seed_text("hello\n"), "front matter: must be a mapping of fields, got text"),
    "empty front matter": ("---\n---\n", "front matter: must be a mapping of fields, got nothing"),
    "string for integer": (
        seed_text(MINIMAL + "quality: high\n"),
        "quality: expected a whole number, got text ('high')",
    ),
    "float for integer": (
        seed_text(MINIMAL + "heat: 3.5\n"),
        "heat: expected a whole number, got a number (3.5)",
    ),
    "boolean for integer": (
        seed_text(MINIMAL + "quality: true\n"),
        "quality: expected a whole number, got a boolean",
    ),
    "heat below -1": (
        seed_text(MINIMAL + "heat: -5\n"),
        "heat: must be -1 (not set) or a whole number from 0",
    ),
    "huge integer": (seed_text(MINIMAL + "quality: 99999999999\n"), "quality: 99999999999 is out of range"),
    "string for mapping": (
        seed_text(
            MINIMAL.replace("provider:\n  name: Example\n  domain: example.com\n", "provider: Example\n")
        ),
        "provider: expected a mapping, got text",
    ),
    "mapping for list": (seed_text(MINIMAL + "topics:\n  a: b\n"), "topics: expected a list, got a mapping"),
    "mapping for related list": (
        seed_text(MINIMAL + "related:\n  title: x\n"),
        "related: expected a list, got a mapping",
    ),
    "list for string": (seed_text(MINIMAL + "excerpt: [a, b]\n"), "excerpt: expected text, got a list"),
    "bare yes as topic": (
        seed_text(MINIMAL + "topics:\n  - yes\n"),
        "topics[0]: expected text, got a boolean (true) (YAML reads unquoted",
    ),
    "date without time": (
        seed_text(MINIMAL.replace("2023-10-19T13:22:00Z", "2023-10-19")),
        "publishedDateTime: expected a date and time like 2023-10-19T13:22:00Z, got a date without a time",
    ),
    "impossible date": (
        seed_text(MINIMAL.replace("2023-10-19T13:22:00Z", "2023-13-45T00:00:00Z")),
        "line 4, column 20: YAML error: '2023-13-45T00:00:00Z' looks like a timestamp but is not a valid one",
    ),
    "text for timestamp": (
        seed_text(MINIMAL.replace("2023-10-19T13:22:00Z", "yesterday")),
        "publishedDateTime: expected a date and time like 2023-10-19T13:22:00Z, got 'yesterday'",
    ),
    # Found by the import fuzz test on PostgreSQL: an indexed text of 11 KB could not be stored.
    "category too long for its index": (
        seed_text(MINIMAL.replace("category: news", "category: " + "n" * 301)),
        "category: is 301 characters long, over the limit of 300",
    ),
    "topic too long for its index": (
        seed_text(MINIMAL + "topics:\n  - AI\n  - " + "t" * 5000 + "\n"),
        "topics[1]: is 5,000 characters long, over the limit of 300",
    ),
    "provider name too long for its index": (
        seed_text(MINIMAL.replace("name: Example", "name: " + "E" * 400)),
        "provider.name: is 400 characters long, over the limit of 300",
    ),
    "provider domain too long for its index": (
        seed_text(MINIMAL.replace("domain: example.com", "domain: " + "d" * 400 + ".com")),
        "provider.domain: is 404 characters long, over the limit of 300",
    ),
    "missing category": (
        seed_text(MINIMAL.replace("category: news\n", "")),
        "category: required field is missing",
    ),
    "missing title": (
        seed_text(MINIMAL.replace('title: "A title"\n', "")),
        "title: required field is missing",
    ),
    "missing date": (
        seed_text(MINIMAL.replace("publishedDateTime: 2023-10-19T13:22:00Z\n", "")),
        "publishedDateTime: required field is missing",
    ),
    "missing webUrl": (
        seed_text(MINIMAL.replace('webUrl: "https://example.com/a"\n', "")),
        "webUrl: required field is missing",
    ),
    "missing provider": (seed_text(MINIMAL.split("provider:")[0]), "provider: required field is missing"),
    "several missing": (
        seed_text("category: news\n"),
        "title: required field is missing (also missing: publishedDateTime, webUrl, provider)",
    ),
    "empty title": (seed_text(MINIMAL.replace('"A title"', '"  "')), "title: must not be empty"),
    "provider without name": (
        seed_text(MINIMAL.replace("  name: Example\n", "")),
        "provider.name: required field is missing",
    ),
    "related without webUrl": (
        seed_text(MINIMAL + "related:\n  - title: x\n"),
        "related[0].webUrl: required field is missing",
    ),
    "related entry wrong type": (
        seed_text(MINIMAL + "related:\n  - title: x\n    webUrl: https://e.com/b\n    quality: lots\n"),
        "related[0].quality: expected a whole number",
    ),
    "image without url": (
        seed_text(MINIMAL + "images:\n  - width: 3\n"),
        "images[0].url: required field is missing",
    ),
    "javascript webUrl": (
        seed_text(MINIMAL.replace("https://example.com/a", "javascript:alert(1)")),
        "webUrl: must be an http(s) URL, got 'javascript:alert(1)'",
    ),
    "ftp webUrl": (
        seed_text(MINIMAL.replace("https://example.com/a", "ftp://example.com/a")),
        "webUrl: must be an http(s) URL",
    ),
    "related javascript webUrl": (
        seed_text(MINIMAL + 'related:\n  - title: x\n    webUrl: "javascript:alert(1)"\n'),
        "related[0].webUrl: must be an http(s) URL",
    ),
    "unsafe python tag": (
        seed_text(MINIMAL + "x: !!python/object/apply:os.system ['true']\n"),
        "line 9, column 4: explicit YAML tags (!tag) are not allowed",
    ),
    "unknown local tag": (
        seed_text(MINIMAL + "x: !secret abc\n"),
        "explicit YAML tags (!tag) are not allowed",
    ),
    "standard tag": (
        seed_text(MINIMAL + "x: !!binary aGVsbG8=\n"),
        "explicit YAML tags (!tag) are not allowed",
    ),
    "anchor": (seed_text(MINIMAL + "x: &a 1\n"), "line 9, column 4: anchors (&name) are not allowed"),
    "alias": (seed_text("a: &a 1\n" + MINIMAL + "x: *a\n"), "anchors (&name) are not allowed"),
    "alias in flow": (seed_text(MINIMAL + "x: [1,*a]\n"), "aliases (*name) are not allowed"),
    "duplicate key": (
        seed_text(MINIMAL + 'title: "Another"\n'),
        "line 9, column 1: YAML error: duplicate key 'title'",
    ),
    "nul escape": (seed_text(MINIMAL + 'excerpt: "a\\0b"\n'), "excerpt: contains a NUL character"),
    "lone surrogate": (
        seed_text(MINIMAL + 'excerpt: "a\\ud800b é"\n'),
        "line 9, column 14: YAML error: found invalid Unicode",
    ),
    "nan in unknown key": (seed_text(MINIMAL + "score: .nan\n"), "score: nan cannot be stored"),
    "integer keys in unknown mapping": (seed_text(MINIMAL + "x:\n  1: a\n"), "x.1: field names must be text"),
    "two documents": (seed_text(MINIMAL + "...\nb: 1\n"), "YAML error"),
}

scalar_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip())
timestamps = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
related_entries = st.fixed_dictionaries(
    {"title": scalar_text, "webUrl": st.sampled_from(["https://a.example/1", "http://b.example/x?y=1&z=2"])},
    optional={"quality": st.integers(0, 200), "publishedDateTime": timestamps, "excerpt": scalar_text},
)
# Any valid seed's front matter, as a mapping.
seed_mappings = st.fixed_dictionaries(
    {
        "category": scalar_text,
        "title": scalar_text,
        "publishedDateTime": timestamps,
        "webUrl": st.just("https://example.com/story"),
        "provider": st.fixed_dictionaries({"name": scalar_text, "domain": st.just("example.com")}),
    },
    optional={
        "excerpt": scalar_text,
        "quality": st.integers(0, 10_000),
        "heat": st.integers(-1, 199),
        "published": st.booleans(),
        "topics": st.lists(scalar_text, max_size=5),
        "related": st.lists(related_entries, max_size=6),
        "secured": st.text("ABCDEFabcdef0123456789+/=;", min_size=1, max_size=80),
        "customKey": st.dictionaries(
            st.text("abcxyz", min_size=1, max_size=5), st.integers() | scalar_text, max_size=3
        ),
    },
)


def write_seed(
    folder,
    name,
    *,
    title="Story",
    published="2023-10-19T13:22:00Z",
    quality=None,
    heat=-1,
    topics=(),
    provider="Example",
    excerpt="An excerpt",
    domain="example.com",
    related=1,
):
    """Write a small valid seed `name`.md into `folder`."""
    lines = [
        "---",
        "category: news",
        f'title: "{title}"',
        f'excerpt: "{excerpt}"',
        f"publishedDateTime: {published}",
        f'webUrl: "https://example.com/{name}"',
        f"heat: {heat}",
        "provider:",
        f"  name: {provider}",
        f"  domain: {domain}",
    ]
    if quality is not None:
        lines.append(f"quality: {quality}")
    if topics:
        lines += ["topics:"] + [f"  - {topic}" for topic in topics]
    lines += ["related:"]
    for number in range(1, related + 1):
        lines += [f"  - title: R{number}", f"    webUrl: https://r.example/{number}"]
    lines += ["---", ""]
    (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


def import_stories(folder, names) -> list[int]:
    """Import a small seed titled "Story NAME" for each name; the articles' ids, in id order."""
    for name in names:
        write_seed(folder, name, title=f"Story {name}")
    import_paths([str(folder)], max_bytes=2**21)
    return db.session.scalars(select(Article.id).order_by(Article.id)).all()


def real_seed_titled(title: str, **replacements) -> str:
    """The real seed's text under another title, with other replacements (old=new) made too."""
    text = REAL_SEED.read_text(encoding="utf-8").replace(
        "Met Police roll out facial recognition technology to tackle London’s shoplifting", title
    )
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def screenshots(page, name, full_page=False):
    """Picture the page at each of VIEWPORTS into docs/screenshots: NAME.png at the widest, NAME-WIDTH.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in sorted(VIEWPORTS.items(), reverse=True):
        page.set_viewport_size({"width": width, "height": height})
        suffix = "" if width == max(VIEWPORTS) else f"-{width}"
        page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png", full_page=full_page)


def queue_with(page, title):
    """Open the queue on the one row titled `title`, marking the page to catch any reload."""
    page.goto(f"/?status=all&q={title}")
    row = page.locator("#queue-rows tr.row", has_text=title)
    expect(row).to_have_count(1)
    page.evaluate("window.copydeskMarker = 'still here'")
    return row


def approve_some(logged_in_page, story, count=3, **replacements):
    """Import `count` new stories (with `replacements` in their text) and approve each as maria."""
    titles = [story(**replacements) for _ in range(count)]
    page = logged_in_page("maria")
    for title in titles:
        page.goto(f"/?q={title}")
        page.locator("#queue-rows a[data-open]", has_text=title).click()
        page.locator("#panel").get_by_role("button", name="Approve", exact=True).click()
        expect(page.locator("#panel .status")).to_have_text("Approved")
    page.context.close()


def shown_alert(page):
    """The page's alert that says something: base.html's #session-ended waits empty on every page,
    hidden by the stylesheet, which a busy server may not have sent yet."""
    return page.get_by_role("alert").filter(has_text=re.compile(r"\S"))


def assert_no_reload(page):
    """The page marked by `queue_with` was never reloaded."""
    assert page.evaluate("window.copydeskMarker") == "still here"


def reject_by_keyboard(page, reason: str = ""):
    """`r` on the focused row (or the open article): the cursor goes to the reason, Enter rejects.

    The decision buttons are held a moment after an article opens (the double-click guard), and Enter
    in the reason submits through its Reject button: wait until it is enabled.
    """
    page.keyboard.press("r")
    reason_box = page.locator('#panel input[name="reason"]')
    expect(reason_box).to_be_focused()
    if reason:
        page.keyboard.type(reason)
    expect(page.locator('#panel [data-action="reject"]')).to_be_enabled()
    page.keyboard.press("Enter")


def seed_bytes(name: str) -> bytes:
    """A small valid seed `name`, as a file's bytes."""
    return (
        f'---\ncategory: news\ntitle: "Story {name}"\nexcerpt: "E"\npublishedDateTime: 2023-10-19T13:22:00Z\n'
        f'webUrl: "https://example.com/{name}"\nprovider:\n  name: Example\nrelated: []\n---\n'
    ).encode()


def zipped(entries: dict) -> bytes:
    """A zip of `entries`: a name (or a ZipInfo) -> its bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Uploaded:
    """An uploaded file as the request hands it to services/uploads.py (werkzeug's FileStorage)."""

    def __init__(self, filename: str, data: bytes):
        self.filename, self.data = filename, data

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)
