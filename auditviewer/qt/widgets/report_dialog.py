"""Reports of the current tab: File > Print, Print Preview, Export > PDF / Excel / CSV.

A report is exactly what the tab shows: its filtered and sorted rows, the
visible columns in their order, times in the tab's zone. The user picks the
options (:class:`ReportDialog`), then a :class:`ReportJob` counts the rows,
fingerprints the file and writes or prints on a worker lane of its own,
behind a progress dialog with Cancel that appears when the work takes more
than a second. A cancelled export leaves no file; a cancelled print job is
aborted, not half printed. Print preview draws on the GUI thread, because
QPrintPreviewDialog asks for its pages there; its progress dialog can stop it.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, QObject, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPageLayout, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError, OutputError, QueryCancelled
from auditviewer.data.export import export
from auditviewer.data.outfile import check_output
from auditviewer.data.query import LogQuery
from auditviewer.data.report import Report, ReportOptions, build_report
from auditviewer.data.timestamps import zone_name
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.plaintext import window_title
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.models.tasks import TaskRunner
from auditviewer.qt.report.painter import MARGINS, choose_orientation, paint_report, write_pdf
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.qt.widgets.tab_book import TabBook
from auditviewer.qt.widgets.tabs import ReportableTab, Tab

log = logging.getLogger(__name__)

EXPORTS = {
    "pdf": ("PDF", "PDF documents (*.pdf)"),
    "xlsx": ("Excel", "Excel workbooks (*.xlsx)"),
    "csv": ("CSV", "CSV files (*.csv)"),
}
EXCEL_ROWS_PER_SHEET = 1_048_575
_DIALOG_TITLES = {
    "print": "Print",
    "preview": "Print preview",
    "pdf": "Export to PDF",
    "xlsx": "Export to Excel",
    "csv": "Export to CSV",
}
_OK_TEXTS = {"print": "Print…", "preview": "Preview", "pdf": "Export…", "xlsx": "Export…", "csv": "Export…"}
_ORIENTATIONS = (
    ("Automatic (landscape when the columns need it)", "auto"),
    ("Landscape", "landscape"),
    ("Portrait", "portrait"),
)


def reportable(tab: Tab | None) -> ReportableTab | None:
    """What a report of this tab holds: its log rows (a log tab has them; a source's overview has none)."""
    return tab.reportable() if tab is not None else None


def report_query(tab: ReportableTab) -> LogQuery | None:
    """The tab's query narrowed to its visible columns in their order: what the report shows."""
    query = tab.query()
    if query is None:
        return None
    columns = tab.visible_columns() or list(query.columns)
    return LogQuery(query.table, query.filter, query.sort, columns, tab.zone)


def chart_png(tab: ReportableTab) -> bytes | None:
    """The tab's events-over-time chart as PNG, when the tab has one (a chart is an extra a tab may lack)."""
    grab = getattr(tab, "timeline_image", None)
    if grab is None:
        return None
    image = grab()
    if isinstance(image, QPixmap):
        image = image.toImage()
    if not isinstance(image, QImage) or image.isNull():
        return None
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # PySide6 takes the format as str; its stubs say bytes
    return bytes(buffer.data().data())


class ReportDialog(QDialog):
    """The options of one report: title, orientation, masking, sign-off, chart; BOM and Excel safety for CSV."""

    def __init__(self, kind: str, tab: ReportableTab, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportDialog")
        self.kind = kind
        self.setWindowTitle(_DIALOG_TITLES[kind])
        self._zone = tab.zone
        self._excel_safe_chosen = False  # follows the byte-order mark until the user sets it
        self._build_options(tab)
        self.summary = QLabel(self._summary(tab), self)
        self.summary.setObjectName("reportSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # column labels and titles are data
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_OK_TEXTS[kind])
        layout = QVBoxLayout(self)
        layout.addLayout(self._form(kind))
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.bom_box.toggled.connect(self._on_bom_toggled)
        self.excel_safe_box.clicked.connect(self._on_excel_safe_clicked)

    def _build_options(self, tab: ReportableTab) -> None:
        self.title_edit = QLineEdit(tab.title(), self)
        self.title_edit.setObjectName("reportTitle")
        self.orientation_box = QComboBox(self)
        self.orientation_box.setObjectName("reportOrientation")
        for label, value in _ORIENTATIONS:
            self.orientation_box.addItem(label, value)
        self.mask_box = QCheckBox(
            "Hide personal data (e-mail addresses, phone numbers, IP addresses and names partly hidden)", self
        )
        self.mask_box.setObjectName("reportMask")
        self.sign_off_edit = QLineEdit(self)
        self.sign_off_edit.setObjectName("reportSignOff")
        self.sign_off_edit.setPlaceholderText("e.g. Prepared by Anna Nowak, account manager (optional)")
        self.chart_box = QCheckBox("Include the events-over-time chart", self)
        self.chart_box.setObjectName("reportChart")
        has_chart = callable(getattr(tab, "timeline_image", None))
        self.chart_box.setEnabled(has_chart)
        if not has_chart:
            self.chart_box.setToolTip("This log tab has no events-over-time chart yet.")
            self.chart_box.setText("Include the events-over-time chart (not available for this tab yet)")
        self.bom_box = QCheckBox("Start with a byte-order mark (Excel needs it to read accents correctly)", self)
        self.bom_box.setObjectName("reportBom")
        self.excel_safe_box = QCheckBox(
            "Safe for Excel: a ' before text starting with =, +, - or @, so it never runs as a formula", self
        )
        self.excel_safe_box.setObjectName("reportExcelSafe")
        self.excel_safe_box.setToolTip(
            "Puts a ' before every text cell that begins with =, +, -, @, a tab or a carriage return, so that "
            "Excel shows it as text instead of running it as a formula (log values come from outside and may "
            "hold one on purpose). Numbers are left as they are. The file then differs from the database: "
            "leave this off for a copy of the evidence exactly as it is."
        )

    def _form(self, kind: str) -> QFormLayout:
        """The options this kind of report takes; the others are hidden."""
        paged = kind in ("print", "preview", "pdf")
        form = QFormLayout()
        rows = [
            ("&Title:", self.title_edit, kind != "csv"),
            ("&Orientation:", self.orientation_box, paged),
            ("", self.mask_box, True),
            ("&Sign-off line:", self.sign_off_edit, paged),
            ("", self.chart_box, paged),
            ("", self.bom_box, kind == "csv"),
            ("", self.excel_safe_box, kind == "csv"),
        ]
        for label, widget, wanted in rows:
            if wanted:
                form.addRow(label, widget)
            else:
                widget.hide()  # not in the layout: it would otherwise sit in the dialog's corner
        return form

    def _on_bom_toggled(self, checked: bool) -> None:
        """A file for Excel (with its byte-order mark) is made safe for Excel, unless the user said otherwise."""
        if not self._excel_safe_chosen:
            self.excel_safe_box.setChecked(checked)

    def _on_excel_safe_clicked(self, _checked: bool) -> None:
        self._excel_safe_chosen = True

    def _summary(self, tab: ReportableTab) -> str:
        columns = tab.visible_columns()
        labels = []
        for name in columns:
            column = tab.table.column(name)
            labels.append(column.label if column is not None else name)
        total = tab.model.total
        rows = f"{total:,} rows" if isinstance(total, int) else "All rows the filters match"
        text = f"{rows}, sorted as shown; columns: {', '.join(labels)}; times in {zone_name(tab.zone)}."
        if self.kind == "xlsx" and isinstance(total, int) and total > EXCEL_ROWS_PER_SHEET:
            text += (
                f"\nExcel holds {EXCEL_ROWS_PER_SHEET:,} rows per sheet: the rows go on in further "
                "sheets named by their row numbers."
            )
        return text

    def options(self) -> ReportOptions:
        return ReportOptions(
            title=self.title_edit.text().strip() or None,
            mask=self.mask_box.isChecked(),
            orientation=str(self.orientation_box.currentData()),
            sign_off=self.sign_off_edit.text().strip() or None,
            include_chart=self.chart_box.isEnabled() and self.chart_box.isChecked(),
            zone=self._zone,
        )

    def bom(self) -> bool:
        return self.bom_box.isChecked()

    def excel_safe(self) -> bool:
        return self.kind == "csv" and self.excel_safe_box.isChecked()


class ReportJob(QObject):
    """One report being made on a lane of its own: build, then export, print or preview."""

    #: The job is over: "done", "failed" or "cancelled".
    finished = Signal(str)
    _progressed = Signal(str, int, int)  # (what, done, total), from the worker thread

    def __init__(
        self,
        window: QMainWindow,
        kind: str,
        query: LogQuery,
        options: ReportOptions,
        path: str | None = None,
        bom: bool = False,
        chart: bytes | None = None,
        excel_safe: bool = False,
        protect: tuple[Path, ...] = (),
    ) -> None:
        super().__init__(window)
        self.window = window
        self.kind = kind
        self.query = query
        self.options = options
        self.path = path
        self.bom = bom
        self.chart = chart
        self.excel_safe = excel_safe
        self.protect = protect  # the files of the open sources: never written over
        self.report: Report | None = None
        self.printer: QPrinter | None = None
        self.print_dialog: QPrintDialog | None = None
        self.preview_dialog: QPrintPreviewDialog | None = None
        self.outcome = ""
        self.rows_written = 0
        self._cancelled = False
        self._orientation = QPageLayout.Orientation.Portrait
        self._last_stage = ""
        self._last_emit = 0.0
        self._runner = TaskRunner(f"report-{kind}", self)
        self._task: Any = None
        self.progress = QProgressDialog("Preparing the report…", "Cancel", 0, 0, window)
        self.progress.setObjectName("reportProgress")
        self.progress.setWindowTitle("Report")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.setMinimumDuration(1000)  # only work that takes more than a second shows it
        self.progress.canceled.connect(self.cancel)
        self._progressed.connect(self._on_progressed)
        self._runner.busyChanged.connect(self._on_busy_changed)

    # -- the steps -----------------------------------------------------------------------------------

    def start(self) -> None:
        self.progress.setValue(0)  # starts the one-second wait before the progress dialog shows
        self._task = self._runner.submit(f"report {self.kind}", self._work, done=self._on_built, failed=self._on_failed)

    def _stage(self, what: str, done: int, total: int) -> None:
        """Worker thread: say how far it got, at most ten times a second."""
        now = time.monotonic()
        if what == self._last_stage and done < total and now - self._last_emit < 0.1:
            return
        self._last_stage, self._last_emit = what, now
        self._progressed.emit(what, done, total)

    def _work(self, token: CancelToken) -> Any:
        """Worker thread: count, fingerprint, then write the file (exports) or plan the pages (printing)."""
        if self.kind in EXPORTS:
            check_output(self.path or "", [*self.protect, self.query.table.source.path])
        report = build_report(self.query, self.options, token=token, progress=self._stage, chart_png=self.chart)
        if self.kind in EXPORTS:
            total = report.row_count

            def rows(n: int) -> None:
                self._stage("Writing", n, total)

            written = export(
                self.query,
                self.kind,
                self.path or "",
                self.options.zone,
                token,
                progress=rows,
                bom=self.bom,
                mask=self.options.mask,
                report=report,
                excel_safe=self.excel_safe,
                protect=self.protect,
                pdf_writer=write_pdf,
            )
            self.rows_written = written
            return report
        self._stage("Laying out the pages", 0, 0)
        # Measuring the columns reads a sample of rows: here, not on the GUI thread.
        self._orientation = choose_orientation(report)
        return report

    def _on_built(self, report: Report) -> None:
        self.report = report
        if self.kind in EXPORTS:
            self._finish("done", f"Wrote {self.rows_written:,} rows to {self.path}")
        elif self.kind == "print":
            self._ask_printer(report)
        else:
            self._show_preview(report)

    def _printer(self, report: Report) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(report.title)
        printer.setPageOrientation(self._orientation)
        printer.setPageMargins(MARGINS, QPageLayout.Unit.Point)
        return printer

    def _ask_printer(self, report: Report) -> None:
        self.printer = self._printer(report)
        self.progress.reset()
        self.progress.hide()
        dialog = QPrintDialog(self.printer, self.window)
        dialog.setObjectName("printDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_printer_chosen)
        dialog.rejected.connect(lambda: self._finish("cancelled", "Printing was cancelled"))
        self.print_dialog = dialog
        dialog.open()  # type: ignore[call-arg]  # QDialog.open(); the stubs list only QPrintDialog's open(receiver, slot)

    def _on_printer_chosen(self) -> None:
        self.print_dialog = None
        report, printer = self.report, self.printer
        assert report is not None and printer is not None
        self.progress.setLabelText("Printing…")
        self.progress.setRange(0, 0)
        self.progress.setMinimumDuration(1000)
        self.progress.setValue(0)

        def work(token: CancelToken) -> int:
            report.token = token

            def pages(page: int, total: int) -> None:
                self._stage("Printing", page, total)

            return paint_report(report, printer, pages, lambda: token.cancelled, page_setup=False)

        self._task = self._runner.submit(
            "print", work, done=lambda n: self._finish("done", f"Sent {n} pages to the printer"), failed=self._on_failed
        )

    def _show_preview(self, report: Report) -> None:
        self.progress.reset()
        self.progress.hide()
        self.printer = self._printer(report)
        dialog = QPrintPreviewDialog(self.printer, self.window)
        dialog.setObjectName("printPreviewDialog")
        dialog.setWindowTitle(window_title(f"Print preview — {report.title}"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.paintRequested.connect(self._on_paint_requested)
        dialog.finished.connect(lambda _code: self._finish("done", ""))
        self.preview_dialog = dialog
        dialog.open()

    def _on_paint_requested(self, printer: QPrinter) -> None:
        """Draw the pages for the preview (GUI thread); its progress dialog can stop a long one."""
        report = self.report
        assert report is not None
        progress = QProgressDialog("Drawing the preview…", "Stop", 0, 0, self.preview_dialog or self.window)
        progress.setObjectName("previewProgress")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(1000)

        def pages(page: int, total: int) -> None:
            progress.setMaximum(total)
            progress.setValue(page)  # a modal progress dialog lets Stop be clicked here

        try:
            paint_report(report, printer, pages, progress.wasCanceled, page_setup=False)
        except QueryCancelled:
            log.info("the print preview was stopped")
        except (AuditViewerError, OSError) as exc:
            show_error(self.window, "Cannot preview the report", f"{exc}")
        finally:
            progress.close()
            progress.deleteLater()

    # -- progress, cancel, the end ----------------------------------------------------------------------

    def _on_progressed(self, what: str, done: int, total: int) -> None:
        if self.outcome:
            return
        if total <= 0:
            self.progress.setRange(0, 0)
            self.progress.setLabelText(f"{what}…")
            self.progress.setValue(0)
            return
        self.progress.setRange(0, 1000)
        if what == "Printing":
            self.progress.setLabelText(f"Printing page {done:,} of {total:,}…")
        elif what == "Writing":
            self.progress.setLabelText(f"Writing {done:,} of {total:,} rows…")
        else:
            self.progress.setLabelText(f"{what}…")
        self.progress.setValue(min(1000, done * 1000 // total))

    def cancel(self) -> None:
        """Stop the work: the lane's query is interrupted, a half-written file removed."""
        if self.outcome:
            return
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()
        self.progress.setLabelText("Cancelling…")
        if not self._runner.busy:
            self._finish("cancelled", self._cancel_message())

    def _cancel_message(self) -> str:
        if self.kind in EXPORTS:
            return "The export was cancelled; no file was written"
        return "Printing was cancelled" if self.kind == "print" else "The preview was cancelled"

    def _on_busy_changed(self, n: int) -> None:
        if n == 0 and self._cancelled and not self.outcome:
            self._finish("cancelled", self._cancel_message())

    def _on_failed(self, exc: BaseException) -> None:
        what = {"print": "print", "preview": "preview"}.get(self.kind, "export")
        if isinstance(exc, (AuditViewerError, OSError)):
            hint = (
                "Choose another folder or file name."
                if isinstance(exc, OSError)
                else "Check the source is still reachable, then try again."
            )
            show_error(self.window, f"Cannot {what} the report", f"{exc}\n\n{hint}")
        else:
            show_error(
                self.window,
                f"Cannot {what} the report",
                f"Something went wrong: {exc}",
                "".join(traceback.format_exception(exc)),
            )
        self._finish("failed", "")

    def _finish(self, outcome: str, message: str) -> None:
        if self.outcome:
            return
        self.outcome = outcome
        self.progress.canceled.disconnect(self.cancel)
        self.progress.close()
        self.progress.deleteLater()
        if message:
            self.window.statusBar().showMessage(message, 8000)
        self.finished.emit(outcome)

    def dispose(self) -> None:
        """After the job finished: join its lane's thread and let it go."""
        self._runner.shutdown()
        self.deleteLater()

    def shutdown(self) -> None:
        """Cancel and wait for the lane (the window is closing)."""
        if self._task is not None:
            self._task.cancel()
        self._runner.shutdown()
        for dialog in (self.print_dialog, self.preview_dialog):
            if dialog is not None:
                dialog.close()
        if not self.outcome:
            self.outcome = "cancelled"
            self.progress.close()


class ReportActions(QObject):
    """The report entries of the File menu, acting on the window's current log tab."""

    def __init__(
        self, window: QMainWindow, menu: QMenu, tabs: TabBook, sources: OpenSources, settings: Settings
    ) -> None:
        super().__init__(window)
        self.window = window  # parent of the dialogs; its status bar says how a report went
        self.tabs = tabs
        self.sources = sources
        self.settings = settings
        self.jobs: list[ReportJob] = []
        self.dialog: ReportDialog | None = None
        self.print_action = menu.addAction("&Print…")
        self.print_action.setObjectName("printAction")
        self.print_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Print))
        self.preview_action = menu.addAction("Print pre&view…")
        self.preview_action.setObjectName("printPreviewAction")
        self.export_menu = menu.addMenu("E&xport")
        self.export_menu.setObjectName("exportMenu")
        self.pdf_action = self.export_menu.addAction("&PDF…")
        self.pdf_action.setObjectName("exportPdfAction")
        self.xlsx_action = self.export_menu.addAction("&Excel (.xlsx)…")
        self.xlsx_action.setObjectName("exportXlsxAction")
        self.csv_action = self.export_menu.addAction("&CSV…")
        self.csv_action.setObjectName("exportCsvAction")
        for action, kind in (
            (self.print_action, "print"),
            (self.preview_action, "preview"),
            (self.pdf_action, "pdf"),
            (self.xlsx_action, "xlsx"),
            (self.csv_action, "csv"),
        ):
            action.triggered.connect(lambda _checked=False, k=kind: self.start(k))
        tabs.currentChanged.connect(self._on_current_changed)
        self._on_current_changed()

    def _on_current_changed(self) -> None:
        enabled = reportable(self.tabs.current()) is not None
        for action in (self.print_action, self.preview_action, self.pdf_action, self.xlsx_action, self.csv_action):
            action.setEnabled(enabled)
        self.export_menu.setEnabled(enabled)

    def start(self, kind: str) -> ReportDialog | None:
        """Ask for the options of a report of the current tab (the dialog does not block)."""
        tab = reportable(self.tabs.current())
        if tab is None:
            return None
        if report_query(tab) is None:
            show_error(
                self.window, "Cannot make a report", "The filters of this tab do not fit the log: correct them first."
            )
            return None
        dialog = ReportDialog(kind, tab, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_options_chosen(dialog, tab))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_options_chosen(self, dialog: ReportDialog, tab: ReportableTab) -> None:
        self.dialog = None
        kind = dialog.kind
        options = dialog.options()
        path = None
        if kind in EXPORTS:
            path = self._ask_path(kind, options.title or tab.title())
            if not path:
                return
        query = report_query(tab)
        if query is None:
            return
        if path is not None:
            try:
                check_output(path, self._open_files())
            except OutputError as exc:
                show_error(self.window, "Cannot export the report", f"{exc}")
                return
        self.run(
            kind,
            query,
            options,
            path=path,
            bom=dialog.bom(),
            excel_safe=dialog.excel_safe(),
            chart=chart_png(tab) if options.include_chart else None,
        )

    def _open_files(self) -> tuple[Path, ...]:
        """The files of the window's open sources: no export may write over one."""
        return tuple(source.path for source in self.sources.all() if source.path is not None)

    def _ask_path(self, kind: str, title: str) -> str:
        label, pattern = EXPORTS[kind]
        folder = Path(self.settings.last_folder() or Path.home())
        name = re.sub(r"[^\w\- .]+", "_", title).strip(" ._") or "report"
        suggested = str(folder / f"{name} {date.today().isoformat()}.{kind}")
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export to {label}", suggested, pattern)
        if path and not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        if path:
            self.settings.set_last_folder(str(Path(path).parent))
        return path

    def run(
        self,
        kind: str,
        query: LogQuery,
        options: ReportOptions,
        *,
        path: str | None = None,
        bom: bool = False,
        chart: bytes | None = None,
        excel_safe: bool = False,
    ) -> ReportJob:
        """Make a report now, with these options (the dialog's, or a test's)."""
        job = ReportJob(self.window, kind, query, options, path, bom, chart, excel_safe, self._open_files())
        job.finished.connect(lambda _outcome: self._on_job_finished(job))
        self.jobs.append(job)
        job.start()
        return job

    def _on_job_finished(self, job: ReportJob) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        job.dispose()  # the task has ended: this only joins the thread

    def shutdown(self) -> None:
        for job in list(self.jobs):
            job.shutdown()
        self.jobs.clear()
