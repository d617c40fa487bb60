"""The template filters: relative times, durations, UTC times and the dashboard's figures."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import render_template_string
from werkzeug.routing import BuildError

from webapp.web.templating import ago, duration, stat, utc

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (0, "0 s ago"),
        (59, "59 s ago"),
        (59.9, "59 s ago"),
        (60, "1 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h ago"),
        (86399, "23 h ago"),
        (86400, "1 d ago"),
        (30 * 86400 - 1, "29 d ago"),
        (30 * 86400, "8 Feb 2026"),
        (400 * 86400, "3 Feb 2025"),
        (-1, "in the future"),
        (-86400, "in the future"),
    ],
)
def test_ago_counts_seconds_minutes_hours_days_then_gives_the_date(seconds, shown):
    assert ago(NOW - timedelta(seconds=seconds), NOW) == shown


def test_ago_is_relative_to_the_clock_when_no_now_is_given():
    assert ago(datetime.now(UTC) - timedelta(hours=3, minutes=1)) == "3 h ago"


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h 0 min"),
        (2 * 3600 + 5 * 60 + 59, "2 h 5 min"),
        (86399, "23 h 59 min"),
        (86400, "1 d 0 h"),
        (3 * 86400 + 4 * 3600 + 59 * 60, "3 d 4 h"),
        (45 * 86400, "45 d 0 h"),
    ],
)
def test_duration_in_the_two_largest_units(seconds, shown):
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2023, 10, 19, 13, 22, 59, 999999, tzinfo=UTC),
        datetime(2023, 10, 19, 15, 22, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(2023, 10, 19, 8, 22, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_utc_gives_the_minute_in_utc_whatever_the_zone(moment):
    assert utc(moment) == "2023-10-19 13:22 UTC"


@pytest.mark.parametrize(
    "value, format, shown",
    [
        (None, "int", "—"),
        (None, "percent", "—"),
        (0, "int", "0"),
        (1234567, "int", "1,234,567"),
        (0.5, "percent", "50.0%"),
        (2 / 3, "percent", "66.7%"),
        (0, "percent", "0.0%"),
        (0, "duration", "0 s"),
        (7500, "duration", "2 h 5 min"),
        ("maria", "text", "maria"),
    ],
)
def test_stat_shows_a_figure_in_its_format(value, format, shown):
    assert stat(value, format) == shown


def test_templates_have_the_filters(app):
    with app.test_request_context():
        html = render_template_string(
            "{{ at|ago(now) }}|{{ at|utc }}|{{ rate|stat('percent') }}|{{ seconds|stat('duration') }}",
            at=NOW - timedelta(minutes=5),
            now=NOW,
            rate=0.25,
            seconds=90,
        )
    assert html == "5 min ago|2026-03-10 11:55 UTC|25.0%|1 min"


def test_url_for_in_templates_builds_each_path_once_and_keeps_the_script_root_and_options(app):
    render = (
        "{{ url_for('articles.show', article_id=7) }}|{{ url_for('queue.index', status='all', q='a b') }}"
    )
    with app.test_request_context():
        assert render_template_string(render) == "/articles/7|/?status=all&amp;q=a+b"
        assert render_template_string("{{ url_for('articles.show', article_id=7, _external=True) }}") == (
            "http://localhost/articles/7"
        )
        assert render_template_string("{{ url_for('articles.show', article_id=8, _anchor='x') }}") == (
            "/articles/8#x"
        )
    # The same path under another mount point is that mount point's, not the one remembered above.
    with app.test_request_context(base_url="http://localhost/desk/"):
        assert render_template_string(render) == "/desk/articles/7|/desk/?status=all&amp;q=a+b"
    with app.test_request_context():
        assert render_template_string("{{ url_for('articles.show', article_id=7) }}") == "/articles/7"
        with pytest.raises(BuildError):
            render_template_string("{{ url_for('articles.show') }}")


def test_each_macro_global_is_its_librarys_and_the_library_runs_once(app, monkeypatch):
    from webapp.web.templating import MACROS

    runs = []
    make_module = app.jinja_env.template_class.make_module
    monkeypatch.setattr(
        app.jinja_env.template_class,
        "make_module",
        lambda template, *args, **kwargs: (
            runs.append(template.name) or make_module(template, *args, **kwargs)
        ),
    )
    with app.test_request_context():
        for library, names in MACROS.items():
            module = app.jinja_env.get_template(library).module
            for name in names:
                assert callable(getattr(module, name)), f"{library} has no macro {name}"
        runs.clear()
        page = "{{ field_error('q', {'q': '<b>bad</b>'}) }}{{ field_errors_oob(['q'], {}) }}"
        for _ in range(3):
            shown = render_template_string(page)
        assert shown == (
            '<span class="error" id="error-q" role="alert">&lt;b&gt;bad&lt;/b&gt;</span>'
            '<template><span class="error" id="error-q" role="alert" hx-swap-oob="true"></span></template>'
        )
        assert runs.count("_field_error.html") <= 1


def test_no_template_imports_a_macro_library_again(app):
    from webapp.web.templating import MACROS

    for path in Path(app.template_folder).rglob("*.html"):
        text = path.read_text()
        for library in MACROS:
            assert f'from "{library}"' not in text and f'import "{library}"' not in text, (
                f"{path.name} imports {library}: its macros are globals (webapp/web/templating.py)"
            )


def test_templates_hold_the_globals_as_a_dict_with_every_global_the_app_adds(app):
    from webapp.web.templating import MACROS

    with app.test_request_context():
        template = app.jinja_env.get_template("queue/_counts.html")
        # A plain dict, copied into each render's context in one call (a ChainMap is copied key by key).
        assert type(template.globals) is dict
        added = {
            "url_for",
            "csrf_token",
            "PENDING",
            "rows_html",
            *(n for names in MACROS.values() for n in names),
        }
        assert added <= template.globals.keys()
        assert render_template_string("{{ PENDING }} {{ url_for('queue.index') }}") == "pending /"
