"""Chart geometry for reports: a bar chart and a line chart over labelled integer values.

This module only computes where things go; `templates/chart.svg.j2` draws them, with
autoescaping, as self-contained inline SVG (no script, no external reference), so a chart
renders in a browser, in most mail clients and under a CSP without `img-src`. Values are
exact integers (nano-USD or counts); only pixel positions are computed in floating point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 84, 12, 28, 40
_MAX_X_LABELS = 12
_Y_TICKS = 4


@dataclass(frozen=True, slots=True)
class ChartPoint:
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Mark:
    """One bar or line marker: its box (pixels, one decimal) and its hover text."""

    x: str
    y: str
    width: str
    height: str
    title: str


@dataclass(frozen=True, slots=True)
class GridLine:
    """A horizontal grid line at pixel `y`, its value label centred at `label_y`."""

    y: str
    label_y: str
    text: str


@dataclass(frozen=True, slots=True)
class XLabel:
    """A label under the plot, centred at pixel `x`."""

    x: str
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """What `chart.svg.j2` draws: `kind` is "bar" or "line"; `polyline` is the line's
    points ("x,y x,y ..."), empty for bars and for a single point."""

    width: ClassVar[int] = WIDTH
    height: ClassVar[int] = HEIGHT
    left: ClassVar[int] = LEFT
    right: ClassVar[int] = WIDTH - RIGHT
    x_label_y: ClassVar[int] = HEIGHT - BOTTOM + 16

    kind: str
    title: str
    marks: list[Mark]
    polyline: str
    grid: list[GridLine]
    x_labels: list[XLabel]


def bar_chart(
    points: Sequence[ChartPoint], *, title: str, format_value: Callable[[int], str]
) -> Chart:
    """A bar chart of `points` (one bar each, in order), y axis from 0."""
    scale = _Scale(points)
    slot = _PLOT_WIDTH / max(len(points), 1)
    marks = []
    for index, point in enumerate(points):
        y = scale.y(point.value)
        marks.append(
            Mark(
                x=_px(LEFT + index * slot + slot * 0.1),
                y=_px(y),
                width=_px(slot * 0.8),
                height=_px(scale.y(0) - y),
                title=f"{point.label}: {format_value(point.value)}",
            )
        )
    return Chart("bar", title, marks, "", scale.grid(format_value), _x_labels(points))


def line_chart(
    points: Sequence[ChartPoint], *, title: str, format_value: Callable[[int], str]
) -> Chart:
    """A line chart of `points` (a marker at each), y axis from 0."""
    scale = _Scale(points)
    slot = _PLOT_WIDTH / max(len(points), 1)
    coordinates = [
        (LEFT + index * slot + slot / 2, scale.y(point.value)) for index, point in enumerate(points)
    ]
    marks = [
        Mark(x=_px(x), y=_px(y), width="", height="", title=f"{p.label}: {format_value(p.value)}")
        for (x, y), p in zip(coordinates, points, strict=True)
    ]
    polyline = " ".join(f"{_px(x)},{_px(y)}" for x, y in coordinates) if len(points) > 1 else ""
    return Chart("line", title, marks, polyline, scale.grid(format_value), _x_labels(points))


def nice_step(largest: int) -> int:
    """The y-axis tick step: the smallest 1, 2, 2.5 or 5 x 10^k (a whole number, at least 1)
    such that `_Y_TICKS` steps reach `largest`, so tick labels are round ($1.00, 250)."""
    needed = max(1, -(-largest // _Y_TICKS))
    magnitude = int(10 ** (len(str(needed)) - 1))
    candidates = [magnitude, 2 * magnitude, 5 * magnitude // 2, 5 * magnitude, 10 * magnitude]
    return min(c for c in candidates if c >= needed)


_PLOT_WIDTH = WIDTH - LEFT - RIGHT
_PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


def _px(value: float) -> str:
    return f"{value:.1f}"


class _Scale:
    """Value to pixel (y axis from 0 to four round ticks above the largest value)."""

    def __init__(self, points: Sequence[ChartPoint]) -> None:
        self.tick_step = nice_step(max([p.value for p in points] + [0]))
        self.top_value = self.tick_step * _Y_TICKS

    def y(self, value: int) -> float:
        return TOP + _PLOT_HEIGHT * (1 - max(value, 0) / self.top_value)

    def grid(self, format_value: Callable[[int], str]) -> list[GridLine]:
        ticks = (self.tick_step * tick for tick in range(_Y_TICKS + 1))
        return [
            GridLine(_px(self.y(value)), _px(self.y(value) + 4), format_value(value))
            for value in ticks
        ]


def _x_labels(points: Sequence[ChartPoint]) -> list[XLabel]:
    if not points:
        return []
    step = math.ceil(len(points) / _MAX_X_LABELS)
    slot = _PLOT_WIDTH / len(points)
    return [
        XLabel(_px(LEFT + index * slot + slot / 2), point.label)
        for index, point in enumerate(points)
        if index % step == 0
    ]
