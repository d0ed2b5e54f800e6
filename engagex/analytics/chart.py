"""The opens-and-clicks chart as plain SVG geometry, drawn on the server.

No JavaScript chart library: the page stays fast, works without scripts and under the
strict CSP (colours come from CSS classes, never inline styles), and the same numbers
are in a data table next to it for screen readers. The template
(`analytics/_chart.html`) only places what this module computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagex.analytics.selectors import DAY, HOUR, ActivitySeries, Bucket

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
Y_TICKS = 4
X_LABELS = 6  # at most; the odd ones are hidden on phones
MAX_DOTS = 48  # more points than this: lines only


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str  # the native tooltip: "Tue 14:00 — 12 opens"


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str
    anchor: str  # SVG text-anchor
    minor: bool  # dropped on narrow screens


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    y_label_x: int  # right edge of the value labels
    x_label_y: int  # baseline of the period labels
    opens_line: str
    opens_area: str
    clicks_line: str
    open_points: list[Point]
    click_points: list[Point]
    show_dots: bool
    y_ticks: list[Tick]
    x_labels: list[XLabel]
    summary: str  # the SVG's <desc>: totals and the busiest period
    rows: list[tuple[str, int, int]]  # the fallback table: period, opens, clicks


def nice_ceiling(value: int, ticks: int = Y_TICKS) -> int:
    """The smallest "round" axis maximum ≥ value that splits into `ticks` round steps."""
    if value <= ticks:
        return ticks
    raw_step = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw_step and float(step).is_integer():
            return int(step * ticks)
    return int(10 * magnitude * ticks)  # pragma: no cover - the loop always returns


def period_label(bucket: Bucket, granularity: str, *, with_date: bool = True) -> str:
    if granularity == HOUR:
        pattern = "D j M, H:i" if with_date else "H:i"
    elif granularity == DAY:
        pattern = "D j M"
    else:
        return _("Week of %(date)s") % {"date": formats.date_format(bucket.start, "j M")}
    return formats.date_format(bucket.start, pattern)


def _path(points: list[Point]) -> str:
    if len(points) < 2:
        return ""
    return "M" + " L".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def _opens(count: int) -> str:
    return ngettext("%(n)s open", "%(n)s opens", count) % {"n": f"{count:,}"}


def _clicks(count: int) -> str:
    return ngettext("%(n)s click", "%(n)s clicks", count) % {"n": f"{count:,}"}


def build_chart(series: ActivitySeries) -> Chart | None:
    """Geometry for `series`, or None when there is nothing to draw."""
    buckets = series.buckets
    if series.is_empty or not buckets:
        return None
    granularity = series.granularity
    top = nice_ceiling(max(max(b.opens, b.clicks) for b in buckets))
    count = len(buckets)

    def x_at(index: int) -> float:
        if count == 1:
            return LEFT + PLOT_WIDTH / 2
        return LEFT + PLOT_WIDTH * index / (count - 1)

    def y_at(value: int) -> float:
        return TOP + PLOT_HEIGHT - PLOT_HEIGHT * value / top

    labels = [period_label(bucket, granularity) for bucket in buckets]
    open_points = [
        Point(x_at(i), y_at(b.opens), f"{labels[i]} — {_opens(b.opens)}")
        for i, b in enumerate(buckets)
    ]
    click_points = [
        Point(x_at(i), y_at(b.clicks), f"{labels[i]} — {_clicks(b.clicks)}")
        for i, b in enumerate(buckets)
    ]
    baseline = TOP + PLOT_HEIGHT
    opens_line = _path(open_points)
    opens_area = (
        f"{opens_line} L{open_points[-1].x:.1f},{baseline:.1f} "
        f"L{open_points[0].x:.1f},{baseline:.1f} Z"
        if opens_line
        else ""
    )
    y_ticks = [
        Tick(y_at(top * step // Y_TICKS), f"{top * step // Y_TICKS:,}")
        for step in range(Y_TICKS + 1)
    ]
    busiest = max(buckets, key=lambda b: (b.opens, b.clicks))
    summary = _(
        "%(opens)s and %(clicks)s by people, by %(unit)s. Busiest: %(when)s with %(peak)s."
    ) % {
        "opens": _opens(series.total_opens),
        "clicks": _clicks(series.total_clicks),
        "unit": _unit(granularity),
        "when": period_label(busiest, granularity),
        "peak": _opens(busiest.opens),
    }
    rows = [(labels[i], b.opens, b.clicks) for i, b in enumerate(buckets) if b.opens or b.clicks]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom=baseline,
        y_label_x=LEFT - 8,
        x_label_y=baseline + 22,
        opens_line=opens_line,
        opens_area=opens_area,
        clicks_line=_path(click_points),
        open_points=open_points,
        click_points=click_points,
        show_dots=count <= MAX_DOTS,
        y_ticks=y_ticks,
        x_labels=_x_labels(buckets, granularity, x_at),
        summary=summary,
        rows=rows,
    )


def _unit(granularity: str) -> str:
    return {HOUR: _("hour"), DAY: _("day")}.get(granularity, _("week"))


def _x_labels(buckets: list[Bucket], granularity: str, x_at) -> list[XLabel]:
    count = len(buckets)
    if count == 1:
        indexes = [0]
    else:
        step = max(1, math.ceil((count - 1) / (X_LABELS - 1)))
        indexes = list(range(0, count, step))
        if indexes[-1] != count - 1:
            # Keep the last period labelled; drop the one before if they would touch.
            if count - 1 - indexes[-1] < step / 2:
                indexes.pop()
            indexes.append(count - 1)
    labels = []
    previous_day = None
    for position, index in enumerate(indexes):
        bucket = buckets[index]
        day = bucket.start.date()
        # Hourly labels name the day only when it changes: "Tue 9 Apr, 14:00", "18:00".
        text = period_label(bucket, granularity, with_date=day != previous_day)
        if granularity == HOUR and day != previous_day:
            text = formats.date_format(bucket.start, "j M, H:i")
        previous_day = day
        if count == 1:
            anchor = "middle"
        elif index == 0:
            anchor = "start"
        elif index == count - 1:
            anchor = "end"
        else:
            anchor = "middle"
        labels.append(XLabel(x_at(index), text, anchor, minor=position % 2 == 1))
    # The last label always shows, so its neighbour goes on phones when both would.
    if labels and len(labels) % 2 == 0:
        labels[-1] = XLabel(labels[-1].x, labels[-1].label, labels[-1].anchor, minor=False)
        if len(labels) > 2:
            second_last = labels[-2]
            labels[-2] = XLabel(second_last.x, second_last.label, second_last.anchor, minor=True)
    return labels
