"""pyqtgraph charts drawn from the data layer's chart data: stacked bars over time, bars by category, lines.

One :class:`ChartView` draws any :class:`~auditviewer.data.insights.Chart`;
the log tab's timeline draws its :class:`~auditviewer.data.timeline.Timeline`
with the same bar code. Hovering a bar tells its range (or category) and
values; :func:`chart_image` draws a chart off screen for PNG files and reports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QImage, QMouseEvent
from PySide6.QtWidgets import QToolTip, QWidget

from auditviewer.data.insights.model import Chart
from auditviewer.data.timestamps import format_time
from auditviewer.qt.models.plaintext import html_text, plain_tooltip

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1)
BACKGROUND = "#ffffff"
FOREGROUND = "#404040"
GRID_ALPHA = 0.25
MAX_LABEL = 42  # characters of a category shown on the axis (the tooltip has all of it)


def seconds(moment: datetime) -> float:
    """A naive UTC time as Unix seconds: what pyqtgraph's date axis counts in."""
    return (moment - EPOCH).total_seconds()


def from_seconds(value: float) -> datetime:
    return EPOCH + timedelta(seconds=float(value))


def date_axis(utc: bool) -> pg.DateAxisItem:
    """A time axis in UTC, or in this computer's zone (``utcOffset`` None)."""
    axis = pg.DateAxisItem(orientation="bottom", utcOffset=0 if utc else None)
    axis.setPen(FOREGROUND)
    axis.setTextPen(FOREGROUND)
    return axis


def style_plot(plot: pg.PlotWidget) -> None:
    """White, quiet, and not draggable: these charts are read, not explored by panning."""
    plot.setBackground(BACKGROUND)
    item = plot.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    item.showGrid(x=False, y=True, alpha=GRID_ALPHA)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(FOREGROUND)
        axis.setTextPen(FOREGROUND)
    view = item.getViewBox()
    view.setMouseEnabled(x=False, y=False)
    view.setMenuEnabled(False)


def stacked_bars(
    plot: pg.PlotItem,
    x0: np.ndarray,
    x1: np.ndarray,
    series: Sequence[tuple[str, Sequence[float], str]],
    horizontal: bool = False,
) -> list[pg.BarGraphItem]:
    """One BarGraphItem per series, each on top of the ones before (to the right of, if ``horizontal``)."""
    items = []
    base = np.zeros(len(x0), dtype=float)
    for label, values, color in series:
        heights = np.asarray(values, dtype=float)
        brush = pg.mkBrush(color)
        # Outlines darken bars only a few pixels wide: over time (many bars) there are none.
        pen = pg.mkPen(QColor(color).darker(115), width=0) if horizontal or len(x0) <= 60 else pg.mkPen(None)
        if horizontal:
            bar = pg.BarGraphItem(
                x0=base.copy(), width=heights, y0=x0, y1=x1, brush=brush, pen=pen, name=html_text(label)
            )  # the legend takes HTML
        else:
            bar = pg.BarGraphItem(
                x0=x0, x1=x1, y0=base.copy(), height=heights, brush=brush, pen=pen, name=html_text(label)
            )
        plot.addItem(bar)
        items.append(bar)
        base += heights
    return items


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class ChartView(pg.PlotWidget):
    """One finding's chart. Hovering a bar or a point shows its values."""

    def __init__(
        self,
        chart: Chart | None = None,
        utc: bool = True,
        parent: QWidget | None = None,
        *,
        over_time: bool | None = None,
        view_box: pg.ViewBox | None = None,
        legend: bool = True,
    ) -> None:
        self._utc = utc
        self._legend = legend
        if over_time is None:
            over_time = chart is not None and chart.kind != "bar"
        super().__init__(parent, viewBox=view_box, axisItems={"bottom": date_axis(utc)} if over_time else None)
        style_plot(self)
        self.setMinimumHeight(110)
        self.chart: Chart | None = None
        self._horizontal = False
        self._dragging = False
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        if chart is not None:
            self.set_chart(chart)

    @property
    def utc(self) -> bool:
        """Whether times are told in UTC (else in this computer's zone)."""
        return self._utc

    @property
    def zone(self) -> tzinfo | None:
        return UTC if self._utc else None

    def set_utc(self, utc: bool) -> None:
        """Tell times in UTC or in this computer's zone (axis and hover)."""
        self._utc = utc
        if isinstance(self.getPlotItem().getAxis("bottom"), pg.DateAxisItem):
            self.getPlotItem().setAxisItems({"bottom": date_axis(utc)})

    def set_chart(self, chart: Chart) -> None:
        self.chart = chart
        item = self.getPlotItem()
        item.clear()  # also takes the old series out of the legend
        if self._legend and len(chart.series) > 1 and item.legend is None:
            item.addLegend(offset=(-8, 6), labelTextColor=FOREGROUND, brush=pg.mkBrush(255, 255, 255, 210))
        if chart.y_label:
            item.setLabel(
                "left" if chart.kind != "bar" or not self._is_horizontal(chart) else "bottom",
                html_text(chart.y_label),
                color=FOREGROUND,
            )  # axis labels are HTML
        if chart.kind == "bar":
            self._draw_bars(item, chart)
        elif chart.kind == "time":
            x = np.array([seconds(e) for e in chart.edges])
            stacked_bars(item, x[:-1], x[1:], [(s.label, s.values, s.color) for s in chart.series])
            item.setXRange(x[0], x[-1], padding=0.01)
        else:
            x = np.array([seconds(e) for e in chart.edges])
            middles = (x[:-1] + x[1:]) / 2
            for series in chart.series:
                item.plot(
                    middles,
                    np.asarray(series.values, dtype=float),
                    name=html_text(series.label),
                    pen=pg.mkPen(series.color, width=2),
                )
            item.setXRange(x[0], x[-1], padding=0.01)
        item.enableAutoRange(axis="y")

    @staticmethod
    def _is_horizontal(chart: Chart) -> bool:
        return any(len(c) > 3 for c in chart.categories)

    def _draw_bars(self, item: pg.PlotItem, chart: Chart) -> None:
        n = len(chart.categories)
        self._horizontal = self._is_horizontal(chart)
        positions = np.arange(n, dtype=float)
        series = [(s.label, s.values, s.color) for s in chart.series]
        ticks = [[(float(i), _short(c)) for i, c in enumerate(chart.categories)]]
        if self._horizontal:
            stacked_bars(item, positions - 0.35, positions + 0.35, series, horizontal=True)
            axis = item.getAxis("left")
            axis.setTicks(ticks)
            metrics = QFontMetrics(axis.font() if hasattr(axis, "font") else self.font())
            axis.setWidth(min(320, max((metrics.horizontalAdvance(t) for _, t in ticks[0]), default=40) + 16))
            item.getViewBox().invertY(True)
            item.setYRange(-0.6, n - 0.4, padding=0)
            item.showGrid(x=True, y=False, alpha=GRID_ALPHA)
        else:
            stacked_bars(item, positions - 0.4, positions + 0.4, series)
            item.getAxis("bottom").setTicks(ticks)
            item.setXRange(-0.6, n - 0.4, padding=0)

    # -- hovering ---------------------------------------------------------------------------

    def hover_text(self, point: QPointF) -> str:
        """What hovering the view point (in data coordinates) shows; empty off the bars."""
        chart = self.chart
        if chart is None:
            return ""
        if chart.kind == "bar":
            where = point.y() if self._horizontal else point.x()
            i = round(where)
            if not 0 <= i < len(chart.categories) or abs(where - i) > 0.45:
                return ""
            lines = [chart.categories[i]] + [f"{s.label}: {_number(s.values[i])}" for s in chart.series]
            return "\n".join(lines)
        moment = from_seconds(point.x())
        edges = chart.edges
        if not edges or moment < edges[0] or moment >= edges[-1]:
            return ""
        i = next(k for k in range(len(edges) - 1) if edges[k] <= moment < edges[k + 1])
        zone = UTC if self._utc else datetime.now().astimezone().tzinfo or UTC
        head = f"{format_time(edges[i], zone)} – {format_time(edges[i + 1], zone)}"
        lines = [head] + [f"{s.label}: {_number(s.values[i])}" for s in chart.series]
        if chart.stacked and len(chart.series) > 1:
            lines.append(f"Total: {_number(sum(s.values[i] for s in chart.series))}")
        return "\n".join(lines)

    def hover_tooltip(self, point: QPointF) -> str:
        """The hover text as handed to Qt: categories are data, shown as text even when they look like HTML."""
        return plain_tooltip(self.hover_text(point))

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        self._dragging = ev.buttons() != Qt.MouseButton.NoButton  # no tooltip in the middle of a selection
        super().mouseMoveEvent(ev)

    def _on_mouse_moved(self, position: QPointF) -> None:
        if self._dragging:
            QToolTip.hideText()
            return
        view = self.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(position):
            QToolTip.hideText()
            return
        text = self.hover_tooltip(view.mapSceneToView(position))
        if text:
            QToolTip.showText(QCursor.pos(), text, self)
        else:
            QToolTip.hideText()


def chart_image(chart: Chart, width: int = 1100, height: int = 380, utc: bool = True) -> QImage:
    """The chart drawn off screen at ``width`` x ``height`` pixels (for PNG files and printed reports)."""
    view = ChartView(chart, utc)
    try:
        view.resize(width, height)
        return view.grab().toImage()
    finally:
        view.deleteLater()
