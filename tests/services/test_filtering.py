"""What the four filter families share: days, keyset cursors, the topic and moderator conditions."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select

from webapp.models import PENDING, Article, Topic, article_topics, db
from webapp.services import audit_log, listing
from webapp.services.filtering import (
    InvalidCursor,
    InvalidDay,
    InvalidParameter,
    end_of_day,
    format_cursor,
    has_topic,
    moderator_id,
    parse_cursor,
    parse_day,
    parse_days,
    parse_id,
    parse_int,
    parse_time,
    parse_version,
    start_of_day,
)


@pytest.mark.parametrize("text", ["2023-10-19", " 2023-10-19 ", "2023-10-19\n"])
def test_parse_day_reads_an_iso_day(text):
    assert parse_day(text, "From") == date(2023, 10, 19)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_parse_day_of_nothing_is_none(text):
    assert parse_day(text, "From") is None


@pytest.mark.parametrize("text", ["2023-13-01", "yesterday", "19/10/2023", "2023-10-19T13:22:00"])
def test_parse_day_names_the_field_and_the_value(text):
    with pytest.raises(InvalidDay) as refused:
        parse_day(f" {text} ", "Approved from")
    assert str(refused.value) == f"Approved from: {text!r} is not a date like 2023-10-19."


def test_parse_days_gives_every_field_and_a_message_per_bad_one():
    days, errors = parse_days(
        {"from": "2023-10-19", "to": "someday", "other": "2023-01-01"}, {"from": "From", "to": "To"}
    )
    assert days == {"from": date(2023, 10, 19), "to": None}
    assert errors == {"to": "To: 'someday' is not a date like 2023-10-19."}
    assert parse_days({}, {"from": "From", "to": "To"}) == ({"from": None, "to": None}, {})


def test_parse_days_names_a_range_that_ends_before_it_starts_on_its_last_field():
    labels = {"approved_from": "Approved from", "approved_to": "Approved to"}
    days, errors = parse_days({"approved_from": "2024-02-01", "approved_to": "2024-01-31"}, labels)
    assert days == {"approved_from": date(2024, 2, 1), "approved_to": date(2024, 1, 31)}
    assert errors == {"approved_to": "Approved to: must be on or after Approved from."}
    assert parse_days({"approved_from": "2024-02-01", "approved_to": "2024-02-01"}, labels)[1] == {}


def test_parse_days_can_require_every_field():
    days, errors = parse_days({"to": "nope"}, {"from": "From", "to": "To"}, required=True)
    assert days == {"from": None, "to": None}
    assert errors == {
        "from": "From: a date like 2023-10-19 is needed.",
        "to": "To: 'nope' is not a date like 2023-10-19.",
    }
    assert parse_days({"from": "2023-10-19"}, {"from": "From"}, required=True) == (
        {"from": date(2023, 10, 19)},
        {},
    )


def test_a_day_starts_and_ends_at_utc_midnight():
    assert start_of_day(date(2023, 10, 19)) == datetime(2023, 10, 19, tzinfo=UTC)
    assert start_of_day(date(2023, 10, 19)).tzinfo is UTC
    assert end_of_day(date(2023, 10, 19)) == datetime(2023, 10, 20, tzinfo=UTC)
    assert end_of_day(date(2023, 12, 31)) == datetime(2024, 1, 1, tzinfo=UTC)
    assert end_of_day(date(2024, 2, 28)) == datetime(2024, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, kind",
    [
        (datetime(2023, 10, 19, 13, 22, 5, 123456, tzinfo=UTC), datetime),
        (datetime(2023, 10, 19, 13, 22, tzinfo=timezone(timedelta(hours=2))), datetime),
        (120, int),
        (-1, int),
        (0, int),
    ],
)
def test_a_cursor_round_trips(value, kind):
    cursor = format_cursor(value, 42)
    assert parse_cursor(cursor, kind) == (value, 42)


def test_a_cursor_is_the_value_then_the_id():
    assert format_cursor(datetime(2023, 10, 19, tzinfo=UTC), 7) == "2023-10-19T00:00:00+00:00~7"
    assert format_cursor(-1, 7) == "-1~7"


@pytest.mark.parametrize(
    "cursor, kind",
    [
        ("nonsense", int),
        ("", datetime),
        ("x~1", int),
        ("5~y", int),
        ("5~", int),
        ("2023-01-01~y", datetime),
        ("2023-10-19T00:00:00~7", datetime),  # no zone: no page of ours wrote it
        ("2023-10-19T00:00:00+00:00~7", int),
        ("12~7", datetime),
    ],
)
def test_a_cursor_no_page_produced_is_refused(cursor, kind):
    with pytest.raises(InvalidCursor) as refused:
        parse_cursor(cursor, kind)
    assert refused.value.args == (cursor,)


def test_the_queue_and_the_audit_log_refuse_bad_cursors_alike(app):
    with pytest.raises(InvalidCursor):
        listing.queue_page(listing.QueueFilters(), "garbage", timedelta(hours=48))
    with pytest.raises(InvalidCursor):
        audit_log.audit_page(audit_log.AuditFilters(), "garbage")


def _article(name: str, topics=(), decided_by=None) -> int:
    moment = datetime(2023, 10, 19, tzinfo=UTC)
    row = Article(
        identity=name,
        source_name=f"{name}.md",
        content_hash=name,
        source_text="---\n---\n",
        category="news",
        title=name,
        published_at=moment,
        web_url=f"https://e.example/{name}",
        provider_name="P",
        key_order=[],
        body="",
        status=PENDING,
        heat=-1,
        imported_at=moment,
        updated_at=moment,
        decided_by_id=decided_by,
    )
    db.session.add(row)
    db.session.flush()
    for position, topic in enumerate(topics):
        db.session.execute(
            article_topics.insert().values(article_id=row.id, topic_id=topic.id, position=position)
        )
    return row.id


def test_has_topic_takes_a_value_or_a_bound_parameter(app):
    ai, vision = Topic(name="AI"), Topic(name="Vision")
    db.session.add_all([ai, vision])
    db.session.flush()
    both, only_ai, none = _article("both", [ai, vision]), _article("ai", [ai]), _article("none")
    ids = select(Article.id).order_by(Article.id)
    assert db.session.scalars(ids.where(has_topic("AI"))).all() == [both, only_ai]
    assert db.session.scalars(ids.where(has_topic("Vision"))).all() == [both]
    assert db.session.scalars(ids.where(has_topic("Gardening"))).all() == []
    assert db.session.scalars(ids.where(~has_topic("AI"))).all() == [none]
    bound = ids.where(has_topic(bindparam("topic")))
    assert db.session.scalars(bound, {"topic": "Vision"}).all() == [both]


def test_moderator_id_is_the_user_of_that_name_or_nothing(app, make_user):
    maria, lena = make_user("maria"), make_user("lena", "lead")
    by_maria, by_lena = _article("m", decided_by=maria.id), _article("l", decided_by=lena.id)
    ids = select(Article.id).order_by(Article.id)
    assert db.session.scalar(select(moderator_id("lena"))) == lena.id
    assert db.session.scalars(ids.where(Article.decided_by_id == moderator_id("maria"))).all() == [by_maria]
    assert db.session.scalars(ids.where(Article.decided_by_id == moderator_id("lena"))).all() == [by_lena]
    assert db.session.scalars(ids.where(Article.decided_by_id == moderator_id("nobody"))).all() == []


@pytest.mark.parametrize("text", ["²", "٣", "9" * 5000, "1.5", "", " ", "0x10", "+1", "1e3"])
def test_parse_int_refuses_what_is_not_ascii_digits(text):
    with pytest.raises(InvalidParameter, match="^Count: .* is not a whole number"):
        parse_int(text, "Count")


@pytest.mark.parametrize("text", [str(2**31), str(-(2**31) - 1), str(2**63)])
def test_parse_int_refuses_what_postgresql_integer_cannot_hold(text):
    with pytest.raises(InvalidParameter, match="^Count: .* is not between"):
        parse_int(text, "Count")


def test_parse_int_id_and_version_read_numbers_in_range():
    assert parse_int("-5", "n") == -5
    assert parse_id(str(2**31 - 1), "id") == 2**31 - 1
    assert parse_version("0") == 0
    with pytest.raises(InvalidParameter, match="id: 0 is not between 1"):
        parse_id("0", "id")
    with pytest.raises(InvalidParameter, match="reload the page"):
        parse_version("²")


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01"])
def test_parse_day_refuses_the_ends_of_the_calendar(text):
    # The day after 9999-12-31 does not exist: the end of that day would overflow.
    with pytest.raises(InvalidDay, match="^To: .* is outside the calendar"):
        parse_day(text, "To")


def test_parse_time_is_aware_utc_and_inside_the_calendar():
    assert parse_time("2023-10-19T15:22:00+02:00", "since") == datetime(2023, 10, 19, 13, 22, tzinfo=UTC)
    for text, reason in [
        ("2023-10-19T13:22:00", "has no time zone"),
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("9999-12-31T23:59:59-14:00", "outside the calendar"),
        ("yesterday", "is not a date and time"),
    ]:
        with pytest.raises(InvalidParameter, match=f"^since: .*{reason}"):
            parse_time(text, "since")


@pytest.mark.parametrize(
    "cursor, kind",
    [(f"{2**31}~1", int), (f"1~{2**31}", int), ("²~1", int), ("0001-01-01T00:00:00+14:00~1", datetime)],
)
def test_a_cursor_past_the_database_or_the_calendar_is_refused(cursor, kind):
    with pytest.raises(InvalidCursor):
        parse_cursor(cursor, kind)
