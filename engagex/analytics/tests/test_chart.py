"""The server-drawn chart: round axis maxima, points inside the plot, labels that fit,
a summary and table for screen readers; nothing drawn when nothing happened."""

import datetime as dt
from zoneinfo import ZoneInfo

from engagex.analytics.chart import (
    HEIGHT,
    LEFT,
    MAX_DOTS,
    PLOT_HEIGHT,
    RIGHT,
    TOP,
    WIDTH,
    build_chart,
    nice_ceiling,
)
from engagex.analytics.selectors import ActivitySeries, Bucket

ZONE = ZoneInfo("Europe/London")
START = dt.datetime(2025, 3, 11, 9, tzinfo=ZONE)


def hourly(counts):
    buckets = [
        Bucket(START + dt.timedelta(hours=i), opens, clicks)
        for i, (opens, clicks) in enumerate(counts)
    ]
    return ActivitySeries("hour", "Europe/London", buckets)


def test_axis_maxima_are_round_and_cover_the_data():
    assert nice_ceiling(0) == 4 and nice_ceiling(3) == 4
    assert nice_ceiling(5) == 8
    assert nice_ceiling(312) == 400
    assert nice_ceiling(1000) == 1000
    for value in range(1, 5000, 37):
        top = nice_ceiling(value)
        assert top >= value and top % 4 == 0


def test_points_lie_inside_the_plot_and_the_peak_touches_the_top():
    chart = build_chart(hourly([(12, 1), (40, 6), (3, 0), (0, 0), (1, 2)]))
    assert chart.width == WIDTH and chart.height == HEIGHT
    xs = [point.x for point in chart.open_points]
    assert xs[0] == LEFT and xs[-1] == WIDTH - RIGHT and xs == sorted(xs)
    assert all(TOP <= point.y <= TOP + PLOT_HEIGHT for point in chart.open_points)
    assert min(point.y for point in chart.open_points) == TOP  # 40 opens on a 40 axis
    assert chart.opens_line.startswith("M") and chart.opens_area.endswith("Z")
    assert [tick.label for tick in chart.y_ticks] == ["0", "10", "20", "30", "40"]
    assert chart.open_points[1].title == "Tue 11 Mar, 10:00 — 40 opens"
    assert chart.click_points[0].title == "Tue 11 Mar, 09:00 — 1 click"


def test_summary_and_table_for_screen_readers_skip_quiet_periods():
    chart = build_chart(hourly([(12, 1), (40, 6), (0, 0), (1, 2)]))
    assert chart.summary == (
        "53 opens and 9 clicks by people, by hour. Busiest: Tue 11 Mar, 10:00 with 40 opens."
    )
    assert chart.rows == [
        ("Tue 11 Mar, 09:00", 12, 1),
        ("Tue 11 Mar, 10:00", 40, 6),
        ("Tue 11 Mar, 12:00", 1, 2),
    ]


def test_x_labels_name_the_day_once_and_keep_the_ends():
    chart = build_chart(hourly([(1, 0)] * 20))
    labels = chart.x_labels
    assert 2 <= len(labels) <= 6
    assert labels[0].label == "11 Mar, 09:00" and labels[0].anchor == "start"
    assert labels[-1].anchor == "end" and not labels[-1].minor
    # The date only where the day changes (past midnight: "12 Mar, 01:00").
    assert [label.label for label in labels] == [
        "11 Mar, 09:00",
        "13:00",
        "17:00",
        "21:00",
        "12 Mar, 01:00",
        "04:00",
    ]


def test_long_series_are_lines_without_dots():
    assert build_chart(hourly([(1, 1)] * MAX_DOTS)).show_dots
    assert not build_chart(hourly([(1, 1)] * (MAX_DOTS + 1))).show_dots


def test_a_single_period_is_a_centred_dot():
    chart = build_chart(hourly([(5, 2)]))
    assert chart.opens_line == "" and chart.show_dots
    assert chart.open_points[0].x == LEFT + (WIDTH - LEFT - RIGHT) / 2
    assert chart.x_labels[0].anchor == "middle"


def test_days_and_weeks_are_labelled_as_such():
    days = ActivitySeries(
        "day", "Europe/London", [Bucket(START + dt.timedelta(days=i), 1, 0) for i in range(3)]
    )
    assert [label.label for label in build_chart(days).x_labels] == [
        "Tue 11 Mar",
        "Wed 12 Mar",
        "Thu 13 Mar",
    ]
    weeks = ActivitySeries("week", "Europe/London", [Bucket(START, 1, 0)])
    assert build_chart(weeks).rows[0][0] == "Week of 11 Mar"


def test_nothing_is_drawn_without_activity():
    assert build_chart(hourly([(0, 0), (0, 0)])) is None
    assert build_chart(ActivitySeries("hour", "UTC", [])) is None
