"""Tick labels placed by estimated width: wrapped or thinned so none overlaps, each inside the chart's box."""

from hypothesis import given
from hypothesis import strategies as st

from webapp.formats.charts import HEIGHT, LABEL_GAP, LINE_STEP, WIDTH, bars, columns, fit, line, text_width

BUCKETS = [
    "< 10 min",
    "10–30 min",
    "30–60 min",
    "1–2 h",
    "2–6 h",
    "6–12 h",
    "12–24 h",
    "1–2 d",
    "2–7 d",
    "> 7 d",
]


def x_labels(chart):
    return [
        shape
        for shape in chart.shapes
        if shape.kind == "text" and shape.css == "tick" and shape.anchor == "middle"
    ]


def extent(shape):
    half = max(text_width(text) for text in (shape.lines or (shape.text,))) / 2
    return shape.x - half, shape.x + half


def assert_apart_and_inside(chart):
    spans = [extent(shape) for shape in x_labels(chart)]
    assert all(left >= 0 and right <= WIDTH for left, right in spans)
    assert all(right + LABEL_GAP <= left for (_, right), (left, _) in zip(spans, spans[1:], strict=False))


def test_bucket_labels_too_wide_for_their_column_go_on_two_lines_all_of_them_shown():
    chart = columns("t", "T", [{"bucket": b, "count": 1} for b in BUCKETS], "bucket", "count", "c", "X", "Y")
    labels = x_labels(chart)
    assert [shape.text for shape in labels] == BUCKETS
    assert (labels[0].lines, labels[1].lines) == (("< 10", "min"), ("10–30", "min"))
    assert chart.height == HEIGHT + LINE_STEP  # the second line has room above the axis title
    assert_apart_and_inside(chart)


def test_the_last_day_of_a_line_stays_inside_the_box():
    rows = [{"day": f"12-{day:02d}", "n": day} for day in range(1, 4)]
    chart = line("l", "L", rows, "day", "n", "c", "Day", "N")
    last = x_labels(chart)[-1]
    assert last.text == "12-03" and extent(last)[1] <= WIDTH
    assert_apart_and_inside(chart)


@given(st.lists(st.text(alphabet="abcmw 0123456789–-<>%", min_size=1, max_size=24), min_size=1, max_size=40))
def test_any_labels_are_placed_apart_and_inside(labels):
    rows = [{"label": label, "n": 1} for label in labels]
    assert_apart_and_inside(columns("c", "C", rows, "label", "n", "c", "X", "Y"))
    assert_apart_and_inside(line("l", "L", rows, "label", "n", "c", "X", "Y"))


def test_fit_cuts_with_an_ellipsis_to_the_room():
    assert fit("short", 100) == "short"
    cut = fit("A topic with a name far too long for the margin", 142)
    assert cut.endswith("…") and text_width(cut) <= 142


def test_bars_leave_room_for_the_longest_value_with_its_mark():
    rows = [
        {"outlet": "a.example", "rate": 1.0, "decided": 3},
        {"outlet": "b.example", "rate": 0.5, "decided": 40},
    ]
    chart = bars("p", "P", rows, "outlet", "rate", "approved", "Rate", as_percent=True, sample_key="decided")
    values = [shape for shape in chart.shapes if shape.kind == "text" and shape.css.startswith("value")]
    assert [(value.text, value.css) for value in values] == [
        ("100% · 3 decisions", "value small-sample"),
        ("50%", "value"),
    ]
    assert values[0].x + text_width(values[0].text) <= WIDTH
    rects = [shape.css for shape in chart.shapes if shape.kind == "rect"]
    assert rects == ["approved small-sample", "approved"]
