"""The log tab's events-over-time chart: bars equal SQL counts, a drag sets the time filter, Back undoes it."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from auditviewer.data.filters import parse_condition
from auditviewer.data.source import Source, open_source
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets.charts import seconds
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import known
from tests.unit.logrows import BASE, api_row

STATUSES = [200, 201, 404, 200, 500, 204, 200, 429, 200, 503]
ROWS = [
    api_row(
        i,
        date=BASE + timedelta(minutes=i * 7, seconds=i % 50),
        status=STATUSES[i % len(STATUSES)],
        remote_ip=f"192.0.2.{i % 5}",
    )
    for i in range(1, 1201)
]  # about 6 days
OUTCOME_SQL = {"ok": "status < 400", "4xx": "status >= 400 AND status < 500", "5xx": "status >= 500"}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return DbFactory("sqlite", tmp_path_factory.mktemp("timeline")).create(
        {"api": ROWS}, indexes=[("*", "date"), ("*", "status")]
    )


@pytest.fixture
def source(db_path: str) -> Iterator[Source]:
    with open_source(db_path) as src:
        yield src


def open_tab(qtbot, source: Source) -> LogTab:
    tab = LogTab(source, "api")
    qtbot.addWidget(tab)
    tab.resize(1300, 700)
    tab.show()
    qtbot.waitExposed(tab)
    wait_chart(qtbot, tab)
    return tab


def wait_chart(qtbot, tab: LogTab) -> None:
    qtbot.waitUntil(
        lambda: tab.timeline.timeline is not None and not tab.timeline.busy and tab.model.total is not None,
        timeout=10_000,
    )


@pytest.fixture
def tab(qtbot, source: Source) -> Iterator[LogTab]:
    tab = open_tab(qtbot, source)
    yield tab
    tab.shutdown()


def sql_counts(path: str, edges: tuple[datetime, ...], outcome: str, where: str = "1 = 1") -> list[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [
            conn.execute(
                f"SELECT count(*) FROM api_logs WHERE date >= ? AND date < ? AND ({outcome}) AND ({where})",
                (a.strftime("%Y-%m-%d %H:%M:%S"), b.strftime("%Y-%m-%d %H:%M:%S")),
            ).fetchone()[0]
            for a, b in itertools.pairwise(edges)
        ]
    finally:
        conn.close()


def drawn_bars(tab: LogTab) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per series label: the bars' left edges, right edges and heights, as drawn."""
    bars = {}
    for item in tab.timeline.plot.getPlotItem().items:
        if isinstance(item, pg.BarGraphItem):
            opts = item.opts
            bars[opts["name"]] = (np.asarray(opts["x0"]), np.asarray(opts["x1"]), np.asarray(opts["height"]))
    return bars


def send_mouse(widget, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def chart_point(tab: LogTab, moment: datetime) -> QPoint:
    """Where ``moment`` is on the chart's viewport, halfway up the plot."""
    plot = tab.timeline.plot
    box = plot.getPlotItem().getViewBox()
    y = box.viewRange()[1][1] / 2
    return plot.mapFromScene(box.mapViewToScene(QPointF(seconds(moment), y)))


def settled(qtbot, tab: LogTab) -> None:
    """pyqtgraph sizes its axes to their labels a turn of the event loop after drawing: wait for it."""
    box = tab.timeline.plot.getPlotItem().getViewBox()
    seen: list[object] = []

    def steady() -> bool:
        seen.append((box.sceneBoundingRect(), tuple(box.viewRange()[0])))
        return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(steady, timeout=5_000)


def drag(qtbot, tab: LogTab, start: datetime, end: datetime) -> None:
    settled(qtbot, tab)
    viewport = tab.timeline.plot.viewport()
    a, b = chart_point(tab, start), chart_point(tab, end)
    left = Qt.MouseButton.LeftButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, a, left, left)
    for k in range(1, 11):
        send_mouse(viewport, QEvent.Type.MouseMove, a + (b - a) * k / 10, Qt.MouseButton.NoButton, left)
        qtbot.wait(5)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)


def test_bars_are_the_sql_counts_of_each_bucket_and_outcome(qtbot, tab: LogTab, db_path: str) -> None:
    timeline = known(tab.timeline.timeline)
    assert timeline is not None and timeline.width == timedelta(hours=1)  # 5.8 days: 140 bars
    bars = drawn_bars(tab)
    assert list(bars) == ["2xx/3xx", "4xx", "5xx"]
    edges = np.array([seconds(e) for e in timeline.edges])
    bottom = np.zeros(len(edges) - 1)
    for label, key in (("2xx/3xx", "ok"), ("4xx", "4xx"), ("5xx", "5xx")):
        x0, x1, heights = bars[label]
        assert np.array_equal(x0, edges[:-1]) and np.array_equal(x1, edges[1:])
        assert heights.tolist() == sql_counts(db_path, timeline.edges, OUTCOME_SQL[key])
        bottom += heights
    assert bottom.sum() == len(ROWS) == tab.model.total
    assert tab.timeline.summary.text() == f"{len(ROWS):,} rows, one bar per hour"
    assert "4xx" in tab.timeline.legend.text()


def test_the_chart_follows_the_filter(qtbot, tab: LogTab, db_path: str) -> None:
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        tab.add_condition(parse_condition("remote_ip=192.0.2.3"))
    timeline = known(tab.timeline.timeline)
    bars = drawn_bars(tab)
    assert bars["5xx"][2].tolist() == sql_counts(db_path, timeline.edges, OUTCOME_SQL["5xx"], "remote_ip = '192.0.2.3'")
    assert timeline.total == sum(1 for r in ROWS if r["remote_ip"] == "192.0.2.3")


def test_dragging_a_region_makes_it_the_time_filter_and_back_restores(qtbot, tab: LogTab, db_path: str) -> None:
    timeline = known(tab.timeline.timeline)
    start, end = timeline.edges[40] + timedelta(minutes=30), timeline.edges[100] - timedelta(minutes=30)
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        drag(qtbot, tab, start, end)
    flt = tab.filter_bar.filter()
    # Whole buckets: from the one the drag started in to the end of the one it ended in
    # (the drag starts and ends mid-bucket: a pixel is several minutes here).
    assert (flt.time_from, flt.time_to) == (timeline.edges[40], timeline.edges[100])
    assert known(tab.query()).filter.time_from == timeline.edges[40]
    assert tab.filter_bar.describe_time() == "Custom range…"
    wait_chart(qtbot, tab)
    assert tab.model.total == sum(1 for r in ROWS if timeline.edges[40] <= r["date"] < timeline.edges[100])
    zoomed = known(tab.timeline.timeline)
    assert zoomed.width == timedelta(minutes=15) and zoomed.total == tab.model.total
    assert tab.timeline.back.isEnabled()

    # A second selection inside the first, then back twice: each step restores the one before.
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        drag(qtbot, tab, zoomed.edges[10] + timedelta(minutes=7), zoomed.edges[20] + timedelta(minutes=7))
    narrow = tab.filter_bar.filter()
    assert (narrow.time_from, narrow.time_to) == (zoomed.edges[10], zoomed.edges[21])
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        qtbot.mouseClick(tab.timeline.back, Qt.MouseButton.LeftButton)
    assert (tab.filter_bar.filter().time_from, tab.filter_bar.filter().time_to) == (
        timeline.edges[40],
        timeline.edges[100],
    )
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        qtbot.mouseClick(tab.timeline.back, Qt.MouseButton.LeftButton)
    assert tab.filter_bar.describe_time() == "Any time" and tab.filter_bar.filter().time_from is None
    assert not tab.timeline.back.isEnabled()
    wait_chart(qtbot, tab)
    assert tab.model.total == len(ROWS)


def test_double_click_goes_back(qtbot, tab: LogTab) -> None:
    timeline = known(tab.timeline.timeline)
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        tab.timeline.select_range(timeline.edges[5], timeline.edges[9])
    wait_chart(qtbot, tab)
    settled(qtbot, tab)
    viewport = tab.timeline.plot.viewport()
    point = chart_point(tab, known(tab.timeline.timeline).edges[2])
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert tab.filter_bar.filter().time_from is None


def test_hovering_a_bar_tells_its_range_and_counts(qtbot, tab: LogTab, db_path: str) -> None:
    timeline = known(tab.timeline.timeline)
    k = 30
    text = tab.timeline.hover_text(timeline.edges[k] + timedelta(minutes=1))
    counts = {key: sql_counts(db_path, timeline.edges[k : k + 2], sql)[0] for key, sql in OUTCOME_SQL.items()}
    assert text.splitlines() == [
        f"{timeline.edges[k]:%Y-%m-%d %H:%M:%S} – {timeline.edges[k + 1]:%Y-%m-%d %H:%M:%S}",
        f"2xx/3xx: {counts['ok']}",
        f"4xx: {counts['4xx']}",
        f"5xx: {counts['5xx']}",
        f"Total: {sum(counts.values())}",
    ]
    assert tab.timeline.hover_text(timeline.edges[0] - timedelta(hours=1)) == ""


def test_folding_is_remembered_and_a_folded_chart_asks_nothing(qtbot, tab: LogTab, source: Source) -> None:
    assert not tab.timeline.collapsed and tab.timeline.plot.isVisible()
    qtbot.mouseClick(tab.timeline.toggle, Qt.MouseButton.LeftButton)
    assert tab.timeline.collapsed and not tab.timeline.plot.isVisible()
    assert Settings().timeline_collapsed()
    other = LogTab(source, "api")
    qtbot.addWidget(other)
    try:
        other.show()
        qtbot.waitUntil(lambda: other.model.total is not None, timeout=10_000)
        assert other.timeline.collapsed and other.timeline.timeline is None and not other.timeline.busy
        with qtbot.waitSignal(other.timeline.updated, timeout=10_000):
            qtbot.mouseClick(other.timeline.toggle, Qt.MouseButton.LeftButton)
        assert known(other.timeline.timeline).total == len(ROWS)
        assert not Settings().timeline_collapsed()
    finally:
        other.shutdown()


def test_a_newer_filter_supersedes_the_chart_of_the_older(qtbot, tab: LogTab) -> None:
    for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.4"):
        tab.filter_bar.clear()
        tab.add_condition(parse_condition(f"remote_ip={ip}"))
    qtbot.waitUntil(lambda: not tab.timeline.busy, timeout=10_000)
    assert known(tab.timeline.timeline).total == sum(1 for r in ROWS if r["remote_ip"] == "192.0.2.4")


def test_stop_cancels_the_chart(qtbot, tab: LogTab) -> None:
    tab.add_condition(parse_condition("status>=400"))
    tab.cancel_running()
    assert not tab.timeline.busy
    qtbot.waitUntil(lambda: not tab.status()[2], timeout=10_000)


def test_times_follow_the_tab_and_the_image_is_for_reports(qtbot, tab: LogTab) -> None:
    tab.set_utc(False)
    axis = tab.timeline.plot.getPlotItem().getAxis("bottom")
    assert isinstance(axis, pg.DateAxisItem) and axis.utcOffset is None
    tab.set_utc(True)
    assert tab.timeline.plot.getPlotItem().getAxis("bottom").utcOffset == 0
    image = tab.timeline_image()
    assert not image.isNull() and (image.width(), image.height()) == (1200, 300)
    colours = {image.pixel(x, y) for x in range(80, 1150, 5) for y in range(40, 260, 10)}
    assert 0xFF54A24B in colours and len(colours) > 3  # the 2xx/3xx green among others: bars, not a blank


def test_an_empty_result_says_so(qtbot, tab: LogTab) -> None:
    with qtbot.waitSignal(tab.timeline.updated, timeout=10_000):
        tab.add_condition(parse_condition("status=999"))
    assert tab.timeline.summary.text() == "No rows to chart" and tab.timeline_image().isNull()
