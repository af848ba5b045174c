"""Charts drawn on the server as SVG: horizontal bars (single, stacked or
grouped) and lines. No script, nothing fetched from elsewhere.

Each chart is an ``<svg role="img">`` named by a title and a description
that states the figures in words, followed by an HTML legend. Pages show
the same numbers in a table beside it.

The SVG is as wide as its container and lays itself out in percentages
rather than scaling a fixed drawing, so its text stays the page's size from
a 320 px phone to a laptop. Every colour has at least 3:1 contrast with
white, which also separates the segments of a stacked bar, and line series
differ in dash as well as colour.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString

PALETTE = ("#005eb8", "#b35c00", "#007f3b", "#6b2c91", "#4c6272")
DASHES = ("", "8 5", "2 4", "12 4 2 4", "4 4")
TEXT = "#212b32"
GRID = "#b1b4b6"

# Horizontal bars: pixel heights of a category's label, bar and spacing.
LABEL_HEIGHT = 22
BAR_HEIGHT = 20
GROUPED_BAR_HEIGHT = 14
ROW_GAP = 14
# Bars use at most this share of the width, leaving room for the value.
BAR_SPAN = 78.0

# Lines: pixel heights of the room above the plot (for the top grid line's
# value), the plot, and the labels under it.
PLOT_TOP = 22
PLOT_HEIGHT = 200
AXIS_HEIGHT = 44
# Shares of the width left of and right of the plot: room on the left for
# the grid lines' values, and for the labels under the first and last
# points.
INSET_LEFT = 8.0
INSET_RIGHT = 4.0
PLOT_WIDTH = 100 - INSET_LEFT - INSET_RIGHT


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]


def number(value: float | int | None, unit: str = "") -> str:
    """A figure as the page shows it: 12,345 or 87.5%; "no data" for None."""
    if value is None:
        return "no data"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}{unit}"
    return f"{int(value):,}{unit}"


def axis_top(value: float, steps: int) -> float:
    """A round top for an axis of ``steps`` equal steps that reaches
    ``value``: each step is a whole number times a power of ten (or 2.5
    times, from 25 up), so the grid lines carry round numbers. Steps are
    at least 1: the charts count people and events."""
    step = max(value / steps, 1)
    magnitude = 10 ** math.floor(math.log10(step))
    factors = (1, 2, 2.5, 3, 4, 5, 6, 8, 10) if magnitude >= 10 else (1, 2, 3, 4, 5, 6, 8, 10)
    return steps * next(f * magnitude for f in factors if f * magnitude >= step)


def _pct(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") + "%"


def _svg(chart_id: str, title: str, description: str, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart__svg" role="img" width="100%" height="{}" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg" '
        'font-family="Arial, Helvetica, sans-serif" fill="{}">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        height,
        chart_id,
        chart_id,
        TEXT,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )


def _legend(series: Sequence[Series], *, lines: bool) -> SafeString:
    if len(series) < 2:
        return SafeString("")
    items = []
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        if lines:
            swatch = format_html(
                '<svg aria-hidden="true" focusable="false" width="32" height="12">'
                '<line x1="2" y1="6" x2="30" y2="6" stroke="{}" stroke-width="3" '
                'stroke-dasharray="{}"/></svg>',
                colour,
                DASHES[n % len(DASHES)],
            )
        else:
            swatch = format_html(
                '<svg aria-hidden="true" focusable="false" width="16" height="16">'
                '<rect width="16" height="16" fill="{}"/></svg>',
                colour,
            )
        items.append(format_html("<li>{} {}</li>", swatch, s.name))
    return format_html('<ul class="chart__legend">{}</ul>', SafeString("".join(items)))


def _describe_bars(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    parts = []
    for i, label in enumerate(labels):
        if len(series) == 1:
            parts.append(f"{label}: {number(series[0].values[i], unit)}")
        else:
            values = ", ".join(f"{s.name} {number(s.values[i], unit)}" for s in series)
            parts.append(f"{label}: {values}")
    return "; ".join(parts) + "."


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    unit: str = "",
    maximum: float | None = None,
) -> SafeString:
    """Horizontal bars, one row per label: each label above its bar, the
    value at the bar's end. Several series are stacked (the row's total at
    the end) or grouped (a bar each)."""
    if stacked:
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    else:
        totals = [max((s.values[i] or 0) for s in series) for i in range(len(labels))]
    top = maximum or max(totals, default=0) or 1
    bars_per_row = 1 if stacked or len(series) == 1 else len(series)
    bar_height = BAR_HEIGHT if bars_per_row == 1 else GROUPED_BAR_HEIGHT
    row_height = LABEL_HEIGHT + bars_per_row * (bar_height + 2) + ROW_GAP
    parts = []
    for i, label in enumerate(labels):
        y = i * row_height
        parts.append(format_html('<text x="0" y="{}" font-size="16">{}</text>', y + 16, label))
        bar_y = y + LABEL_HEIGHT
        if stacked:
            x = 0.0
            for n, s in enumerate(series):
                width = BAR_SPAN * (s.values[i] or 0) / top
                if width > 0:
                    parts.append(_rect(x, width, bar_y, bar_height, n))
                x += width
            parts.append(_value(x, bar_y, bar_height, number(totals[i], unit)))
        else:
            for n, s in enumerate(series):
                row_y = bar_y + n * (bar_height + 2)
                width = BAR_SPAN * (s.values[i] or 0) / top
                if width > 0:
                    parts.append(_rect(0, width, row_y, bar_height, n))
                parts.append(_value(width, row_y, bar_height, number(s.values[i], unit)))
    body = SafeString("".join(parts))  # each part escaped by format_html
    description = _describe_bars(labels, series, unit)
    height = max(len(labels) * row_height - ROW_GAP, 1)
    svg = _svg(chart_id, title, description, height, body)
    return format_html('<div class="chart">{}{}</div>', svg, _legend(series, lines=False))


def _rect(x: float, width: float, y: int, height: int, n: int) -> SafeString:
    # A white edge keeps neighbouring segments of a stacked bar apart.
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#fff" stroke-width="1"/>',
        _pct(x),
        y,
        _pct(width),
        height,
        PALETTE[n % len(PALETTE)],
    )


def _value(x: float, y: int, height: int, text: str) -> SafeString:
    return format_html(
        '<text x="{}" dx="6" y="{}" font-size="15" font-weight="700">{}</text>',
        _pct(x),
        y + height - 4,
        text,
    )


def _describe_lines(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    if not labels:
        return "No data."
    parts = [f"{labels[0]} to {labels[-1]}."]
    for s in series:
        known = [(v, labels[i]) for i, v in enumerate(s.values) if v is not None]
        if not known:
            parts.append(f"{s.name}: no data.")
            continue
        high = max(known, key=lambda pair: pair[0])
        low = min(known, key=lambda pair: pair[0])
        values = ", ".join(f"{labels[i]} {number(v, unit)}" for i, v in enumerate(s.values))
        parts.append(
            f"{s.name}: highest {number(high[0], unit)} ({high[1]}), "
            f"lowest {number(low[0], unit)} ({low[1]}). {values}."
        )
    return " ".join(parts)


def line_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    maximum: float | None = None,
    ticks: Sequence[str] | None = None,
) -> SafeString:
    """Lines over time, one point per label. A value of None leaves a gap.
    Horizontal grid lines carry their values at the left. ``ticks``, if
    given, are shorter labels to print under the points, a line break
    allowed (the description always uses ``labels``)."""
    points = len(labels)
    known = [v for s in series for v in s.values if v is not None]
    steps = 4
    top = maximum or axis_top(max(known, default=0), steps)
    parts = []
    # The plot is drawn in a 1000 x 1000 box stretched over the plot area;
    # strokes keep their width however it is stretched.
    plot = []
    for t in range(steps + 1):
        value = top * t / steps
        y = 1000 - 1000 * t / steps
        plot.append(
            format_html(
                '<line x1="0" x2="1000" y1="{}" y2="{}" stroke="{}" stroke-width="1" '
                'vector-effect="non-scaling-stroke"/>',
                y,
                y,
                GRID if t else TEXT,
            )
        )
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="13" stroke="#fff" stroke-width="4" '
                'paint-order="stroke">{}</text>',
                PLOT_TOP + round(PLOT_HEIGHT * (1 - t / steps)) - 4,
                number(int(value) if float(value).is_integer() else value, unit),
            )
        )

    def x_of(i: int) -> float:
        return 500 if points == 1 else 1000 * i / (points - 1)

    for n, s in enumerate(series):
        colour, dash = PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)]
        runs, run = [], []
        for i, value in enumerate(s.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append((x_of(i), 1000 - 1000 * min(value, top) / top))
        if run:
            runs.append(run)
        for run in runs:
            path = " ".join(
                f"{'M' if k == 0 else 'L'}{x:.1f} {y:.1f}" for k, (x, y) in enumerate(run)
            )
            plot.append(
                format_html(
                    '<path d="{}" fill="none" stroke="{}" stroke-width="3" '
                    'stroke-dasharray="{}" stroke-linejoin="round" '
                    'vector-effect="non-scaling-stroke"/>',
                    path,
                    colour,
                    dash,
                )
            )
            # A zero-length stroke with round caps: a dot that stays round
            # however the plot is stretched.
            dots = " ".join(f"M{x:.1f} {y:.1f}h0" for x, y in run)
            plot.append(
                format_html(
                    '<path d="{}" stroke="{}" stroke-width="8" stroke-linecap="round" '
                    'vector-effect="non-scaling-stroke"/>',
                    dots,
                    colour,
                )
            )
    parts.append(
        format_html(
            '<svg x="{}" y="{}" width="{}" height="{}" viewBox="0 0 1000 1000" '
            'preserveAspectRatio="none" overflow="visible">{}</svg>',
            _pct(INSET_LEFT),
            PLOT_TOP,
            _pct(PLOT_WIDTH),
            PLOT_HEIGHT,
            SafeString("".join(plot)),
        )
    )
    for i, label in enumerate(ticks or labels):
        x = _pct(INSET_LEFT + PLOT_WIDTH * x_of(i) / 1000)
        # A label may run to a second line (the year under the month).
        lines = SafeString(
            "".join(
                format_html(
                    '<tspan x="{}" dy="{}">{}</tspan>', x, "0" if n == 0 else "1.2em", line
                )
                for n, line in enumerate(label.split("\n"))
            )
        )
        parts.append(
            format_html(
                '<text class="chart__tick{}" y="{}" font-size="13" text-anchor="middle">{}</text>',
                # On a narrow screen every other label gives way, counting
                # back from the latest, which is always shown.
                " chart__tick--minor" if (points - 1 - i) % 2 else "",
                PLOT_TOP + PLOT_HEIGHT + 18,
                lines,
            )
        )
    body = SafeString("".join(parts))  # each part escaped by format_html
    description = _describe_lines(labels, series, unit)
    svg = _svg(chart_id, title, description, PLOT_TOP + PLOT_HEIGHT + AXIS_HEIGHT, body)
    return format_html('<div class="chart">{}{}</div>', svg, _legend(series, lines=True))
