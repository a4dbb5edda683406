"""The filter bar given values at the edges: the message the filter field shows, never a raw error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLabel, QLineEdit, QToolButton

from auditviewer.data.source import open_source
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import child
from tests.helpers.qtwait import wait_tab_ready
from tests.unit.logrows import api_row

ROWS = 12


@pytest.fixture
def tab(qtbot, sqlite_db: DbFactory) -> Iterator[LogTab]:
    rows = [
        api_row(i, date=datetime(2025, 6, 1, i), url="/with space" if i % 4 == 0 else f"/v2/{i}")
        for i in range(1, ROWS + 1)
    ]
    source = open_source(sqlite_db.create({"api": rows}))
    tab = LogTab(source, "api")
    qtbot.addWidget(tab)
    tab.resize(1200, 600)
    tab.show()
    wait_tab_ready(qtbot, tab)
    yield tab
    tab.shutdown()
    source.close()


def type_filter(qtbot, tab: LogTab, text: str) -> None:
    edit = child(tab, QLineEdit, "filterEdit")
    edit.clear()
    edit.setText(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def error_text(tab: LogTab) -> str:
    label = child(tab, QLabel, "filterError")
    return label.text() if label.isVisible() else ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("status>=99999999999999999999999", "out of range for a number column (at most 9223372036854775807)"),
        ("id=9223372036854775808", "out of range for a number column"),
        ("date=20250601", "is not a date; use YYYY-MM-DD (a whole day)"),
        ('url~""', "needs some text to look for"),
    ],
)
def test_values_out_of_range_are_refused_in_the_filter_field(qtbot, tab: LogTab, text: str, words: str) -> None:
    type_filter(qtbot, tab, text)
    assert words in error_text(tab)
    assert tab.findChild(QToolButton, "conditionChip") is None
    assert tab.model.total == ROWS and "Error" not in tab.status()[0]


@pytest.mark.parametrize(
    ("text", "expected"), [("date>9999-12-31", 0), ("date<=9999-12-31", ROWS), ('url~" "', 3), ('url!~" "', ROWS - 3)]
)
def test_values_at_the_edges_filter_rows(qtbot, tab: LogTab, text: str, expected: int) -> None:
    type_filter(qtbot, tab, text)
    qtbot.waitUntil(lambda: tab.findChild(QToolButton, "conditionChip") is not None, timeout=5_000)
    qtbot.waitUntil(lambda: tab.model.total == expected, timeout=10_000)
    assert error_text(tab) == ""
    assert tab.status()[0] in (f"{expected:,} of {ROWS:,} rows", "No rows match")


def test_a_custom_range_that_ends_before_it_starts_says_so(qtbot, tab: LogTab) -> None:
    combo = child(tab, QComboBox, "timeRange")
    combo.setCurrentIndex(combo.findData("custom"))
    start, end = (edit for edit in tab.findChildren(QDateTimeEdit))
    start.setDateTime(QDateTime(2025, 6, 10, 0, 0, 0))
    end.setDateTime(QDateTime(2025, 6, 1, 0, 0, 0))
    assert error_text(tab) == (
        "Custom range: the end (2025-06-01 00:00) must come after the start "
        "(2025-06-10 00:00); the table still shows the previous range"
    )
    assert "start must come before its end" in tab.status()[0]
    end.setDateTime(QDateTime(2025, 6, 20, 0, 0, 0))
    assert error_text(tab) == ""
    wait_tab_ready(qtbot, tab)
    qtbot.waitUntil(lambda: tab.model.total == 0, timeout=10_000)
    start.setDateTime(QDateTime(2025, 6, 1, 5, 0, 0))
    qtbot.waitUntil(lambda: tab.model.total == ROWS - 4, timeout=10_000)
