"""Charts as geometry for server-side SVG: the templates draw what these functions place.

No JavaScript and no chart library: every shape is computed here, in a 640 x 240 box, and
`templates/stats/_chart.html` writes it out as SVG with its numbers as a table beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 44


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


def _label_every(count: int, room: int = 12) -> int:
    return max(1, math.ceil(count / room))


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
    every = _label_every(len(rows))
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
        if index % every == 0:
            chart.shapes.append(
                Shape(
                    "text",
                    x + slot * 0.38,
                    HEIGHT - BOTTOM + 14,
                    text=short_label(str(row[label_key])),
                    css="tick",
                )
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
) -> Chart:
    """Horizontal bars, one per row, labelled on the left."""
    height = TOP + 22 * max(len(rows), 1) + BOTTOM
    chart = Chart(id, title, x_label, "", height=height)
    left = 150
    values = [row[value_key] or 0 for row in rows]
    top = 1 if as_percent else _nice_max(max(values, default=0))
    plot_width = WIDTH - left - RIGHT - 48
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
    for index, row in enumerate(rows):
        y = TOP + 22 * index
        value = row[value_key] or 0
        width = plot_width * value / top
        shown = f"{value:.0%}" if as_percent else f"{value:,}"
        name = str(row[label_key])
        chart.shapes.append(
            Shape(
                "text",
                left - 6,
                y + 14,
                text=name if len(name) <= 22 else name[:21] + "…",
                css="tick",
                anchor="end",
                tip=name,
            )
        )
        chart.shapes.append(Shape("rect", left, y + 3, max(width, 0.5), 15, css, tip=f"{name}: {shown}"))
        chart.shapes.append(Shape("text", left + width + 4, y + 14, text=shown, css="value", anchor="start"))
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
    every = _label_every(len(rows))
    for index, row in enumerate(rows):
        x = LEFT + index * step
        y = HEIGHT - BOTTOM - plot_height * row[value_key] / top
        points.append(f"{x:.1f},{y:.1f}")
        chart.shapes.append(
            Shape("rect", x - 3, y - 3, 6, 6, css + " dot", tip=f"{row[label_key]}: {row[value_key]:,}")
        )
        if index % every == 0:
            chart.shapes.append(
                Shape("text", x, HEIGHT - BOTTOM + 14, text=short_label(str(row[label_key])), css="tick")
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
                ("approval_rate", "Approval rate", "percent"),
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
            ),
            outlets,
            [
                ("outlet", "Outlet", "text"),
                ("decided", "Decided", "int"),
                ("approval_rate", "Approval rate", "percent"),
                ("median", "Median time to decision", "duration"),
            ],
        ),
    ]
