"""Charts as geometry for server-side SVG: the templates draw what these functions place.

No JavaScript and no chart library: every shape is computed here, in a 640 x 240 box, and
`templates/stats/_chart.html` writes it out as SVG with its numbers as a table beside it. The
shapes themselves are written out here (`svg_shapes`): a dashboard has hundreds of them, and a
template spent a quarter of the stats page's time on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 44
TICK_SIZE = 11  # px, the CSS of .tick and .value: what the widths below are estimated for
LINE_STEP = 12  # px between the lines of a tick label wrapped in two
LABEL_GAP = 8  # px at least between two tick labels side by side
MIN_DECISIONS_FOR_RATE = 10  # a rate from fewer decisions is shown with its count: "3 decisions"

# Advance widths in em of DejaVu Sans, the widest of the usual sans-serif fonts, so that a label
# estimated to fit fits in any of them; characters not listed count as a wide letter.
_NARROW = dict.fromkeys(" .,:;'!|ijlrtf·()[]", 0.36)
_WIDE = dict.fromkeys("mwMW%@…<>", 1.0)
_DIGITS = dict.fromkeys("0123456789", 0.64)
_EM = {**dict.fromkeys("abcdeghknopqsuvxyz", 0.63), **_DIGITS, **_NARROW, **_WIDE, "-": 0.37, "–": 0.5}


@dataclass
class Shape:
    kind: str  # rect, line, text
    x: float
    y: float
    width: float = 0
    height: float = 0
    css: str = ""
    text: str = ""
    tip: str = ""
    anchor: str = "middle"
    lines: tuple[str, ...] = ()  # a text in several lines, one under the other (then `text` is unused)


@dataclass
class Chart:
    id: str
    title: str
    x_label: str
    y_label: str
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, css)
    points: str = ""  # a polyline's points, for line charts
    width: int = WIDTH
    height: int = HEIGHT


def svg_shapes(shapes: list[Shape]) -> Markup:
    """The shapes as SVG elements, one a line; every text, tip and class escaped."""
    return Markup("\n".join(map(_shape_svg, shapes)))


def _shape_svg(shape: Shape) -> str:
    css = escape(shape.css)
    tip = f"<title>{escape(shape.tip)}</title>" if shape.tip else ""
    if shape.kind == "rect":
        return (
            f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.width:.1f}" '
            f'height="{shape.height:.1f}" class="{css}">{tip}</rect>'
        )
    if shape.kind == "line":
        return (
            f'<line x1="{shape.x:.1f}" y1="{shape.y:.1f}" x2="{shape.x + shape.width:.1f}" '
            f'y2="{shape.y + shape.height:.1f}" class="{css}"/>'
        )
    if shape.lines:
        text = "".join(
            f'<tspan x="{shape.x:.1f}" dy="{LINE_STEP if number else 0}">{escape(line)}</tspan>'
            for number, line in enumerate(shape.lines)
        )
    else:
        text = escape(shape.text)
    return (
        f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" text-anchor="{escape(shape.anchor)}" '
        f'class="{css}">{text}{tip}</text>'
    )


def _nice_max(value: float) -> float:
    """A round top for an axis of counts, at least 4 so that its 4 ticks are whole numbers."""
    if value <= 4:
        return 4
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _axes(chart: Chart, top_value: float, ticks: int = 4, as_int: bool = True) -> None:
    plot_height = HEIGHT - TOP - BOTTOM
    for index in range(ticks + 1):
        value = top_value * index / ticks
        y = HEIGHT - BOTTOM - plot_height * index / ticks
        chart.shapes.append(Shape("line", LEFT, y, WIDTH - RIGHT - LEFT, 0, "grid"))
        label = f"{value:,.0f}" if as_int else f"{value:,.1f}"
        chart.shapes.append(Shape("text", LEFT - 6, y + 4, text=label, css="tick", anchor="end"))


def text_width(text: str, size: float = TICK_SIZE) -> float:
    """An upper estimate of the width of `text` in px at `size` px, in the usual sans-serif fonts."""
    return size * sum(_EM.get(char, 0.75) for char in text)


def fit(text: str, room: float) -> str:
    """`text` cut with an ellipsis so that it fits in `room` px."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def sample_mark(decided: int | None) -> str | None:
    """What a rate from too few decisions to trust carries instead of standing alone: "3 decisions"."""
    if decided is None or not 0 < decided < MIN_DECISIONS_FOR_RATE:
        return None
    return f"{decided} decision{'' if decided == 1 else 's'}"


def _wrapped(label: str, room: float) -> tuple[str, ...]:
    """The label on one line if it fits in `room`, else split at the space that makes two lines narrowest."""
    if text_width(label) <= room or " " not in label:
        return (label,)
    splits = [(label[:at], label[at + 1 :]) for at, char in enumerate(label) if char == " "]
    return min(splits, key=lambda lines: max(map(text_width, lines)))


def _x_labels(chart: Chart, centres: list[float], labels: list[str]) -> None:
    """Labels under the x axis, centred at `centres`: wrapped in two lines where one is too wide, then
    every k-th only so that none overlaps its neighbour, and each kept inside the chart's box."""
    if not labels:
        return
    spacing = (centres[-1] - centres[0]) / (len(centres) - 1) if len(centres) > 1 else WIDTH
    every = 1
    while True:
        room = spacing * every - LABEL_GAP
        shown = [(index, _wrapped(labels[index], room)) for index in range(0, len(labels), every)]
        if every >= len(labels) or all(max(map(text_width, lines)) <= room for _, lines in shown):
            break
        every += 1
    right_edge = -math.inf
    for index, lines in shown:
        half = max(map(text_width, lines)) / 2
        x = min(max(centres[index], half + 1), WIDTH - half - 1)
        if x - half < right_edge + LABEL_GAP:
            continue  # pushed back inside the box, it would touch the label before it
        right_edge = x + half
        y = HEIGHT - BOTTOM + 14
        if len(lines) == 1:
            chart.shapes.append(Shape("text", x, y, text=lines[0], css="tick"))
        else:
            chart.shapes.append(Shape("text", x, y, text=" ".join(lines), css="tick", lines=lines))
            chart.height = max(chart.height, HEIGHT + LINE_STEP)  # room for the second line


def stacked_columns(
    id: str,
    title: str,
    rows: list[dict],
    label_key: str,
    series: list[tuple[str, str, str]],
    x_label: str,
    y_label: str,
    short_label=lambda text: text,
) -> Chart:
    """Columns per row, the `series` (key, label, css) stacked in each."""
    chart = Chart(id, title, x_label, y_label, legend=[(label, css) for _, label, css in series])
    top = _nice_max(max((sum(row[key] for key, _, _ in series) for row in rows), default=0))
    _axes(chart, top)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(rows), 1)
    for index, row in enumerate(rows):
        x = LEFT + index * slot + slot * 0.12
        base = HEIGHT - BOTTOM
        for key, label, css in series:
            height = plot_height * row[key] / top
            base -= height
            if height > 0:
                chart.shapes.append(
                    Shape(
                        "rect",
                        x,
                        base,
                        slot * 0.76,
                        height,
                        css,
                        tip=f"{row[label_key]}: {row[key]:,} {label.lower()}",
                    )
                )
    _x_labels(
        chart,
        [LEFT + index * slot + slot / 2 for index in range(len(rows))],
        [short_label(str(row[label_key])) for row in rows],
    )
    return chart


def columns(
    id: str,
    title: str,
    rows: list[dict],
    label_key: str,
    value_key: str,
    css: str,
    x_label: str,
    y_label: str,
) -> Chart:
    return stacked_columns(id, title, rows, label_key, [(value_key, y_label, css)], x_label, y_label)


def bars(
    id: str,
    title: str,
    rows: list[dict],
    label_key: str,
    value_key: str,
    css: str,
    x_label: str,
    as_percent: bool = False,
    sample_key: str | None = None,
) -> Chart:
    """Horizontal bars, one per row, labelled on the left; a rate from too few decisions (`sample_key`
    holds how many) is drawn faint, its value followed by that count."""
    height = TOP + 22 * max(len(rows), 1) + BOTTOM
    chart = Chart(id, title, x_label, "", height=height)
    left = 150
    values = [row[value_key] or 0 for row in rows]
    top = 1 if as_percent else _nice_max(max(values, default=0))
    shown_values = []
    for row, value in zip(rows, values, strict=True):
        shown = f"{value:.0%}" if as_percent else f"{value:,}"
        mark = sample_mark(row[sample_key]) if sample_key else None
        shown_values.append((shown if mark is None else f"{shown} · {mark}", mark is not None))
    # The longest value stands right of a full bar: the plot leaves it room.
    value_room = max((text_width(text) for text, _ in shown_values), default=0) + 8
    plot_width = WIDTH - left - RIGHT - max(value_room, 48)
    for tick in range(5):
        x = left + plot_width * tick / 4
        chart.shapes.append(Shape("line", x, TOP - 6, 0, 22 * len(rows) + 6, "grid"))
        value = top * tick / 4
        chart.shapes.append(
            Shape(
                "text",
                x,
                height - BOTTOM + 16,
                text=f"{value:.0%}" if as_percent else f"{value:,.0f}",
                css="tick",
            )
        )
    for index, (row, value, (shown, small)) in enumerate(zip(rows, values, shown_values, strict=True)):
        y = TOP + 22 * index
        width = plot_width * value / top
        name = str(row[label_key])
        chart.shapes.append(
            Shape("text", left - 6, y + 14, text=fit(name, left - 8), css="tick", anchor="end", tip=name)
        )
        bar_css = f"{css} small-sample" if small else css
        chart.shapes.append(Shape("rect", left, y + 3, max(width, 0.5), 15, bar_css, tip=f"{name}: {shown}"))
        chart.shapes.append(
            Shape(
                "text",
                left + width + 4,
                y + 14,
                text=shown,
                css="value small-sample" if small else "value",
                anchor="start",
            )
        )
    return chart


def line(
    id: str,
    title: str,
    rows: list[dict],
    label_key: str,
    value_key: str,
    css: str,
    x_label: str,
    y_label: str,
    short_label=lambda text: text,
) -> Chart:
    chart = Chart(id, title, x_label, y_label, legend=[(y_label, css)])
    top = _nice_max(max((row[value_key] for row in rows), default=0))
    _axes(chart, top)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(rows) - 1, 1)
    points = []
    for index, row in enumerate(rows):
        x = LEFT + index * step
        y = HEIGHT - BOTTOM - plot_height * row[value_key] / top
        points.append(f"{x:.1f},{y:.1f}")
        chart.shapes.append(
            Shape("rect", x - 3, y - 3, 6, 6, css + " dot", tip=f"{row[label_key]}: {row[value_key]:,}")
        )
    _x_labels(
        chart,
        [LEFT + index * step for index in range(len(rows))],
        [short_label(str(row[label_key])) for row in rows],
    )
    chart.points = " ".join(points)
    return chart


@dataclass
class Figure:
    """A chart with the rows and columns of its table: (key, heading, format)."""

    chart: Chart
    rows: list[dict]
    columns: list[tuple[str, str, str]]


def _day_label(day: str) -> str:
    return day[5:]  # 2023-10-19 -> 10-19


def dashboard_figures(board) -> list[Figure]:
    """The dashboard's charts, in reading order."""
    outlets = [row | {"median": row["median_seconds_to_decision"]} for row in board.per_outlet]
    return [
        Figure(
            stacked_columns(
                "per-day",
                "Decisions per day",
                board.per_day,
                "day",
                [("approved", "Approved", "approved"), ("rejected", "Rejected", "rejected")],
                "Day (UTC)",
                "Decisions",
                _day_label,
            ),
            board.per_day,
            [("day", "Day", "text"), ("approved", "Approved", "int"), ("rejected", "Rejected", "int")],
        ),
        Figure(
            bars(
                "per-moderator",
                "Decisions per moderator",
                board.per_moderator,
                "moderator",
                "decided",
                "decided",
                "Decisions",
            ),
            board.per_moderator,
            [
                ("moderator", "Moderator", "text"),
                ("approved", "Approved", "int"),
                ("rejected", "Rejected", "int"),
                ("approval_rate", "Approval rate", "rate"),
            ],
        ),
        Figure(
            line(
                "backlog",
                "Pending at the end of each day",
                board.backlog,
                "day",
                "pending",
                "pending",
                "Day (UTC)",
                "Pending articles",
                _day_label,
            ),
            board.backlog,
            [("day", "Day", "text"), ("pending", "Pending", "int")],
        ),
        Figure(
            columns(
                "time-to-decision",
                "Time from import to decision",
                board.time_to_decision,
                "bucket",
                "count",
                "decided",
                "Time to decision",
                "Articles",
            ),
            board.time_to_decision,
            [("bucket", "Time to decision", "text"), ("count", "Articles", "int")],
        ),
        Figure(
            columns(
                "heat",
                "Heat of approved articles",
                board.heat,
                "bucket",
                "count",
                "approved",
                "Heat",
                "Articles",
            ),
            board.heat,
            [("bucket", "Heat", "text"), ("count", "Articles", "int")],
        ),
        Figure(
            bars(
                "by-topic",
                "Approved by topic",
                board.by_topic,
                "name",
                "count",
                "approved",
                "Approved articles",
            ),
            board.by_topic,
            [("name", "Topic", "text"), ("count", "Approved", "int")],
        ),
        Figure(
            bars(
                "by-provider",
                "Approved by provider",
                board.by_provider,
                "name",
                "count",
                "approved",
                "Approved articles",
            ),
            board.by_provider,
            [("name", "Provider", "text"), ("count", "Approved", "int")],
        ),
        Figure(
            bars(
                "per-outlet",
                "Approval rate of the busiest outlets",
                outlets,
                "outlet",
                "approval_rate",
                "approved",
                "Approval rate",
                as_percent=True,
                sample_key="decided",
            ),
            outlets,
            [
                ("outlet", "Outlet", "text"),
                ("decided", "Decided", "int"),
                ("approval_rate", "Approval rate", "rate"),
                ("median", "Median time to decision", "duration"),
            ],
        ),
    ]
