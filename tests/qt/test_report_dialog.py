"""File > Print, Print preview and Export as a user meets them; print dialogs are patched, never left open."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QKeySequence, QPageLayout
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QPushButton

from auditviewer.data.export import to_text
from auditviewer.data.filters import parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.report import ReportOptions
from auditviewer.qt.report.painter import layout_for_area
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets import report_dialog as report_dialog_module
from auditviewer.qt.widgets.report_dialog import ReportDialog, ReportJob, report_query
from tests.helpers.qtfind import known
from tests.helpers.qtwait import wait_tab_ready
from tests.qt.test_report_pdf import pages_text


@pytest.fixture
def tab(qtbot, window):
    source = window.sources()[0]
    tab = window.open_log(source.key, "api")
    wait_tab_ready(qtbot, tab)
    return tab


def finished(qtbot, job: ReportJob, timeout: int = 30_000) -> str:
    qtbot.waitUntil(lambda: job.outcome != "", timeout=timeout)
    return job.outcome


def save_as(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))


def choose(qtbot, window, kind: str) -> ReportDialog:
    dialog = window.reports.start(kind)
    assert dialog is not None and dialog.isVisible()
    return dialog


def accept(qtbot, window, dialog: ReportDialog) -> ReportJob | None:
    dialog.accept()
    return window.reports.jobs[-1] if window.reports.jobs else None


def test_the_file_menu_offers_reports_of_the_current_tab(qtbot, window) -> None:
    actions = window.reports
    assert actions.print_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Print)
    assert actions.print_action.shortcut().toString() == "Ctrl+P"
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "&Print…" in texts and "Print pre&view…" in texts
    export = window.findChild(QMenu, "exportMenu")
    assert [a.text() for a in export.actions()] == ["&PDF…", "&Excel (.xlsx)…", "&CSV…"]
    everything = (
        actions.print_action,
        actions.preview_action,
        actions.pdf_action,
        actions.xlsx_action,
        actions.csv_action,
    )
    assert not any(a.isEnabled() for a in everything)  # no log tab yet
    tab = window.open_log(window.sources()[0].key, "api")
    wait_tab_ready(qtbot, tab)
    assert all(a.isEnabled() for a in everything)
    window.close_tab()
    assert not any(a.isEnabled() for a in everything)
    if hasattr(window, "open_overview"):  # a tab without log rows offers no report
        window.open_overview(window.sources()[0].key)
        assert window.current_tab() is not None and not any(a.isEnabled() for a in everything)
        assert window.reports.start("pdf") is None


def test_csv_export_is_exactly_what_the_tab_shows(qtbot, window, tab, tmp_path: Path, monkeypatch) -> None:
    tab.add_condition(parse_condition("status>=400"))
    wait_tab_ready(qtbot, tab)
    header = tab.view.horizontalHeader()
    names = [tab.model.column_name(i) for i in range(header.count())]
    header.moveSection(header.visualIndex(names.index("status")), 0)  # Status first
    tab._set_column_shown(names.index("method"), False)
    shown = tab.visible_columns()
    assert shown[0] == "status" and "method" not in shown
    path = tmp_path / "errors.csv"
    save_as(monkeypatch, path)
    dialog = choose(qtbot, window, "csv")
    assert dialog.bom_box.isVisibleTo(dialog) and not dialog.title_edit.isVisibleTo(dialog)
    dialog.bom_box.setChecked(True)
    job = accept(qtbot, window, dialog)
    assert job is not None and finished(qtbot, job) == "done"
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == shown
    expected = LogQuery(tab.table, tab.query().filter, tab.query().sort, shown, tab.zone)
    assert data.decode("utf-8-sig") == to_text(expected, "csv")
    assert len(rows) - 1 == tab.model.total > 0
    assert window.statusBar().currentMessage() == f"Wrote {tab.model.total:,} rows to {path}"
    assert not window.reports.jobs


def test_pdf_and_excel_exports_take_the_dialog_options(qtbot, window, tab, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(report_dialog_module, "EXCEL_ROWS_PER_SHEET", 10)
    pdf = tmp_path / "report.pdf"
    save_as(monkeypatch, pdf)
    monkeypatch.delattr(type(tab), "timeline_image", raising=False)  # a tab without a chart
    dialog = choose(qtbot, window, "pdf")
    assert dialog.title_edit.text() == "API logs"
    assert not dialog.chart_box.isEnabled() and "not available" in dialog.chart_box.text()
    dialog.title_edit.setText("Quarterly API review <draft>")
    dialog.orientation_box.setCurrentIndex(dialog.orientation_box.findData("landscape"))
    dialog.sign_off_edit.setText("Prepared by Anna Nowak")
    dialog.mask_box.setChecked(True)
    options = dialog.options()
    assert options == ReportOptions(
        title="Quarterly API review <draft>",
        mask=True,
        orientation="landscape",
        sign_off="Prepared by Anna Nowak",
        include_chart=False,
        zone=tab.zone,
    )
    job = accept(qtbot, window, dialog)
    assert finished(qtbot, known(job)) == "done"
    texts = pages_text(pdf, (0, -1))
    pages = len(PdfReader(pdf).pages)
    box = PdfReader(pdf).pages[0].mediabox
    assert float(box.width) > float(box.height)
    assert texts[0].startswith("Quarterly API review <draft>")
    assert f"Page 1 of {pages}" in texts[0] and "Prepared by Anna Nowak" in texts[-1]
    assert f"{tab.model.total:,} rows" in texts[0]

    xlsx = tmp_path / "report"  # the extension is added
    save_as(monkeypatch, xlsx)
    dialog = choose(qtbot, window, "xlsx")
    assert "further sheets" in dialog.summary.text()
    assert not dialog.orientation_box.isVisibleTo(dialog)
    job = accept(qtbot, window, dialog)
    assert finished(qtbot, known(job)) == "done"
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    ws = wb.worksheets[0]
    assert ws.max_row - 1 == tab.model.total
    assert [c.value for c in ws[1]] == [tab.table.column(n).label for n in tab.visible_columns()]


class Gate:
    """Holds the export's worker after some rows until the job is cancelled: a long export, made short."""

    def __init__(self, query: LogQuery, after: int = 50) -> None:
        self.reached = threading.Event()
        original = query.iter_rows

        def iter_rows(token=None, limit=None, batch=5000):
            for i, row in enumerate(original(token, limit, batch)):
                if i == after:
                    self.reached.set()
                    deadline = time.monotonic() + 10
                    while token is not None and not token.cancelled and time.monotonic() < deadline:
                        time.sleep(0.005)
                yield row

        query.iter_rows = iter_rows  # type: ignore[method-assign]  # this one query reads through the gate


@pytest.mark.parametrize("kind", ["csv", "xlsx", "pdf"])
def test_cancelling_an_export_leaves_no_file(qtbot, window, tab, tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    query = report_query(tab)
    gate = Gate(known(query))
    job = window.reports.run(kind, query, ReportOptions(zone=tab.zone), path=str(out / f"all.{kind}"))
    qtbot.waitUntil(gate.reached.is_set, timeout=20_000)
    # Work that takes more than a second shows its progress, with Cancel.
    qtbot.waitUntil(job.progress.isVisible, timeout=5_000)
    assert job.progress.labelText().startswith(("Writing", "Computing", "Counting"))
    qtbot.mouseClick(job.progress.findChild(QPushButton), Qt.MouseButton.LeftButton)
    assert finished(qtbot, job) == "cancelled"
    assert sorted(p.name for p in out.iterdir()) == []
    assert window.statusBar().currentMessage() == "The export was cancelled; no file was written"
    assert not msgbox.shown


def test_closing_the_window_stops_a_running_export(qtbot, window, tab, tmp_path: Path) -> None:
    query = report_query(tab)
    gate = Gate(known(query))
    job = window.reports.run("xlsx", query, ReportOptions(), path=str(tmp_path / "never.xlsx"))
    qtbot.waitUntil(gate.reached.is_set, timeout=20_000)
    window.close()
    assert job.outcome == "cancelled"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_says_why(qtbot, window, tab, tmp_path: Path) -> None:
    job = window.reports.run("csv", report_query(tab), ReportOptions(), path=str(tmp_path / "missing" / "a.csv"))
    assert finished(qtbot, job) == "failed"
    assert msgbox.shown and msgbox.shown[-1].title == "Cannot export the report"
    assert "Choose another folder" in msgbox.shown[-1].message


@pytest.fixture
def own_window(qtbot, demo_path: Path, tmp_path: Path):
    """A window on a copy of the demo database of this test's own: a test here may try to overwrite it."""
    from auditviewer.app import create_main_window

    copy = tmp_path / "evidence" / "acme.db"
    copy.parent.mkdir()
    shutil.copyfile(demo_path, copy)
    win = create_main_window([str(copy)])
    qtbot.addWidget(win)
    win.show()
    yield win, copy
    win.close()


@pytest.mark.parametrize("kind", ["csv", "xlsx", "pdf"])
def test_an_export_over_an_open_database_is_refused(qtbot, own_window, monkeypatch, kind: str) -> None:
    """The same file under another name (a hard link), chosen in the save dialog: refused, nothing runs."""
    window, database = own_window
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    other_name = database.with_name(f"acme.{kind}")
    os.link(database, other_name)
    tab = window.open_log(window.sources()[0].key, "api")
    wait_tab_ready(qtbot, tab)
    save_as(monkeypatch, other_name)
    dialog = choose(qtbot, window, kind)
    assert accept(qtbot, window, dialog) is None  # no job started
    assert msgbox.shown[-1].title == "Cannot export the report"
    assert "the database being read" in msgbox.shown[-1].message and str(other_name) in msgbox.shown[-1].message
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in database.parent.iterdir()) == sorted(["acme.db", f"acme.{kind}"])
    # A job started some other way (not through the dialog) refuses it too, on its worker, before counting.
    job = window.reports.run(kind, report_query(tab), ReportOptions(), path=str(database))
    assert finished(qtbot, job) == "failed" and "the database being read" in msgbox.shown[-1].message
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_saved_views_are_never_exported_over_an_open_database(qtbot, own_window) -> None:
    window, database = own_window
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    assert window.export_views(window.sources()[0].key, database.with_name("acme.db-journal")) == 0
    assert "the -journal file of the database being read" in msgbox.shown[-1].message
    assert sorted(p.name for p in database.parent.iterdir()) == ["acme.db"]
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_the_csv_dialog_offers_a_file_safe_for_excel(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    """Off by default (the evidence as it is); on with the byte-order mark, unless the user chose."""
    tab = window.open_log(window.sources()[0].key, "sms")  # phone numbers start with "+"
    wait_tab_ready(qtbot, tab)
    assert not choose(qtbot, window, "pdf").excel_safe_box.isVisibleTo(window.reports.dialog)
    window.reports.dialog.reject()
    dialog = choose(qtbot, window, "csv")
    box = dialog.excel_safe_box
    assert box.isVisibleTo(dialog) and not box.isChecked() and not dialog.excel_safe()
    assert "formula" in box.toolTip() and "evidence" in box.toolTip()
    dialog.bom_box.setChecked(True)
    assert box.isChecked()
    dialog.bom_box.setChecked(False)
    assert not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().bottomLeft() + QPoint(8, -box.height() // 2))
    assert box.isChecked()
    dialog.bom_box.setChecked(True)
    dialog.bom_box.setChecked(False)
    assert box.isChecked() and dialog.excel_safe()  # the user's choice stays
    path = tmp_path / "for-excel.csv"
    save_as(monkeypatch, path)
    job = accept(qtbot, window, dialog)
    assert job is not None and finished(qtbot, job) == "done"
    shown = LogQuery(tab.table, tab.query().filter, tab.query().sort, tab.visible_columns(), tab.zone)
    written = path.read_bytes().decode("utf-8")
    assert written == to_text(shown, "csv", excel_safe=True) != to_text(shown, "csv")
    assert ",'+" in written


def test_print_sends_the_pages_to_the_chosen_printer(qtbot, window, tab, tmp_path: Path, monkeypatch) -> None:
    printed = tmp_path / "printed.pdf"

    def choose_pdf_printer(dialog: QPrintDialog) -> None:
        dialog.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        dialog.printer().setOutputFileName(str(printed))
        QDialog.accept(dialog)  # as if the user chose this printer (QPrintDialog.accept would read its widgets)

    monkeypatch.setattr(QPrintDialog, "open", choose_pdf_printer)
    dialog = choose(qtbot, window, "print")
    dialog.sign_off_edit.setText("Checked")
    job = accept(qtbot, window, dialog)
    assert finished(qtbot, known(job)) == "done"
    texts = pages_text(printed, (0, -1))
    pages = len(PdfReader(printed).pages)
    assert texts[0].startswith("API logs") and f"Page {pages} of {pages}" in texts[-1]
    assert "Checked" in texts[-1]
    assert window.statusBar().currentMessage() == f"Sent {pages} pages to the printer"


def test_print_dialog_cancel_prints_nothing(qtbot, window, tab, monkeypatch) -> None:
    monkeypatch.setattr(QPrintDialog, "open", lambda dialog: dialog.reject())
    job = window.reports.run("print", report_query(tab), ReportOptions())
    assert finished(qtbot, job) == "cancelled"
    assert window.statusBar().currentMessage() == "Printing was cancelled"


def test_print_preview_draws_every_page(qtbot, window, tab, tmp_path: Path, monkeypatch) -> None:
    shown: list[QPrintPreviewDialog] = []
    monkeypatch.setattr(QPrintPreviewDialog, "open", lambda dialog: shown.append(dialog))
    job = window.reports.run("preview", report_query(tab), ReportOptions(title="Preview"))
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    dialog = shown[0]
    assert job.preview_dialog is dialog and dialog.windowTitle() == "Print preview — Preview"
    # What the preview widget does when shown: ask for the pages on its printer.
    printer = dialog.printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "preview.pdf"))
    dialog.paintRequested.emit(printer)
    texts = pages_text(tmp_path / "preview.pdf", (0,))
    pages = len(PdfReader(tmp_path / "preview.pdf").pages)
    assert texts[0].startswith("Preview") and f"Page 1 of {pages}" in texts[0]
    dialog.reject()
    assert finished(qtbot, known(job)) == "done"


def test_the_real_preview_widget_gets_every_page(qtbot, window, tab) -> None:
    job = window.reports.run("preview", report_query(tab), ReportOptions())
    qtbot.waitUntil(lambda: job.preview_dialog is not None, timeout=20_000)
    dialog = job.preview_dialog
    widget = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: widget.pageCount() > 1, timeout=20_000)
    pages = widget.pageCount()
    orientation = job.printer.pageLayout().orientation()
    area = job.printer.pageLayout().paintRect(QPageLayout.Unit.Point)
    dialog.close()
    assert finished(qtbot, known(job)) == "done"
    # Exactly the pages the report has on that paper, as "Page X of Y" counted them.
    assert pages == layout_for_area(job.report, orientation, area.width(), area.height(), job.report.sample()).pages()


@pytest.mark.parametrize("chart", ["the tab's", "a stand-in"])
def test_the_tab_chart_goes_into_the_pdf_when_there_is_one(
    qtbot, window, tab, tmp_path: Path, monkeypatch, chart: str
) -> None:
    if chart == "a stand-in" or not callable(getattr(tab, "timeline_image", None)):
        image = QImage(800, 200, QImage.Format.Format_RGB32)
        image.fill(QColor("#e45756"))
        monkeypatch.setattr(type(tab), "timeline_image", lambda _tab: image, raising=False)
    qtbot.waitUntil(lambda: not tab.timeline_image().isNull(), timeout=10_000)  # the chart has been drawn
    path = tmp_path / "chart.pdf"
    save_as(monkeypatch, path)
    dialog = choose(qtbot, window, "pdf")
    assert dialog.chart_box.isEnabled()
    dialog.chart_box.setChecked(True)
    job = accept(qtbot, window, dialog)
    assert finished(qtbot, known(job)) == "done"
    assert len(PdfReader(path).pages[0].images) == 1
