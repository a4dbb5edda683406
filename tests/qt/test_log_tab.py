"""A log tab driven as a user drives it: search, filters, sort, details, jump to end, copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QLineEdit, QTableView, QToolButton

from auditviewer.data.demo import SCRIPT_URL, create_demo
from auditviewer.data.filters import Sort
from auditviewer.data.source import Source, open_source
from auditviewer.qt.widgets.detail_pane import DetailPane
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.qtfind import child, known
from tests.helpers.qtwait import wait_tab_ready

API_ROWS = 3_000


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tab") / "demo.db"
    create_demo(path, rows=API_ROWS, seed=3)
    return path


@pytest.fixture
def source(demo_path: Path) -> Iterator[Source]:
    src = open_source(demo_path)
    yield src
    src.close()


def open_tab(qtbot, source: Source, log_key: str = "api") -> LogTab:
    tab = LogTab(source, log_key)
    qtbot.addWidget(tab)
    tab.resize(1300, 700)
    tab.show()
    wait_tab_ready(qtbot, tab)
    return tab


@pytest.fixture
def tab(qtbot, source: Source) -> Iterator[LogTab]:
    tab = open_tab(qtbot, source)
    yield tab
    tab.shutdown()


def column(tab: LogTab, name: str) -> int:
    return known(tab.model.query).columns.index(name)


def cell(tab: LogTab, row: int, name: str) -> str:
    return tab.model.data(tab.model.index(row, column(tab, name)))


def loaded_rows(tab: LogTab, limit: int = 100) -> list[int]:
    return [r for r in range(min(limit, tab.model.rowCount())) if tab.model.row_values(r) is not None]


def type_filter(qtbot, tab: LogTab, text: str) -> None:
    edit = child(tab, QLineEdit, "filterEdit")
    edit.clear()
    qtbot.keyClicks(edit, text)
    with qtbot.waitSignal(tab.model.countChanged, timeout=10_000):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_tab_ready(qtbot, tab)


def test_opening_shows_newest_rows_and_the_count(qtbot, tab: LogTab) -> None:
    assert tab.findChild(QTableView, "logTable") is tab.view
    assert tab.model.rowCount() == API_ROWS
    ids = [tab.model.data(tab.model.index(r, 0), Qt.ItemDataRole.UserRole) for r in loaded_rows(tab)]
    assert ids[0] == API_ROWS and ids == sorted(ids, reverse=True)
    assert tab.status()[0] == f"{API_ROWS:,} rows"


def test_search_box_applies_after_a_pause(qtbot, tab: LogTab) -> None:
    search = child(tab, QLineEdit, "searchBox")
    with qtbot.waitSignal(tab.filter_bar.filterChanged, timeout=5_000):
        qtbot.keyClicks(search, "Transactionals")
    wait_tab_ready(qtbot, tab)
    assert 0 < known(tab.model.total) < API_ROWS
    assert all("Transactionals" in cell(tab, r, "url") for r in loaded_rows(tab))
    assert tab.status()[0] == f"{known(tab.model.total):,} of {API_ROWS:,} rows"


def test_advanced_filter_chip_can_be_negated_switched_off_and_removed(qtbot, tab: LogTab) -> None:
    type_filter(qtbot, tab, "status>=500")
    errors = known(tab.model.total)
    assert 0 < errors < API_ROWS
    assert all(int(cell(tab, r, "status")) >= 500 for r in loaded_rows(tab))
    indicator = child(tab, QLabel, "filterIndicator")
    assert indicator.isVisible() and indicator.text() == "Filtered"

    chip = child(tab, QToolButton, "conditionChip")
    assert chip.text() == "status>=500"
    actions = {a.text(): a for a in chip.menu().actions()}
    with qtbot.waitSignal(tab.model.countChanged, timeout=10_000):
        actions["Negate"].trigger()
    wait_tab_ready(qtbot, tab)
    assert tab.model.total == API_ROWS - errors
    assert all(int(cell(tab, r, "status")) < 500 for r in loaded_rows(tab))

    chip = child(tab, QToolButton, "conditionChip")
    actions = {a.text(): a for a in chip.menu().actions()}
    with qtbot.waitSignal(tab.model.countChanged, timeout=10_000):
        actions["Switch off"].trigger()
    wait_tab_ready(qtbot, tab)
    assert tab.model.total == API_ROWS

    chip = child(tab, QToolButton, "conditionChip")
    actions = {a.text(): a for a in chip.menu().actions()}
    actions["Remove"].trigger()
    qtbot.waitUntil(lambda: tab.findChild(QToolButton, "conditionChip") is None, timeout=5_000)
    assert not child(tab, QLabel, "filterIndicator").isVisible()


def test_a_wrong_filter_says_what_is_valid_and_changes_nothing(qtbot, tab: LogTab) -> None:
    edit = child(tab, QLineEdit, "filterEdit")
    qtbot.keyClicks(edit, "colour=red")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    error = child(tab, QLabel, "filterError")
    assert error.isVisible()
    assert "no column 'colour'" in error.text() and "remote_ip" in error.text()
    assert known(tab.model.query).filter.is_empty and tab.model.total == API_ROWS


def test_clicking_a_header_sorts_in_sql(qtbot, tab: LogTab) -> None:
    with qtbot.waitSignal(tab.model.modelReset, timeout=5_000):
        tab.view.horizontalHeader().sectionClicked.emit(column(tab, "status"))
        tab.view.sortByColumn(column(tab, "status"), Qt.SortOrder.AscendingOrder)
    wait_tab_ready(qtbot, tab)
    assert known(tab.model.query).sort == Sort("status", False)
    statuses = [int(cell(tab, r, "status")) for r in loaded_rows(tab)]
    assert statuses == sorted(statuses) and statuses[0] == 200


def test_selecting_a_row_fills_the_detail_pane(qtbot, tab: LogTab) -> None:
    type_filter(qtbot, tab, "status=404")
    tab.view.selectRow(0)
    pane = child(tab, DetailPane, "detailPane")
    text = pane.text()
    assert "API call details" in text
    assert "404 Not Found" in text
    assert cell(tab, 0, "remote_ip") in text


def test_ctrl_end_shows_the_oldest_rows(qtbot, tab: LogTab) -> None:
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    last = API_ROWS - 1
    assert tab.view.currentIndex().row() == last
    qtbot.waitUntil(lambda: tab.model.row_values(last) is not None, timeout=10_000)
    assert tab.model.data(tab.model.index(last, 0), Qt.ItemDataRole.UserRole) == 1
    assert tab.view.rowAt(tab.view.viewport().height() - 2) in (last, -1)


def test_ctrl_c_copies_selected_cells_with_a_header(qtbot, tab: LogTab) -> None:
    tab.view.selectRow(0)
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    header = lines[0].split("\t")
    assert "Status" in header and "Remote IP" in header
    assert lines[1].split("\t")[header.index("ID")] == str(API_ROWS)


def test_html_in_data_is_shown_as_text(qtbot, source: Source) -> None:
    tab = open_tab(qtbot, source, "panel")
    try:
        type_filter(qtbot, tab, "url~<script>")
        assert tab.model.total and cell(tab, 0, "url") == SCRIPT_URL
        tab.view.selectRow(0)
        assert SCRIPT_URL in child(tab, DetailPane, "detailPane").text()
    finally:
        tab.shutdown()


def test_a_failed_login_shows_the_attempts_around_it(qtbot, source: Source) -> None:
    tab = open_tab(qtbot, source, "logins")
    try:
        type_filter(qtbot, tab, "login=failed")
        tab.view.selectRow(0)
        pane = child(tab, DetailPane, "detailPane")
        qtbot.waitUntil(lambda: "Failures in the 24 hours before" in pane.text(), timeout=10_000)
        assert "Login details" in pane.text()
    finally:
        tab.shutdown()


def test_utc_toggle_changes_the_dates_shown(qtbot, tab: LogTab, monkeypatch) -> None:
    from datetime import timedelta, timezone

    from auditviewer.qt.widgets import log_tab

    monkeypatch.setattr(log_tab, "local_zone", lambda: timezone(timedelta(hours=5)))
    utc_text = cell(tab, 0, "date")
    tab.set_utc(False)
    local_text = cell(tab, 0, "date")
    assert utc_text != local_text
    assert int(local_text[11:13]) == (int(utc_text[11:13]) + 5) % 24


def test_escape_cancels_running_queries(qtbot, tab: LogTab) -> None:
    search = child(tab, QLineEdit, "searchBox")
    search.setText("Subscribers")
    tab.filter_bar._on_search_timer_timeout()
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Escape)
    assert not tab.model._in_flight and not tab.model._tasks


def test_the_last_row_is_described_once_ctrl_end_has_loaded_it(qtbot, tab: LogTab) -> None:
    """Ctrl+End selects a row whose page is still on its way: the pane says so, then describes it."""
    pane = child(tab, DetailPane, "detailPane")
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    last = known(tab.model.total) - 1
    assert tab.view.currentIndex().row() == last
    qtbot.waitUntil(lambda: tab.model.row_values(last) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: f"ID: {known(tab.model.row_dict(last))['id']}\n" in pane.text(), timeout=10_000)
