"""Jinja filters and globals: times, heat, action phrases, and which URLs may become links."""

import unicodedata
from datetime import UTC, datetime

from flask import current_app
from flask.templating import Environment

from ..formats.charts import sample_mark, svg_shapes
from ..formats.seeds import HEAT_UNSET, first_image_url, heat_label, image_src, is_http_url
from ..formats.times import ago
from ..models import PENDING, STATUSES
from ..services.actions import done_phrase
from .rendering import remembered_url_for, rows_html, rows_oob_html


def stat(value, format: str = "int") -> str:
    """A figure as the dashboard shows it: counts with separators, rates in percent, durations in words."""
    if value is None:
        return "—"
    if format in ("percent", "rate"):
        return f"{value:.1%}"
    if format == "duration":
        return duration(value)
    if format == "int":
        return f"{value:,}"
    return str(value)


def duration(seconds: int) -> str:
    """3 min, 2 h 5 min, 3 d 4 h."""
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} d {hours - days * 24} h"
    if hours:
        return f"{hours} h {minutes - hours * 60} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def filesize(size: int) -> str:
    """2 MiB, 1 GiB, 512 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.3g} {unit}"
    return f"{size:,} bytes"


def visible(text: str) -> str:
    """`text` with its invisible characters spelled out: a file name's control characters, bidi overrides
    and zero-width spaces as `\\u202e`, so that it reads as it is rather than as it would like to look."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )


def shown_image(images: list | None) -> str | None:
    """The URL to show of a seed's (or related entry's) images: the first, if https and SHOW_IMAGES is on."""
    if not current_app.config["SHOW_IMAGES"]:
        return None
    return image_src(first_image_url(images))


def sentence(text: str) -> str:
    """A service's message as a page shows it: "password must be …" becomes "Password must be …."."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def init_app(app) -> None:
    app.add_template_filter(ago)
    app.add_template_filter(stat)
    app.add_template_filter(duration)
    app.add_template_filter(filesize)
    app.add_template_filter(utc)
    app.add_template_filter(visible)
    app.add_template_filter(heat_label)
    app.add_template_filter(done_phrase)
    app.add_template_test(is_http_url, "http_url")
    app.add_template_global(PENDING, "PENDING")
    app.add_template_global(shown_image)
    app.add_template_global(sample_mark)
    app.add_template_global(svg_shapes)
    app.add_template_global(rows_html)
    app.add_template_global(rows_oob_html)
    app.add_template_global(HEAT_UNSET, "HEAT_UNSET")
    app.add_template_global({status: status.capitalize() for status in STATUSES}, "STATUS_LABELS")
    app.add_template_global(remembered_url_for, "url_for")
    for library, names in MACROS.items():
        for name in names:
            app.add_template_global(LibraryMacro(app.jinja_env, library, name), name)


class TemplateEnvironment(Environment):
    """Flask's template environment, whose templates hold the globals in a plain dict.

    Jinja keeps a template's globals in a ChainMap over the environment's, so that globals added
    after the template loaded still show (its documentation asks not to add any then, and the app
    adds all of its own while it is built). Every render copies them into a new context: a ChainMap
    key by key in Python, 45 µs a render on the benchmark machine, and an approve renders six parts;
    a dict in one C call.
    """

    def make_globals(self, d):
        return {**self.globals, **(d or {})}


# The templates' macros, as globals: each library runs once, on first use. A `{% from %}` would run
# it again on every render (Jinja does whenever the context holds globals the library lacks, as
# Flask's request, g and session always are): a panel imported five, at 20-30 µs each.
MACROS = {
    "_field_error.html": ("field_error", "described_by", "field_errors_oob"),
    "_choice.html": ("choice_select", "provider_field"),
    "articles/_action_fields.html": ("action_fields",),
}


class LibraryMacro:
    """One macro of a template library, the library loaded when first called (not when the app is made)."""

    def __init__(self, environment, library: str, name: str):
        self.environment, self.library, self.name = environment, library, name
        self._macro = None

    def __call__(self, *args, **kwargs):
        if self._macro is None:
            self._macro = getattr(self.environment.get_template(self.library).module, self.name)
        return self._macro(*args, **kwargs)


def utc(moment: datetime) -> str:
    """The absolute time, for tooltips and history: 2023-10-19 13:22 UTC."""
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="minutes")[:16] + " UTC"
