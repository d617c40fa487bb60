"""Jinja filters and globals: times, heat, and which URLs may become links."""

from datetime import datetime, timezone

from .models import PENDING, STATUSES
from .seeds import HEAT_UNSET, is_http_url


def init_app(app) -> None:
    app.add_template_filter(ago)
    app.add_template_filter(utc)
    app.add_template_filter(heat_label)
    app.add_template_test(is_http_url, "http_url")
    app.add_template_global(PENDING, "PENDING")
    app.add_template_global({status: status.capitalize() for status in STATUSES}, "STATUS_LABELS")


def ago(moment: datetime, now: datetime | None = None) -> str:
    """"12 s ago", "5 min ago", "3 h ago", "2 d ago", then the date."""
    seconds = int(((now or datetime.now(timezone.utc)) - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for limit, unit, size in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600), (86400 * 30, "d", 86400)):
        if seconds < limit:
            return f"{seconds // size} {unit} ago"
    return moment.strftime("%-d %b %Y")


def utc(moment: datetime) -> str:
    """The absolute time, for tooltips and history: 2023-10-19 13:22 UTC."""
    return moment.astimezone(timezone.utc).isoformat(sep=" ", timespec="minutes")[:16] + " UTC"


def heat_label(heat: int) -> str:
    """Heat as moderators read it: never -1."""
    return "not set" if heat == HEAT_UNSET else str(heat)
