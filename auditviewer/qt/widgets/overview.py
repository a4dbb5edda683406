"""A source's overview: what an account manager should look at first, most severe first.

The steps of :mod:`auditviewer.data.insights` run one by one on a lane of the
tab's own (progress, Stop); each finding becomes a card with its summary, a
chart (exportable to PNG) and a table whose lines open the rows behind them in
the log's tab. The whole overview prints, or exports to PDF, through the
reports' page renderer.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError
from auditviewer.data.insights import Chart, Finding, Overview, Params, Step, run_step, steps_for
from auditviewer.data.insights.report import overview_report
from auditviewer.data.logtypes import Severity, log_type
from auditviewer.data.source import Source
from auditviewer.data.timestamps import parse_duration
from auditviewer.data.views import TIME_PRESETS
from auditviewer.qt.models.plaintext import plain_tooltip
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.models.tasks import Task, TaskRunner
from auditviewer.qt.widgets.charts import ChartView, chart_image
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.qt.widgets.tabs import Tab

log = logging.getLogger(__name__)

SEVERITY_STYLE = {
    Severity.ERROR: ("Look now", "#a11d1d", "#fde4e4"),
    Severity.WARNING: ("Check", "#8a5a00", "#fff4d6"),
    Severity.OK: ("Fine", "#2e6b30", "#e3f3e3"),
}
PERIODS = [key for key in TIME_PRESETS if key != "custom"]
PNG_FILTER = "PNG images (*.png)"
_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")  # 1,234 and 12.5%, not 10.1.2.3
PDF_FILTER = "PDF documents (*.pdf)"


def _file_name(text: str) -> str:
    return re.sub(r"[^\w\- ]+", "", text).strip().replace(" ", "-").lower() or "chart"


class FindingCard(QFrame):
    """One finding: what, how bad, a chart, the lines behind it (double-click one to open its rows)."""

    rowsRequested = Signal(object)  # RowLink

    def __init__(self, finding: Finding, settings: Settings, utc: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.finding = finding
        self._settings = settings
        self.setObjectName("findingCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.addLayout(self._heading(finding))
        summary = QLabel(finding.summary, self)
        summary.setObjectName("findingSummary")
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(summary)

        self.chart: ChartView | None = None
        self.export_button: QToolButton | None = None
        if finding.chart is not None:
            self._add_chart(finding.chart, utc, layout)
        self.table: QTableWidget | None = None
        if finding.items:
            self.table = self._make_table(finding)
            layout.addWidget(self.table)
            self.table.cellDoubleClicked.connect(self._on_cell_double_clicked)
        self.show_rows.clicked.connect(self._on_show_rows_clicked)

    def _heading(self, finding: Finding) -> QHBoxLayout:
        """How bad, what, in which log; Show rows at the right."""
        word, ink, fill = SEVERITY_STYLE[finding.severity]
        badge = QLabel(word, self)
        badge.setObjectName("severityBadge")
        badge.setStyleSheet(
            f"color: {ink}; background: {fill}; border-radius: 3px; padding: 1px 6px; font-weight: bold;"
        )
        title = QLabel(finding.title, self)
        title.setObjectName("findingTitle")
        title.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        where = QLabel(log_type(finding.log).label, self)
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setStyleSheet("color: #777;")
        self.show_rows = QPushButton("Show rows", self)
        self.show_rows.setObjectName("showRows")
        self.show_rows.setToolTip("Open the log with the filter that shows the rows behind this finding")
        self.show_rows.setVisible(finding.link is not None)
        top = QHBoxLayout()
        top.addWidget(badge)
        top.addWidget(title)
        top.addWidget(where)
        top.addStretch(1)
        top.addWidget(self.show_rows)
        return top

    def _add_chart(self, chart: Chart, utc: bool, layout: QVBoxLayout) -> None:
        self.chart = ChartView(chart, utc, self)
        self.chart.setObjectName("findingChart")
        self.chart.setFixedHeight(230 if chart.kind != "bar" else max(180, min(360, 34 + 26 * len(chart.categories))))
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("exportChart")
        self.export_button.setText("Export chart to PNG…")
        self.export_button.setAutoRaise(True)
        row = QHBoxLayout()
        chart_title = QLabel(chart.title, self)
        chart_title.setObjectName("chartTitle")
        chart_title.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(chart_title)
        row.addStretch(1)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        layout.addWidget(self.chart)
        self.export_button.clicked.connect(self._on_export_clicked)

    def _make_table(self, finding: Finding) -> QTableWidget:
        table = QTableWidget(len(finding.items), len(finding.columns), self)
        table.setObjectName("findingItems")
        table.setHorizontalHeaderLabels(list(finding.columns))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(False)
        for r, item in enumerate(finding.items):
            for c, text in enumerate(item.cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(
                    plain_tooltip(text) if len(text) > 40 else ("Double-click to open the rows" if item.link else "")
                )
                if item.severity is not Severity.OK:
                    cell.setForeground(QColor(SEVERITY_STYLE[item.severity][1]))
                if _NUMBER.match(text):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, cell)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # who or what: the widest text
        header.setStretchLastSection(False)
        rows = min(len(finding.items), 12)
        table.setFixedHeight(header.sizeHint().height() + rows * table.verticalHeader().defaultSectionSize() + 4)
        return table

    def open_item(self, row: int) -> bool:
        """Ask for the rows behind line ``row`` of the table (what a double-click does)."""
        if not 0 <= row < len(self.finding.items) or self.finding.items[row].link is None:
            return False
        self.rowsRequested.emit(self.finding.items[row].link)
        return True

    def chart_image(self, width: int = 1400, height: int = 500) -> QImage:
        if self.finding.chart is None:
            return QImage()
        return chart_image(self.finding.chart, width, height, self.chart.utc if self.chart else True)

    def export_chart(self, path: str) -> bool:
        image = self.chart_image()
        return not image.isNull() and image.save(path, "PNG")  # type: ignore[call-overload]  # PySide6 takes the format as str; its stubs say bytes

    def set_utc(self, utc: bool) -> None:
        if self.chart is not None and self.finding.chart is not None and self.finding.chart.kind != "bar":
            self.chart.set_utc(utc)
            self.chart.set_chart(self.finding.chart)

    def _on_show_rows_clicked(self) -> None:
        if self.finding.link is not None:
            self.rowsRequested.emit(self.finding.link)

    def _on_cell_double_clicked(self, row: int, _column: int) -> None:
        self.open_item(row)

    def _on_export_clicked(self) -> None:
        name = f"{_file_name(self.finding.title)}.png"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chart", str(Path(self._settings.last_folder() or Path.home()) / name), PNG_FILTER
        )
        if path and not self.export_chart(path):
            show_error(self, "Cannot export the chart", f"{path} cannot be written. Choose another folder.")


class OverviewTab(Tab):
    """The findings of one source, computed step by step in the background."""

    #: Open the rows behind a finding (a RowLink) in the log's tab.
    rowsRequested = Signal(object)
    #: Every step has run (or failed, or was stopped).
    finished = Signal()

    def __init__(
        self, source: Source, utc: bool = True, parent: QWidget | None = None, settings: Settings | None = None
    ) -> None:
        super().__init__(source, settings, parent)
        self.setObjectName("overviewTab")
        self._utc = utc
        self._runner = TaskRunner("overview", self)
        self._generation = 0
        self._task: Task | None = None
        self._steps: list[Step] = []
        self._done = 0
        self._started = 0.0
        self._seconds: float | None = None
        self._findings: list[Finding] = []
        self._problems: list[str] = []
        self._params: Params | None = None
        self.cards: list[FindingCard] = []
        self._report_task: Task | None = None
        self.pdf_written: str | None = None
        self.print_dialog: QPrintDialog | None = None

        self._build_controls(self.settings.overview_rules())
        self.container = QWidget(self)
        self.cards_layout = QVBoxLayout(self.container)
        self.cards_layout.setContentsMargins(6, 6, 6, 6)
        self.cards_layout.setSpacing(10)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("overviewScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.container)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(self._controls_row())
        layout.addLayout(self._status_row())
        layout.addWidget(scroll, 1)

        self.run_button.clicked.connect(self._on_run_clicked)
        self.stop_button.clicked.connect(self.cancel_running)
        self.pdf_button.clicked.connect(self._on_pdf_clicked)
        self.print_button.clicked.connect(self._on_print_clicked)
        self._update_zone_label()
        self.compute()

    def _build_controls(self, rules: dict[str, object]) -> None:
        """The rules (as last used), Look again, Export PDF, Print; progress and Stop."""
        self.period = QComboBox(self)
        self.period.setObjectName("overviewPeriod")
        for key in PERIODS:
            self.period.addItem(TIME_PRESETS[key][0], key)
        self.period.setCurrentIndex(max(0, self.period.findData(rules.get("period", "any"))))
        self.burst_failures = self._spin(2, 1000, rules.get("burst_failures", 5), "burstFailures")
        self.burst_minutes = self._spin(1, 24 * 60, rules.get("burst_minutes", 10), "burstMinutes")
        self.business_start = self._spin(0, 23, rules.get("business_start", 7), "businessStart")
        self.business_end = self._spin(1, 24, rules.get("business_end", 19), "businessEnd")
        self.run_button = QPushButton("Look again", self)
        self.run_button.setObjectName("overviewRun")
        self.run_button.setToolTip("Compute the overview again with these settings")
        self.pdf_button = QPushButton("Export PDF…", self)
        self.pdf_button.setObjectName("overviewPdf")
        self.print_button = QPushButton("Print…", self)
        self.print_button.setObjectName("overviewPrint")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("overviewProgress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.state = QLabel("", self)
        self.state.setObjectName("overviewState")
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.stop_button = QToolButton(self)
        self.stop_button.setObjectName("overviewStop")
        self.stop_button.setText("Stop")

    def _controls_row(self) -> QHBoxLayout:
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Period:", self))
        controls.addWidget(self.period)
        controls.addSpacing(12)
        controls.addWidget(QLabel("A burst is", self))
        controls.addWidget(self.burst_failures)
        controls.addWidget(QLabel("failed logins within", self))
        controls.addWidget(self.burst_minutes)
        controls.addWidget(QLabel("minutes.  Business hours:", self))
        controls.addWidget(self.business_start)
        controls.addWidget(QLabel("to", self))
        controls.addWidget(self.business_end)
        self.zone_label = QLabel("", self)
        controls.addWidget(self.zone_label)
        controls.addWidget(self.run_button)
        controls.addStretch(1)
        controls.addWidget(self.pdf_button)
        controls.addWidget(self.print_button)
        return controls

    def _status_row(self) -> QHBoxLayout:
        status = QHBoxLayout()
        status.addWidget(self.progress)
        status.addWidget(self.state, 1)
        status.addWidget(self.stop_button)
        return status

    def _spin(self, low: int, high: int, value: object, name: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(int(value) if isinstance(value, (int, float, str)) and str(value).isdigit() else low)
        return spin

    # -- what the window asks of every tab (see tabs.Tab) ---------------------------------------------------

    def title(self) -> str:
        return "Overview"

    def tab_text(self, several_sources: bool) -> str:
        return f"Overview · {self.source.display_name}"

    def tab_tooltip(self) -> str:
        return f"What to look at first in {self.source.display_name}"

    def status(self) -> tuple[str, str, bool]:
        busy = self._task is not None or self._report_task is not None
        if busy:
            return f"Looking at {self._done + 1} of {len(self._steps)}…", "", True
        counts = {s: sum(1 for f in self._findings if f.severity is s) for s in Severity}
        text = (
            f"{len(self._findings)} findings: {counts[Severity.ERROR]} to look at now, "
            f"{counts[Severity.WARNING]} to check"
        )
        return text, (f"computed in {self._seconds:.1f} s" if self._seconds is not None else ""), False

    def set_utc(self, utc: bool) -> None:
        self._utc = utc
        self._update_zone_label()
        for card in self.cards:
            card.set_utc(utc)

    def cancel_running(self) -> None:
        self._generation += 1
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            self._finish(stopped=True)
        if self._report_task is not None:
            self._report_task.cancel()
            self._report_task = None
            self.state.setText("Report cancelled")
        self._emit_status()

    def shutdown(self) -> None:
        self._generation += 1
        self._runner.shutdown()

    # -- computing -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None

    def params(self) -> Params:
        key = self.period.currentData()
        span = TIME_PRESETS.get(key, ("", None))[1]
        return Params(
            burst_failures=self.burst_failures.value(),
            burst_minutes=self.burst_minutes.value(),
            business_start=self.business_start.value(),
            business_end=self.business_end.value(),
            zone="UTC" if self._utc else "local",
            last=parse_duration(span) if span else None,
        )

    def overview(self) -> Overview | None:
        if self._params is None:
            return None
        return Overview(self.source.display_name, self._params, tuple(self._findings), tuple(self._problems))

    def compute(self) -> bool:
        """Start over with the settings shown; False (and a message) when they do not make sense."""
        try:
            params = self.params()
        except ValueError as exc:
            self.state.setText(str(exc))
            return False
        self.cancel_running()
        self.settings.set_overview_rules(
            {
                "period": self.period.currentData(),
                "burst_failures": params.burst_failures,
                "burst_minutes": params.burst_minutes,
                "business_start": params.business_start,
                "business_end": params.business_end,
            }
        )
        self._params = params
        self._steps, skipped = steps_for(self.source)
        self._problems = list(skipped)
        self._findings = []
        self._done = 0
        self._seconds = None
        for card in self.cards:
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        self.progress.setRange(0, max(len(self._steps), 1))
        self.progress.setValue(0)
        self._started = time.perf_counter()
        self._generation += 1
        self._run_next()
        return True

    def _run_next(self) -> None:
        if self._done >= len(self._steps):
            self._finish()
            return
        step, params, source, generation = self._steps[self._done], self._params, self.source, self._generation
        assert params is not None
        self.state.setText(f"Looking at: {step.title} ({self._done + 1} of {len(self._steps)})")
        self._task = self._runner.submit(
            step.key,
            lambda token: run_step(source, step, params, token),
            done=lambda findings: self._on_step_done(generation, findings),
            failed=lambda exc: self._on_step_failed(generation, step, exc),
        )
        self.stop_button.setEnabled(True)
        self._emit_status()

    def _on_step_done(self, generation: int, findings: list[Finding]) -> None:
        if generation != self._generation:
            return
        for finding in findings:
            self._add_card(finding)
        self._step_ended()

    def _on_step_failed(self, generation: int, step: Step, exc: BaseException) -> None:
        if generation != self._generation:
            return
        message = str(exc) if isinstance(exc, AuditViewerError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, AuditViewerError):
            log.error("overview step %s failed", step.key, exc_info=exc)
        self._problems.append(f"{step.title}: {message}")
        self._step_ended()

    def _step_ended(self) -> None:
        self._task = None
        self._done += 1
        self.progress.setValue(self._done)
        self._run_next()

    def _finish(self, stopped: bool = False) -> None:
        self._task = None
        self._seconds = time.perf_counter() - self._started
        self.stop_button.setEnabled(False)
        looked = f"{self._done} of {len(self._steps)} parts" if stopped else "everything"
        text = (
            f"Stopped after {looked}."
            if stopped
            else f"Looked at {looked} in {self._seconds:.1f} s. Double-click a line to open its rows."
        )
        if self._problems:
            text += " Not looked at: " + "; ".join(self._problems)
        self.state.setText(text)
        self._emit_status()
        self.finished.emit()

    def _add_card(self, finding: Finding) -> None:
        self._findings.append(finding)
        card = FindingCard(finding, self.settings, self._utc, self.container)
        card.rowsRequested.connect(self.rowsRequested)
        # Most severe first; in the order found within one severity.
        position = sum(1 for c in self.cards if c.finding.severity >= finding.severity)
        self.cards.insert(position, card)
        self.cards_layout.insertWidget(position, card)

    def _emit_status(self) -> None:
        self.statusChanged.emit(*self.status())

    def _update_zone_label(self) -> None:
        self.zone_label.setText("(UTC)" if self._utc else "(local time)")

    # -- printing and PDF ----------------------------------------------------------------------

    def charts_image(self, columns: int = 2, most: int = 4, cell: tuple[int, int] = (900, 320)) -> QImage:
        """The charts of the most severe findings side by side, with their titles, for a printed report."""
        cards = [(c, c.finding.chart) for c in self.cards if c.finding.chart is not None][:most]
        if not cards:
            return QImage()
        rows = (len(cards) + columns - 1) // columns
        width, height, title = cell[0], cell[1], 34
        image = QImage(width * min(columns, len(cards)), (height + title) * rows, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        try:
            font = QFont()
            font.setPixelSize(18)
            font.setBold(True)
            painter.setFont(font)
            for k, (card, chart) in enumerate(cards):
                x, y = (k % columns) * width, (k // columns) * (height + title)
                painter.drawText(
                    QRectF(x + 8, y + 4, width - 16, title - 6),
                    int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                    f"{card.finding.title}: {chart.title}",
                )
                painter.drawImage(QRectF(x, y + title, width, height), card.chart_image(width, height))
        finally:
            painter.end()
        return image

    def _report_work(self, chart: bytes | None):
        overview, source = self.overview(), self.source
        assert overview is not None

        def build(token: CancelToken):
            from auditviewer.data.report import file_sha256

            digest = file_sha256(source.path, token) if source.path is not None else None
            return overview_report(overview, source, sha256=digest, chart_png=chart)

        return build

    def _chart_png(self) -> bytes | None:
        image = self.charts_image()
        if image.isNull():
            return None
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # PySide6 takes the format as str; its stubs say bytes
        return bytes(buffer.data().data())

    def export_pdf(self, path: str | None = None) -> bool:
        """Write the overview as a PDF (in the background); ``pdfWritten`` tells when it is there."""
        if self.busy or self.overview() is None:
            self.state.setText("Wait for the overview to finish first.")
            return False
        if path is None:
            suggested = str(
                Path(self.settings.last_folder() or Path.home())
                / f"overview-{_file_name(self.source.display_name)}.pdf"
            )
            path, _ = QFileDialog.getSaveFileName(self, "Export overview to PDF", suggested, PDF_FILTER)
            if not path:
                return False
        build = self._report_work(self._chart_png())
        target = path

        def work(token: CancelToken) -> str:
            from auditviewer.qt.report.painter import write_pdf

            write_pdf(build(token), target, cancelled=lambda: token.cancelled)
            return target

        self.state.setText(f"Writing {Path(target).name}…")
        self._report_task = self._runner.submit(
            "overview pdf", work, done=self._on_pdf_done, failed=self._on_report_failed
        )
        self._emit_status()
        return True

    def _on_pdf_done(self, path: str) -> None:
        self._report_task = None
        self.pdf_written = path
        self.state.setText(f"Wrote the overview to {path}")
        self._emit_status()
        self.finished.emit()

    def _on_report_failed(self, exc: BaseException) -> None:
        self._report_task = None
        self._emit_status()
        show_error(self, "Cannot make the overview report", str(exc))

    def print_overview(self) -> bool:
        """Ask for a printer (without blocking), then print the overview on it."""
        if self.busy or self.overview() is None:
            self.state.setText("Wait for the overview to finish first.")
            return False
        build = self._report_work(self._chart_png())
        self.state.setText("Preparing the report…")
        self._report_task = self._runner.submit(
            "overview report", build, done=self._on_report_built, failed=self._on_report_failed
        )
        self._emit_status()
        return True

    def _on_report_built(self, report) -> None:
        self._report_task = None
        self._emit_status()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.print_dialog = dialog

        def accepted() -> None:
            from auditviewer.qt.report.painter import paint_report

            try:
                pages = paint_report(report, printer)
            except (OSError, AuditViewerError) as exc:
                show_error(self, "Cannot print the overview", str(exc))
                return
            self.state.setText(f"Printed the overview ({pages} page{'s' if pages != 1 else ''})")

        dialog.accepted.connect(accepted)
        dialog.open()  # type: ignore[call-arg]  # QDialog.open(); the stubs list only QPrintDialog's open(receiver, slot)

    # -- slots -----------------------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        self.compute()

    def _on_pdf_clicked(self) -> None:
        self.export_pdf()

    def _on_print_clicked(self) -> None:
        self.print_overview()


__all__ = ["FindingCard", "OverviewTab"]
