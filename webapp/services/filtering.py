"""What the queue, audit log, stats and export filters share: days, keyset cursors, topic and moderator.

A bad day is reported in one style, naming the field as its form labels it:
`From: '2023-13-01' is not a date like 2023-10-19.` Every number, id and time a request
carries goes through a parser here too (`parse_int`, `parse_id`, `parse_version`, `parse_time`):
each refuses what the database cannot hold, with an `InvalidParameter` naming the parameter,
which the web layer answers with a 400.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, or_, select

from ..models import Article, Provider, Topic, User, article_topics

DAY_EXAMPLE = "2023-10-19"
TIME_EXAMPLE = "2023-10-19T13:22:00+00:00"
# PostgreSQL's `integer`, the type of every id, version, position, heat and quality column.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# A day one step inside the calendar, so its midnight, the midnight after it and any zone stay in range.
FIRST_DAY, LAST_DAY = date.min + timedelta(days=1), date.max - timedelta(days=1)


class InvalidParameter(ValueError):
    """A request's parameter that is not what it should be; the message names it."""


class InvalidDay(InvalidParameter):
    """A filter's day that is not a date; the message names the field."""


class InvalidCursor(InvalidParameter):
    """An `after=` value that no page of ours produced."""


def parse_day(text: str | None, label: str) -> date | None:
    """The day `text` gives (ISO, like 2023-10-19), None when blank; InvalidDay naming `label` otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidDay(f"{label}: {_shown(text)} is not a date like {DAY_EXAMPLE}.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidDay(f"{label}: {text!r} is outside the calendar we keep ({FIRST_DAY} to {LAST_DAY}).")
    return day


def parse_int(text: str | None, label: str, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int:
    """The whole number `text` writes in ASCII digits, from `minimum` to `maximum`; InvalidParameter else."""
    text = (text or "").strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
        raise InvalidParameter(f"{label}: {_shown(text) if text else 'nothing'} is not a whole number.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise InvalidParameter(f"{label}: {value} is not between {minimum} and {maximum}.")
    return value


def parse_id(text: str | None, label: str) -> int:
    """A row's number (an article's, an event's): 1 up to the database's largest integer."""
    return parse_int(text, label, 1, INT_MAX)


def parse_version(text: str | None) -> int:
    """The article version a form was made from; the message says to reload."""
    try:
        return parse_int(text, "version", 0, INT_MAX)
    except InvalidParameter:
        raise InvalidParameter(
            "The form did not say which version of the article it was made from: "
            "reload the page and try again."
        ) from None


def parse_time(text: str | None, label: str) -> datetime:
    """An ISO 8601 time with its zone (like 2023-10-19T13:22:00+00:00), in UTC, inside the calendar."""
    text = (text or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            f"{label}: {_shown(text)} is not a date and time like {TIME_EXAMPLE}."
        ) from None
    if moment.tzinfo is None:
        raise InvalidParameter(f"{label}: {text!r} has no time zone; write it like {TIME_EXAMPLE}.")
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise InvalidParameter(
            f"{label}: {text!r} is outside the calendar we keep ({FIRST_DAY} to {LAST_DAY})."
        )
    return moment.astimezone(UTC)


def _shown(text: str) -> str:
    """The value as a message quotes it: at most 40 characters of it."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def parse_days(
    args, labels: dict[str, str], *, required: bool = False
) -> tuple[dict[str, date | None], dict[str, str]]:
    """The days of the fields `labels` names (name -> label) in `args`, and a message per bad field.

    Two fields are a range, first day then last (both included): a last day before the first is
    named on the last field.
    """
    days, errors = {}, {}
    for name, label in labels.items():
        try:
            days[name] = parse_day(args.get(name), label)
        except InvalidDay as error:
            days[name], errors[name] = None, str(error)
        else:
            if required and days[name] is None:
                errors[name] = f"{label}: a date like {DAY_EXAMPLE} is needed."
    if len(labels) == 2:
        (first, first_label), (last, last_label) = labels.items()
        if days[first] and days[last] and days[last] < days[first]:
            errors[last] = f"{last_label}: must be on or after {first_label}."
    return days, errors


def start_of_day(day: date) -> datetime:
    """The first moment of a day: its midnight, UTC."""
    return datetime.combine(day, time(), tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The end of a day, as an exclusive bound: the UTC midnight after it."""
    return start_of_day(day + timedelta(days=1))


def format_cursor(value: datetime | int, row_id: int) -> str:
    """A keyset cursor for the row after which the next page starts: its sort value and its id."""
    return f"{value.isoformat() if isinstance(value, datetime) else value}~{row_id}"


def parse_cursor(cursor: str, kind: type[datetime] | type[int]) -> tuple[datetime | int, int]:
    """The sort value (a `kind`) and id a `format_cursor` cursor holds; InvalidCursor for anything else."""
    try:
        raw_value, raw_id = cursor.rsplit("~", 1)
        value = parse_time(raw_value, "after") if kind is datetime else parse_int(raw_value, "after")
        return value, parse_id(raw_id, "after")
    except ValueError:
        raise InvalidCursor(cursor) from None


def has_topic(name) -> ColumnElement[bool]:
    """The article has the topic `name`: a value, or a bindparam for a statement built once."""
    return (
        select(article_topics.c.article_id)
        .join(Topic, Topic.id == article_topics.c.topic_id)
        .where(article_topics.c.article_id == Article.id, Topic.name == name)
        .exists()
    )


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains `text`": its own %, _ and backslash stand for themselves."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def provider_pattern(text: str) -> str:
    """The `provider_matches` pattern for "the provider's name or domain holds `text`, in any case"."""
    return contains_pattern(text.lower())


def provider_matches(pattern: str | BindParameter) -> ColumnElement[bool]:
    """The article's provider name or domain matches `pattern` (a `provider_pattern`).

    The provider filter of the queue, the stats and the export alike: "sunday" finds The Sunday
    Times, "metro" finds metro.co.uk, in any case (SQLite folds the case of ASCII letters only).
    The names come from the providers table (a few thousand rows at most), never from a scan of
    the articles, which are then read through their provider name and domain indexes.
    """
    return or_(
        Article.provider_name.in_(select(Provider.name).where(Provider.name_key.like(pattern, escape="\\"))),
        Article.provider_domain.in_(
            select(Provider.domain).where(Provider.domain_key.like(pattern, escape="\\"))
        ),
    )


def moderator_id(username: str) -> ScalarSelect:
    """The id of the user with this name, as a subquery (NULL, so matching nothing, if there is none)."""
    return select(User.id).where(User.username == username).scalar_subquery()
