"""Times as moderators read them: "5 min ago" beside a date (no database, no Flask)."""

from datetime import UTC, datetime


def ago(moment: datetime, now: datetime | None = None) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 d ago", then the date."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for limit, unit, size in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600), (86400 * 30, "d", 86400)):
        if seconds < limit:
            return f"{seconds // size} {unit} ago"
    return moment.strftime("%-d %b %Y")
