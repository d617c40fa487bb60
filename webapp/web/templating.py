"""Jinja filters and globals: times, heat, action phrases, and which URLs may become links."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import current_app, request
from flask_login import current_user
from markupsafe import Markup

from ..formats.seeds import HEAT_UNSET, heat_label, is_http_url
from ..models import PENDING, STATUSES
from ..services.actions import done_phrase


def render_rows(rows, now: datetime, stale_after: timedelta) -> Markup:
    """The queue rows' HTML. Each row is rendered once per distinct content, then reused.

    The list is the hottest page, and its rows change far less often than they are shown. The
    key holds everything a row shows: its columns, its relative time, whether it is stale and
    whether someone else claims it; the same content always gives the same markup, in every process.
    """
    template = current_app.jinja_env.get_template("queue/_row.html")
    articles_root = request.script_root + "/articles/"
    stale_before = now - stale_after
    me = current_user.id
    return Markup("\n").join(
        _row_html(
            template,
            row,
            ago(row.published_at, now),
            row.status == PENDING and row.published_at < stale_before,
            bool(row.claimed_by) and row.claimed_by_id != me,
            articles_root,
        )
        for row in rows
    )


@lru_cache(maxsize=8192)
def _row_html(
    template, article, published_ago: str, stale: bool, claimed_by_other: bool, articles_root: str
) -> Markup:
    return Markup(
        template.render(
            article=article,
            published_ago=published_ago,
            stale=stale,
            claimed_by_other=claimed_by_other,
            articles_root=articles_root,
        )
    )


def stat(value, format: str = "int") -> str:
    """A figure as the dashboard shows it: counts with separators, rates in percent, durations in words."""
    if value is None:
        return "—"
    if format == "percent":
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


def init_app(app) -> None:
    app.add_template_filter(ago)
    app.add_template_filter(stat)
    app.add_template_filter(utc)
    app.add_template_filter(heat_label)
    app.add_template_filter(done_phrase)
    app.add_template_test(is_http_url, "http_url")
    app.add_template_global(PENDING, "PENDING")
    app.add_template_global(render_rows)
    app.add_template_global(HEAT_UNSET, "HEAT_UNSET")
    app.add_template_global({status: status.capitalize() for status in STATUSES}, "STATUS_LABELS")


def ago(moment: datetime, now: datetime | None = None) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 d ago", then the date."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for limit, unit, size in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600), (86400 * 30, "d", 86400)):
        if seconds < limit:
            return f"{seconds // size} {unit} ago"
    return moment.strftime("%-d %b %Y")


def utc(moment: datetime) -> str:
    """The absolute time, for tooltips and history: 2023-10-19 13:22 UTC."""
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="minutes")[:16] + " UTC"
