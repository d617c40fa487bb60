"""What the queue, audit log, stats and export filters share: days, keyset cursors, topic and moderator.

A bad day is reported in one style, naming the field as its form labels it:
`From: '2023-13-01' is not a date like 2023-10-19.`
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, select

from ..models import Article, Topic, User, article_topics

DAY_EXAMPLE = "2023-10-19"


class InvalidDay(ValueError):
    """A filter's day that is not a date; the message names the field."""


class InvalidCursor(ValueError):
    """An `after=` value that no page of ours produced."""


def parse_day(text: str | None, label: str) -> date | None:
    """The day `text` gives (ISO, like 2023-10-19), None when blank; InvalidDay naming `label` otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDay(f"{label}: {text!r} is not a date like {DAY_EXAMPLE}.") from None


def parse_days(
    args, labels: dict[str, str], *, required: bool = False
) -> tuple[dict[str, date | None], dict[str, str]]:
    """The days of the fields `labels` names (name -> label) in `args`, and a message per bad field."""
    days, errors = {}, {}
    for name, label in labels.items():
        try:
            days[name] = parse_day(args.get(name), label)
        except InvalidDay as error:
            days[name], errors[name] = None, str(error)
        else:
            if required and days[name] is None:
                errors[name] = f"{label}: a date like {DAY_EXAMPLE} is needed."
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
        value = datetime.fromisoformat(raw_value) if kind is datetime else int(raw_value)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("a cursor's time has a zone")
        return value, int(raw_id)
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


def moderator_id(username: str) -> ScalarSelect:
    """The id of the user with this name, as a subquery (NULL, so matching nothing, if there is none)."""
    return select(User.id).where(User.username == username).scalar_subquery()
