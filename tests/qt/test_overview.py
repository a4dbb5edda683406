"""A source's overview in the window: findings as cards, each line opening its rows; charts to PNG; PDF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from auditviewer.data.logtypes import Severity
from auditviewer.data.query import LogQuery
from auditviewer.qt.models.navigation import NodeKind
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets.log_tab import LogTab
from auditviewer.qt.widgets.main_window import MainWindow
from auditviewer.qt.widgets.overview import FindingCard, OverviewTab
from tests.helpers import planted
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import known


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    return DbFactory("sqlite", tmp_path_factory.mktemp("overview")).create(planted.tables(), indexes=planted.INDEXES)


@pytest.fixture
def window(qtbot, spec: str) -> Iterator[MainWindow]:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.open_source(spec)
    yield window
    window.close()


def activate_overview(qtbot, window: MainWindow) -> OverviewTab:
    key = window.sources()[0].key
    index = window.navigation.overview_index(key)
    assert known(window.navigation.node(index)).kind is NodeKind.OVERVIEW
    window.tree.setFocus()
    window.tree.setCurrentIndex(index)
    qtbot.keyClick(window.tree, Qt.Key.Key_Return)
    tab = window.current_tab()
    assert isinstance(tab, OverviewTab)
    wait_done(qtbot, tab)
    return tab


def wait_done(qtbot, tab: OverviewTab) -> None:
    qtbot.waitUntil(lambda: not tab.busy and tab.progress.value() == tab.progress.maximum(), timeout=20_000)


def card(tab: OverviewTab, kind: str) -> FindingCard:
    return next(c for c in tab.cards if c.finding.kind == kind)


def test_the_overview_node_opens_findings_most_severe_first(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    kinds = [c.finding.kind for c in tab.cards]
    assert kinds[:2] == ["failed_login_bursts", "new_country"]
    severities = [c.finding.severity for c in tab.cards]
    assert severities == sorted(severities, reverse=True)
    assert {"api_error_rate", "sms_gateways", "panel_users", "private_ip"} <= set(kinds)
    assert tab.state.text().startswith("Looked at everything")
    count, elapsed, busy = tab.status()
    assert not busy and count.startswith(f"{len(kinds)} findings") and elapsed.startswith("computed in")
    assert window.row_count_label.text() == count
    # Activating it again focuses the same tab.
    assert window.open_overview(window.sources()[0].key) is tab
    assert window.tabs.count() == 1


def test_double_clicking_a_line_opens_its_rows_in_the_log_tab(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    bursts = card(tab, "failed_login_bursts")
    row = next(i for i, item in enumerate(bursts.finding.items) if item.cells[0] == f"IP: {planted.SPRAYER}")
    table = bursts.table
    assert table is not None
    point = table.visualRect(table.model().index(row, 0)).center()
    # What a mouse sends for a double-click: a click, then the second press as a double-click.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    logins = window.current_tab()
    assert isinstance(logins, LogTab) and logins.log_key == "logins"
    link = known(bursts.finding.items[row].link)
    assert [c.text() for c in logins.filter_bar.conditions()] == list(link.conditions)
    assert (logins.filter_bar.filter().time_from, logins.filter_bar.filter().time_to) == (link.time_from, link.time_to)
    qtbot.waitUntil(lambda: logins.model.total is not None, timeout=10_000)
    assert logins.model.total == 6  # the six accounts it tried


def test_show_rows_opens_the_whole_finding(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    gateways = card(tab, "sms_gateways")
    qtbot.mouseClick(gateways.show_rows, Qt.MouseButton.LeftButton)
    sms = window.current_tab()
    assert isinstance(sms, LogTab) and sms.log_key == "sms"
    qtbot.waitUntil(lambda: sms.model.total is not None, timeout=10_000)
    assert sms.model.total == 19 == LogQuery(sms.table, known(gateways.finding.link).filter()).count()


def test_a_chart_exports_to_png(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    tab = activate_overview(qtbot, window)
    target = tmp_path / "gateways.png"
    asked = []

    def save_as(_parent, _title, suggested, _filter):
        asked.append(suggested)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    gateways = card(tab, "sms_gateways")
    assert gateways.chart is not None and gateways.export_button is not None
    qtbot.mouseClick(gateways.export_button, Qt.MouseButton.LeftButton)
    assert asked[0].endswith("sms-failure-rate-by-gateway.png")
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1400, 500)
    # Hovering the first bar (horizontal bars: the category is on y) names it with its value.
    assert gateways.chart.hover_text(QPointF(1.0, 0.0)).splitlines() == [planted.BAD_GATEWAY, "Failed (% of sends): 30"]
    assert gateways.chart.hover_text(QPointF(1.0, 0.5)) == ""  # between the bars


def test_the_overview_exports_to_pdf_through_the_report_renderer(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    tab = activate_overview(qtbot, window)
    target = tmp_path / "overview.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: (str(target), ""))
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        qtbot.mouseClick(tab.pdf_button, Qt.MouseButton.LeftButton)
    assert tab.pdf_written == str(target)
    reader = PdfReader(str(target))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\t", " ")
    assert text.startswith(f"Overview of {window.sources()[0].display_name}")
    for title in ("Failed-login bursts", "Logins from a new country", "SMS failure rate by gateway"):
        assert title in text
    assert "SHA-256" in text and "Remote IP is" in text
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)  # landscape


def test_rules_are_adjustable_and_remembered(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    assert "E-mail: ben@example.com" not in {i.cells[0] for i in card(tab, "failed_login_bursts").finding.items}
    tab.burst_minutes.setValue(60)
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, tab)
    assert "E-mail: ben@example.com" in {i.cells[0] for i in card(tab, "failed_login_bursts").finding.items}
    assert Settings().overview_rules()["burst_minutes"] == 60
    other = OverviewTab(window.sources()[0])
    qtbot.addWidget(other)
    try:
        assert other.burst_minutes.value() == 60
        wait_done(qtbot, other)
    finally:
        other.shutdown()


def test_nonsense_rules_are_refused_with_words(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    tab.business_start.setValue(20)
    tab.business_end.setValue(8)
    assert not tab.compute()
    assert "business hours must be" in tab.state.text()
    assert tab.cards  # what was found stays


def test_stop_stops_and_closing_the_source_closes_the_overview(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    tab.compute()
    assert tab.busy and tab.status()[2]
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    assert not tab.busy and tab.state.text().startswith("Stopped after")
    window.close_source(window.sources()[0].key)
    assert window.tabs.count() == 0


def test_times_switch_and_saving_a_view_skips_the_overview(qtbot, window: MainWindow) -> None:
    tab = activate_overview(qtbot, window)
    window.set_utc(False)
    assert tab.zone_label.text() == "(local time)"
    assert tab.params().zone == "local"
    assert window.save_current_view("nope") is None
    window.set_utc(True)
    assert card(tab, "failed_login_bursts").finding.severity is Severity.ERROR


def test_print_draws_the_report_on_the_printer_chosen(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter
    from PySide6.QtWidgets import QDialog

    target = tmp_path / "printed.pdf"

    def choose_pdf_printer(dialog: QPrintDialog) -> None:
        dialog.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        dialog.printer().setOutputFileName(str(target))
        QDialog.accept(dialog)  # as if the user chose this printer (QPrintDialog.accept would read its widgets)

    monkeypatch.setattr(QPrintDialog, "open", choose_pdf_printer)
    tab = activate_overview(qtbot, window)
    assert tab.print_overview()
    qtbot.waitUntil(lambda: tab.state.text().startswith("Printed the overview ("), timeout=20_000)
    text = PdfReader(str(target)).pages[0].extract_text().replace("\t", " ")
    assert "Failed-login bursts" in text and "Page 1 of" in text
