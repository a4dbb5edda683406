"""The events-over-time chart above a log table.

Bars per time bucket for the tab's current filter, stacked by outcome in the
log type's colours. Dragging across the chart makes the dragged buckets the
tab's time filter; Back (or a double-click) restores the time filter before.
The counts come from :func:`auditviewer.data.timeline.compute_timeline` on a
background lane, and a newer filter cancels the chart of the older one.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from auditviewer.data.insights.model import Chart, ChartSeries
from auditviewer.data.query import LogQuery
from auditviewer.data.timeline import Timeline, compute_timeline, label_width
from auditviewer.qt.models.background import LatestResult
from auditviewer.qt.models.plaintext import html_text
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.models.tasks import TaskRunner
from auditviewer.qt.widgets.charts import ChartView, chart_image, from_seconds, seconds
from auditviewer.qt.widgets.filter_bar import FilterBar

log = logging.getLogger(__name__)

PLOT_HEIGHT = 130
SELECTION_BRUSH = (47, 93, 138, 60)


def timeline_chart(timeline: Timeline, title: str = "Events over time") -> Chart:
    """A timeline as chart data: stacked bars in the outcomes' colours."""
    return Chart(
        "time",
        title,
        "",
        tuple(ChartSeries(s.label, tuple(float(v) for v in s.counts), s.color) for s in timeline.series),
        edges=timeline.edges,
        stacked=True,
    )


class SelectingViewBox(pg.ViewBox):
    """A view box where a left-drag selects a span of x (no panning, no zooming)."""

    selected = Signal(float, float)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=False, y=False)
        self.region = pg.LinearRegionItem(movable=False, brush=SELECTION_BRUSH)
        self.region.setZValue(10)
        self.region.hide()
        self.addItem(self.region, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        a, b = self.mapToView(ev.buttonDownPos()).x(), self.mapToView(ev.pos()).x()
        low, high = min(a, b), max(a, b)
        self.region.setRegion((low, high))
        self.region.show()
        if ev.isFinish():
            self.region.hide()
            self.selected.emit(low, high)

    def wheelEvent(self, ev, axis=None) -> None:
        ev.ignore()


class TimelinePanel(QWidget):
    """The chart, its header (fold, what it shows, legend, Back) and the history of selections."""

    #: A range was selected (naive UTC start, end); the filter bar has it already.
    rangeSelected = Signal(object, object)
    #: The chart of the current filter arrived.
    updated = Signal()

    def __init__(
        self,
        filter_bar: FilterBar,
        runner: TaskRunner,
        settings: Settings,
        utc: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self._filter_bar = filter_bar
        self._settings = settings
        self._utc = utc
        self._query: LogQuery | None = None
        self._stale = False
        self._history: list[dict] = []
        self.timeline: Timeline | None = None
        self._result = LatestResult(runner, self)
        self._build_header()
        self.view_box = SelectingViewBox()
        self.plot = ChartView(utc=utc, parent=self, over_time=True, view_box=self.view_box, legend=False)
        self.plot.setObjectName("timelinePlot")
        self.plot.setFixedHeight(PLOT_HEIGHT)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.header)
        layout.addWidget(self.plot)

        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.back.clicked.connect(self.go_back)
        self.view_box.selected.connect(self._on_view_box_selected)
        # A double-click is caught on the viewport: pyqtgraph's scene loses it when the
        # platform sends a second press before the double-click event.
        self.plot.viewport().installEventFilter(self)
        self._result.ready.connect(self._on_result_ready)
        self._result.failed.connect(self._on_result_failed)
        self._result.busyChanged.connect(self._on_busy_changed)
        self.set_collapsed(settings.timeline_collapsed(), remember=False)

    def _build_header(self) -> None:
        """The line above the chart: fold, what it shows, legend, hint, Back."""
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("timelineToggle")
        self.toggle.setText("Events over time")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setToolTip("Show or hide the chart of rows over time (remembered)")
        self.summary = QLabel("", self)
        self.summary.setObjectName("timelineSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.legend = QLabel("", self)
        self.legend.setObjectName("timelineLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)  # our own labels, escaped
        self.back = QToolButton(self)
        self.back.setObjectName("timelineBack")
        self.back.setText("Back")
        self.back.setToolTip("Go back to the time range before the last selection (or double-click the chart)")
        self.back.setEnabled(False)
        self.hint = QLabel("Drag across the chart to show only that time", self)
        self.hint.setObjectName("timelineHint")
        self.hint.setStyleSheet("color: #777;")
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.addWidget(self.toggle)
        header.addWidget(self.summary)
        header.addSpacing(12)
        header.addWidget(self.legend)
        header.addStretch(1)
        header.addWidget(self.hint)
        header.addWidget(self.back)
        self.header = header

    # -- public ----------------------------------------------------------------------------

    @property
    def collapsed(self) -> bool:
        return not self.toggle.isChecked()

    def set_collapsed(self, collapsed: bool, remember: bool = True) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(not collapsed)
        self.toggle.blockSignals(False)
        self._apply_collapsed(remember)

    def add_header_widget(self, widget: QWidget) -> None:
        """A tool of the tab shown at the right of the chart's header."""
        self.header.addWidget(widget)

    @property
    def busy(self) -> bool:
        return self._result.busy

    def set_query(self, query: LogQuery | None) -> None:
        """Chart ``query``'s rows (now if shown, else when unfolded)."""
        self._query = query
        if query is None:
            self._result.cancel()
            return
        if self.collapsed:
            self._result.cancel()
            self._stale = True
        else:
            self.refresh()

    def refresh(self) -> None:
        query = self._query
        self._stale = False
        if query is None:
            return
        self._result.run("timeline", lambda token: compute_timeline(query, token))

    def cancel(self) -> None:
        if self._result.busy:
            self._result.cancel()
            self._stale = True
            self.summary.setText("Chart stopped")

    def set_utc(self, utc: bool) -> None:
        self._utc = utc
        self.plot.set_utc(utc)
        if self.timeline is not None:
            self._draw(self.timeline)

    def select_span(self, low: float, high: float) -> tuple[datetime, datetime] | None:
        """Select the buckets under [low, high] (Unix seconds): they become the tab's time filter."""
        timeline = self.timeline
        if timeline is None or not timeline.buckets:
            return None
        first = timeline.bucket_at(max(from_seconds(low), timeline.edges[0]))
        last = timeline.bucket_at(min(from_seconds(high), timeline.edges[-1] - timeline.width / 1000))
        if first is None or last is None:
            return None
        start, end = timeline.edges[first], timeline.edges[last + 1]
        self.select_range(start, end)
        return start, end

    def select_range(self, start: datetime, end: datetime) -> None:
        """Make [start, end) (naive UTC) the time filter, remembering the one before for Back."""
        state = self._filter_bar.state()
        self._history.append({k: state[k] for k in ("time_preset", "time_from", "time_to")})
        self.back.setEnabled(True)
        self._filter_bar.set_time_range(start, end)
        self.rangeSelected.emit(start, end)

    def go_back(self) -> bool:
        """Restore the time filter from before the last selection."""
        if not self._history:
            return False
        state = self._history.pop()
        self.back.setEnabled(bool(self._history))
        if state["time_preset"] == "custom" and state["time_from"] and state["time_to"]:
            self._filter_bar.set_time_range(
                datetime.fromisoformat(state["time_from"]), datetime.fromisoformat(state["time_to"])
            )
        else:
            self._filter_bar.set_time_preset(state["time_preset"])
        return True

    def timeline_image(self, width: int = 1200, height: int = 300) -> QImage:
        """The chart of the current filter as an image (null while there is none), e.g. for a report."""
        if self.timeline is None or self.timeline.is_empty:
            return QImage()
        return chart_image(timeline_chart(self.timeline), width, height, self._utc)

    def hover_text(self, moment: datetime) -> str:
        """What hovering the chart at ``moment`` shows."""
        return self.plot.hover_text(QPointF(seconds(moment), 0.0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.plot.viewport()
            and event.type() == QEvent.Type.MouseButtonDblClick
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
        ):
            self.go_back()
            return True
        return super().eventFilter(watched, event)

    # -- drawing ---------------------------------------------------------------------------

    def _draw(self, timeline: Timeline) -> None:
        self.timeline = timeline
        if timeline.is_empty:
            self.plot.getPlotItem().clear()
            self.plot.chart = None
            self.summary.setText("No rows to chart")
            self.legend.setText("")
            return
        self.plot.set_chart(timeline_chart(timeline))
        self.summary.setText(f"{timeline.total:,} rows, one bar per {label_width(timeline.width)}")
        shown = [s for s in timeline.series if sum(s.counts)] or list(timeline.series)
        self.legend.setText(
            "&nbsp;&nbsp;".join(
                f'<span style="color:{s.color}">&#9632;</span>&nbsp;{html_text(s.label)}' for s in shown
            )
        )

    def _apply_collapsed(self, remember: bool) -> None:
        collapsed = self.collapsed
        self.toggle.setArrowType(Qt.ArrowType.RightArrow if collapsed else Qt.ArrowType.DownArrow)
        for widget in (self.plot, self.legend, self.hint, self.back):
            widget.setVisible(not collapsed)
        if remember:
            self._settings.set_timeline_collapsed(collapsed)

    # -- slots ------------------------------------------------------------------------------

    def _on_toggle_toggled(self, _checked: bool) -> None:
        self._apply_collapsed(remember=True)
        if not self.collapsed and (self._stale or self.timeline is None):
            self.refresh()

    def _on_view_box_selected(self, low: float, high: float) -> None:
        self.select_span(low, high)

    def _on_result_ready(self, timeline: Timeline) -> None:
        self._draw(timeline)
        self.updated.emit()

    def _on_result_failed(self, message: str) -> None:
        self.summary.setText(f"Chart unavailable: {message}")
        log.warning("timeline failed: %s", message)

    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self.summary.setText("Counting rows over time…")
