"""Inline SVG charts for reports: a bar chart and a line chart over labelled integer values.

Self-contained markup (no script, no external reference), so it renders in a browser, in
most mail clients and under a CSP without `img-src`. Values are exact integers (nano-USD or
counts); only pixel positions are computed in floating point. Every piece of text is
escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 84, 12, 28, 40
_MAX_X_LABELS = 12
_Y_TICKS = 4
_BAR_COLOR = "#3b6fd8"
_LINE_COLOR = "#d8663b"
_GRID_COLOR = "#e3e6ea"
_TEXT_STYLE = 'font-family="sans-serif" font-size="11" fill="#444"'


@dataclass(frozen=True, slots=True)
class ChartPoint:
    label: str
    value: int


def bar_chart(
    points: Sequence[ChartPoint], *, title: str, format_value: Callable[[int], str]
) -> str:
    """An SVG bar chart of `points` (one bar each, in order), y axis from 0."""
    frame = _Frame(points, title, format_value)
    bars = []
    slot = frame.plot_width / max(len(points), 1)
    for index, point in enumerate(points):
        x = _LEFT + index * slot + slot * 0.1
        y = frame.y(point.value)
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{frame.y(0) - y:.1f}" fill="{_BAR_COLOR}">'
            f"<title>{escape(point.label)}: {escape(format_value(point.value))}</title></rect>"
        )
    return frame.render("".join(bars))


def line_chart(
    points: Sequence[ChartPoint], *, title: str, format_value: Callable[[int], str]
) -> str:
    """An SVG line chart of `points` (a marker at each), y axis from 0."""
    frame = _Frame(points, title, format_value)
    slot = frame.plot_width / max(len(points), 1)
    coordinates = [
        (_LEFT + index * slot + slot / 2, frame.y(point.value))
        for index, point in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    markers = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_LINE_COLOR}">'
        f"<title>{escape(point.label)}: {escape(format_value(point.value))}</title></circle>"
        for (x, y), point in zip(coordinates, points, strict=True)
    )
    line = (
        f'<polyline points="{path}" fill="none" stroke="{_LINE_COLOR}" stroke-width="2"/>'
        if len(points) > 1
        else ""
    )
    return frame.render(line + markers)


def nice_step(largest: int) -> int:
    """The y-axis tick step: the smallest 1, 2, 2.5 or 5 x 10^k (a whole number, at least 1)
    such that `_Y_TICKS` steps reach `largest`, so tick labels are round ($1.00, 250)."""
    needed = max(1, -(-largest // _Y_TICKS))
    magnitude = int(10 ** (len(str(needed)) - 1))
    candidates = [magnitude, 2 * magnitude, 5 * magnitude // 2, 5 * magnitude, 10 * magnitude]
    return min(c for c in candidates if c >= needed)


class _Frame:
    """Axes, grid, labels and the value-to-pixel scale shared by both charts."""

    def __init__(
        self, points: Sequence[ChartPoint], title: str, format_value: Callable[[int], str]
    ) -> None:
        self.points = points
        self.title = title
        self.format_value = format_value
        self.plot_width = WIDTH - _LEFT - _RIGHT
        self.plot_height = HEIGHT - _TOP - _BOTTOM
        self.tick_step = nice_step(max([p.value for p in points] + [0]))
        self.top_value = self.tick_step * _Y_TICKS

    def y(self, value: int) -> float:
        return _TOP + self.plot_height * (1 - max(value, 0) / self.top_value)

    def render(self, marks: str) -> str:
        title = escape(self.title)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}">'
            f"<title>{title}</title>"
            f'<text x="{_LEFT}" y="16" {_TEXT_STYLE} font-weight="bold">{title}</text>'
            f"{self._grid()}{marks}{self._x_labels()}</svg>"
        )

    def _grid(self) -> str:
        parts = []
        for tick in range(_Y_TICKS + 1):
            value = self.tick_step * tick
            y = self.y(value)
            parts.append(
                f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
                f'stroke="{_GRID_COLOR}"/>'
                f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {_TEXT_STYLE}>'
                f"{escape(self.format_value(value))}</text>"
            )
        return "".join(parts)

    def _x_labels(self) -> str:
        count = len(self.points)
        if count == 0:
            return ""
        step = math.ceil(count / _MAX_X_LABELS)
        slot = self.plot_width / count
        baseline = HEIGHT - _BOTTOM + 16
        return "".join(
            f'<text x="{_LEFT + index * slot + slot / 2:.1f}" y="{baseline}" '
            f'text-anchor="middle" {_TEXT_STYLE}>{escape(point.label)}</text>'
            for index, point in enumerate(self.points)
            if index % step == 0
        )
