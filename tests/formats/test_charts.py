"""The dashboard's chart geometry: round scales, even ticks, stacked columns, bars and lines in their box."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.formats.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    LINE_STEP,
    RIGHT,
    TOP,
    WIDTH,
    Shape,
    _nice_max,
    bars,
    dashboard_figures,
    line,
    stacked_columns,
    svg_shapes,
)

BASELINE = HEIGHT - BOTTOM
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
SERIES = [("approved", "Approved", "approved"), ("rejected", "Rejected", "rejected")]


def of_kind(chart, kind, css=None):
    return [shape for shape in chart.shapes if shape.kind == kind and (css is None or shape.css == css)]


def tick_labels(chart):
    return [shape.text for shape in of_kind(chart, "text", "tick") if shape.anchor == "end"]


def days(*counts):
    return [
        {"day": f"2026-03-{index + 1:02d}", "approved": approved, "rejected": rejected}
        for index, (approved, rejected) in enumerate(counts)
    ]


@pytest.mark.parametrize(
    "value, top",
    [
        (0, 4),
        (3, 4),
        (4, 4),
        (5, 5),
        (7, 10),
        (10, 10),
        (11, 20),
        (21, 25),
        (26, 50),
        (101, 200),
        (1234, 2000),
    ],
)
def test_the_scale_tops_out_at_a_round_number(value, top):
    assert _nice_max(value) == top


@given(st.integers(5, 10**9))
def test_the_scale_holds_the_value_and_wastes_less_than_half_the_height(value):
    assert value <= _nice_max(value) < 2 * value


def test_ticks_are_five_even_steps_from_the_baseline_to_the_top_of_the_plot():
    chart = stacked_columns("c", "C", days((12, 8), (3, 1)), "day", SERIES, "Day", "Decisions")
    assert tick_labels(chart) == ["0", "5", "10", "15", "20"]
    grid = of_kind(chart, "line", "grid")
    assert [line.y for line in grid] == [BASELINE - PLOT_HEIGHT * step / 4 for step in range(5)]
    assert {(line.x, line.width) for line in grid} == {(LEFT, WIDTH - LEFT - RIGHT)}


def test_stacked_columns_stand_on_the_baseline_in_proportion_and_abut():
    chart = stacked_columns("c", "C", days((3, 1), (0, 2)), "day", SERIES, "Day", "Decisions")
    approved, rejected = of_kind(chart, "rect", "approved"), of_kind(chart, "rect", "rejected")
    assert len(approved) == 1 and len(rejected) == 2  # a zero count draws nothing
    assert approved[0].height == PLOT_HEIGHT * 3 / 4 and approved[0].y + approved[0].height == BASELINE
    assert rejected[0].y + rejected[0].height == approved[0].y and rejected[0].y == TOP
    assert rejected[1].y + rejected[1].height == BASELINE and rejected[1].height == PLOT_HEIGHT * 2 / 4
    assert approved[0].x == rejected[0].x < rejected[1].x and approved[0].width == rejected[1].width
    assert rejected[1].x + rejected[1].width < WIDTH - RIGHT
    assert (approved[0].tip, rejected[1].tip) == ("2026-03-01: 3 approved", "2026-03-02: 2 rejected")
    assert chart.legend == [("Approved", "approved"), ("Rejected", "rejected")]


def test_long_axes_label_every_few_columns_in_their_short_form():
    chart = stacked_columns(
        "c", "C", days(*[(1, 1)] * 30), "day", SERIES, "Day", "Decisions", short_label=lambda day: day[5:]
    )
    labels = [shape.text for shape in of_kind(chart, "text", "tick") if shape.anchor == "middle"]
    assert labels == [f"03-{day:02d}" for day in range(1, 31, 3)]
    few = stacked_columns(
        "c", "C", days(*[(1, 1)] * 12), "day", SERIES, "Day", "Decisions", short_label=lambda day: day[5:]
    )
    assert len([shape for shape in of_kind(few, "text", "tick") if shape.anchor == "middle"]) == 12
    # Whole dates are too wide for twelve columns side by side: every other one.
    whole = stacked_columns("c", "C", days(*[(1, 1)] * 12), "day", SERIES, "Day", "Decisions")
    assert len([shape for shape in of_kind(whole, "text", "tick") if shape.anchor == "middle"]) == 6


def test_bars_are_as_long_as_their_value_on_the_scale():
    rows = [{"name": "maria", "n": 20}, {"name": "lee", "n": 5}, {"name": "sam", "n": 0}]
    chart = bars("b", "B", rows, "name", "n", "decided", "Decisions")
    widths = [rect.width for rect in of_kind(chart, "rect", "decided")]
    assert widths[0] == 4 * widths[1] and widths[2] == 0.5  # a zero still shows a sliver
    assert len({rect.x for rect in of_kind(chart, "rect")}) == 1
    assert [shape.text for shape in of_kind(chart, "text", "value")] == ["20", "5", "0"]
    assert [shape.text for shape in of_kind(chart, "text", "tick")][:5] == ["0", "5", "10", "15", "20"]
    assert chart.height == TOP + 22 * 3 + BOTTOM
    assert bars("b", "B", rows * 4, "name", "n", "decided", "Decisions").height == TOP + 22 * 12 + BOTTOM


def test_bars_in_percent_run_to_100_and_treat_no_value_as_zero():
    rows = [{"outlet": "bbc.co.uk", "rate": 0.5}, {"outlet": "example.com", "rate": None}]
    chart = bars("p", "P", rows, "outlet", "rate", "approved", "Approval rate", as_percent=True)
    ticks = [shape.text for shape in of_kind(chart, "text", "tick") if shape.anchor == "middle"]
    assert ticks == ["0%", "25%", "50%", "75%", "100%"]
    half, none = of_kind(chart, "rect", "approved")
    assert (half.tip, none.tip, none.width) == ("bbc.co.uk: 50%", "example.com: 0%", 0.5)
    full_width = of_kind(chart, "line", "grid")[-1].x - half.x
    assert half.width == full_width / 2


def test_long_bar_names_are_cut_with_the_whole_name_as_a_tip():
    name = "A topic with a name far too long for the margin"
    chart = bars("b", "B", [{"name": name, "n": 1}], "name", "n", "approved", "Approved")
    [label] = [shape for shape in of_kind(chart, "text", "tick") if shape.anchor == "end"]
    assert (label.text, label.tip) == (name[:21] + "…", name)
    assert len(label.text) == 22


def test_a_line_runs_across_the_plot_through_each_value_with_a_dot_on_each():
    rows = [
        {"day": "2026-03-01", "pending": 0},
        {"day": "2026-03-02", "pending": 10},
        {"day": "d3", "pending": 20},
    ]
    chart = line("l", "L", rows, "day", "pending", "pending", "Day", "Pending")
    assert chart.points == f"{LEFT:.1f},{BASELINE:.1f} 342.0,112.0 {WIDTH - RIGHT:.1f},{TOP:.1f}"
    dots = of_kind(chart, "rect", "pending dot")
    assert [(dot.x + 3, dot.y + 3) for dot in dots] == [(56, 196), (342, 112), (628, 28)]
    assert [dot.tip for dot in dots] == ["2026-03-01: 0", "2026-03-02: 10", "d3: 20"]
    assert chart.legend == [("Pending", "pending")]


def test_no_rows_draw_the_axes_and_nothing_else():
    for chart in (
        stacked_columns("c", "C", [], "day", SERIES, "Day", "Decisions"),
        line("l", "L", [], "day", "pending", "pending", "Day", "Pending"),
    ):
        assert tick_labels(chart) == ["0", "1", "2", "3", "4"] and not of_kind(chart, "rect")
    empty_bars = bars("b", "B", [], "name", "n", "approved", "Approved")
    assert not of_kind(empty_bars, "rect") and empty_bars.height == TOP + 22 + BOTTOM
    assert line("l", "L", [], "day", "pending", "pending", "Day", "Pending").points == ""


def test_the_dashboard_has_its_eight_figures_in_reading_order_with_their_tables():
    board = SimpleNamespace(
        per_day=days((1, 0)),
        per_moderator=[
            {"moderator": "maria", "decided": 1, "approved": 1, "rejected": 0, "approval_rate": 1.0}
        ],
        backlog=[{"day": "2026-03-01", "pending": 4}],
        time_to_decision=[{"bucket": "< 1 h", "count": 1}],
        heat=[{"bucket": "0-49", "count": 1}],
        by_topic=[{"name": "AI", "count": 1}],
        by_provider=[{"name": "BBC", "count": 1}],
        per_outlet=[
            {"outlet": "bbc.co.uk", "decided": 1, "approval_rate": 1.0, "median_seconds_to_decision": 90}
        ],
    )
    figures = dashboard_figures(board)
    assert [figure.chart.id for figure in figures] == [
        "per-day",
        "per-moderator",
        "backlog",
        "time-to-decision",
        "heat",
        "by-topic",
        "by-provider",
        "per-outlet",
    ]
    assert all(all(key in row for key, _, _ in figure.columns for row in figure.rows) for figure in figures)
    assert figures[-1].rows[0]["median"] == 90


def test_shapes_are_written_as_svg_with_their_positions_to_a_tenth():
    shapes = [
        Shape("rect", 10, 20.26, 5, 100.04, css="approved", tip="12-03: 5 approved"),
        Shape("line", 56, 196, 572, 0, css="axis"),
        Shape("text", 30.15, 210, text="12-03", css="tick", anchor="end"),
        Shape("text", 30, 210, lines=("10–30", "min"), css="tick"),
    ]
    assert svg_shapes(shapes).splitlines() == [
        '<rect x="10.0" y="20.3" width="5.0" height="100.0" class="approved">'
        "<title>12-03: 5 approved</title></rect>",
        '<line x1="56.0" y1="196.0" x2="628.0" y2="196.0" class="axis"/>',
        '<text x="30.1" y="210.0" text-anchor="end" class="tick">12-03</text>',
        f'<text x="30.0" y="210.0" text-anchor="middle" class="tick"><tspan x="30.0" dy="0">10–30</tspan>'
        f'<tspan x="30.0" dy="{LINE_STEP}">min</tspan></text>',
    ]


def test_shape_texts_and_tips_from_seeds_are_written_as_text():
    hostile = '<script>alert(1)</script>" onload="x'
    markup = svg_shapes(
        [
            Shape("rect", 0, 0, 1, 1, css="bar", tip=hostile),
            Shape("text", 0, 0, text=hostile),
            Shape("text", 0, 0, lines=(hostile, "x")),
        ]
    )
    assert "<script>" not in markup and '" onload="' not in markup
    assert markup.count("&lt;script&gt;alert(1)&lt;/script&gt;&#34; onload=&#34;x") == 3
