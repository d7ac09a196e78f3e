"""Charts drawn on the server as SVG: geometry here, markup in ``treatments/_chart.html``.

Line charts for values over time (a patient's lesion counts, utilisation by week); bar charts
for figures side by side across categories (appointment types, aestheticians, methods), where
a line joining the points would suggest an order or a trend that is not there.

No JavaScript and no library: the chart is plain SVG in the page, so it prints as it shows.
Each series has its own colour, dash pattern and marker shape, so it stays readable printed
in black and white; every chart is followed by its numbers in a table for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 52

# Colour (AA against white for the lines' width), dash pattern, marker: one style per series.
# A bar series is told apart by its fill pattern too (solid, hatched, dotted, cross-hatched),
# so bars stay readable printed in black and white.
STYLES: tuple[tuple[str, str, str], ...] = (
    ("#1f6f6b", "", "circle"),
    ("#9a5b00", "6 4", "square"),
    ("#3d5a80", "2 3", "triangle"),
    ("#a4262c", "10 3 2 3", "diamond"),
    ("#6a4c93", "4 2", "circle"),
    ("#2e6b30", "8 4", "square"),
    ("#55636d", "1 2", "triangle"),
    ("#7a3e00", "12 4", "diamond"),
)


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    value: int
    shape: str

    @property
    def square_x(self) -> str:
        return f"{self.x - 4.5:.1f}"

    @property
    def square_y(self) -> str:
        return f"{self.y - 4.5:.1f}"

    @property
    def triangle_points(self) -> str:
        return f"{self.x:.1f},{self.y - 5:.1f} {self.x - 5:.1f},{self.y + 4:.1f} {self.x + 5:.1f},{self.y + 4:.1f}"

    @property
    def diamond_points(self) -> str:
        x, y = self.x, self.y
        return f"{x:.1f},{y - 5.5:.1f} {x + 5.5:.1f},{y:.1f} {x:.1f},{y + 5.5:.1f} {x - 5.5:.1f},{y:.1f}"


FILLS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int

    @property
    def label_x(self) -> str:
        return f"{self.x + self.width / 2:.1f}"

    @property
    def label_y(self) -> str:
        return f"{self.y - 4:.1f}"


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[int, ...]
    colour: str
    dash: str
    markers: tuple[Marker, ...]
    bars: tuple[Bar, ...] = ()
    fill: str = "solid"

    @property
    def points(self) -> str:
        return " ".join(f"{m.x:.1f},{m.y:.1f}" for m in self.markers)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    sublabel: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    lines: tuple[Line, ...]
    kind: str = "line"  # or "bar"
    # Bars carry their value above them while there is room to read it.
    bar_labels: bool = False
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def x_labels(self) -> list[str]:
        return [tick.label for tick in self.x_ticks]


def nice_step(maximum: int, ticks: int = 5) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving at most ``ticks`` steps up to ``maximum``."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)  # pragma: no cover (the loop always returns)


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    x_sublabels: Sequence[str] = (),
) -> Chart:
    """Lay out ``series`` (label, one value per x label) on a shared y axis starting at 0."""
    count = len(x_labels)
    maximum = max((max(values, default=0) for _, values in series), default=0)
    step = nice_step(maximum)
    top_value = max(step, math.ceil(maximum / step) * step)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM

    def x_at(index: int) -> float:
        if count <= 1:
            return LEFT + plot_width / 2
        return LEFT + index * plot_width / (count - 1)

    def y_at(value: int) -> float:
        return TOP + plot_height - value * plot_height / top_value

    y_ticks = tuple(Tick(y_at(value), str(value)) for value in range(0, top_value + 1, step))
    sublabels = list(x_sublabels) + [""] * (count - len(x_sublabels))
    x_ticks = tuple(Tick(x_at(index), label, sublabels[index]) for index, label in enumerate(x_labels))
    lines = []
    for index, (label, values) in enumerate(series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        if len(values) != count:
            raise ValueError(f"series {label!r} has {len(values)} values for {count} x labels")
        markers = tuple(Marker(x_at(i), y_at(v), v, shape) for i, v in enumerate(values))
        lines.append(Line(label, tuple(values), colour, dash, markers))
    return Chart(title=title, x_ticks=x_ticks, y_ticks=y_ticks, lines=tuple(lines))


def bar_chart(*, title: str, x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Chart:
    """Grouped bars: for each x label, one bar per series (label, one value per x label), on a
    shared y axis starting at 0."""
    count = max(len(x_labels), 1)
    maximum = max((max(values, default=0) for _, values in series), default=0)
    step = nice_step(maximum)
    top_value = max(step, math.ceil(maximum / step) * step)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    band = plot_width / count
    # The bars of one label fill 70% of its band, side by side; the rest is the gap between labels.
    bar_width = 0.7 * band / max(len(series), 1)

    def y_at(value: int) -> float:
        return TOP + plot_height - value * plot_height / top_value

    y_ticks = tuple(Tick(y_at(value), str(value)) for value in range(0, top_value + 1, step))
    # A label longer than its band would run into the next one: it takes two lines (about 9 units
    # a character), and is cut only beyond that.
    room = max(int(band // 9), 3)
    x_ticks = tuple(Tick(LEFT + band * (index + 0.5), *_two_lines(label, room)) for index, label in enumerate(x_labels))
    lines = []
    for index, (label, values) in enumerate(series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        if len(values) != len(x_labels):
            raise ValueError(f"series {label!r} has {len(values)} values for {len(x_labels)} x labels")
        bars = tuple(
            Bar(
                x=LEFT + band * (i + 0.15) + index * bar_width,
                y=y_at(v),
                width=bar_width,
                height=TOP + plot_height - y_at(v),
                value=v,
            )
            for i, v in enumerate(values)
        )
        lines.append(Line(label, tuple(values), colour, dash, (), bars, FILLS[index % len(FILLS)]))
    return Chart(
        title=title,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        lines=tuple(lines),
        kind="bar",
        bar_labels=bar_width >= 14,
    )


def _two_lines(label: str, room: int) -> tuple[str, str]:
    """``label`` on at most two lines of ``room`` characters, broken between words. What does not
    fit is cut: the first line at its end, the second at its start (labels that differ, such as
    "Manual, fingers wrapped in cotton" and "... in gauze", often differ at the end)."""
    if len(label) <= room:
        return label, ""
    words = label.split()
    first = ""
    while words and len(f"{first} {words[0]}".strip()) <= room:
        first = f"{first} {words.pop(0)}".strip()
    if not first:
        return label[: room - 1] + "…", ""
    rest = " ".join(words)
    return first, rest if len(rest) <= room else "…" + rest[-(room - 1) :]
