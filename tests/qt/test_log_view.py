"""Scrolling a result larger than item views can address: the window slides under one scrollbar."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from auditviewer.data.filters import Sort
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from auditviewer.qt.models.log_model import LogTableModel
from auditviewer.qt.models.tasks import TaskRunner
from auditviewer.qt.widgets.log_view import ScrollingTable
from tests.helpers.dbfactory import DbFactory
from tests.qt.test_log_model import api_rows

ROWS = 5_000


@pytest.fixture
def table(qtbot, sqlite_db: DbFactory) -> Iterator[ScrollingTable]:
    source: Source = open_source(sqlite_db.create({"api": api_rows(ROWS)}))
    pages, background = TaskRunner("pages"), TaskRunner("background")
    # A window limit of 1,000 rows stands in for the 20 million of a real run.
    model = LogTableModel(pages, background, window_limit=1_000, window_size=400)
    widget = ScrollingTable(model)
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    model.set_query(LogQuery(source.log("api"), sort=Sort("id", False)))
    qtbot.waitUntil(lambda: model.total is not None, timeout=10_000)
    yield widget
    pages.shutdown()
    background.shutdown()
    source.close()


def top_id(qtbot, widget: ScrollingTable) -> int:
    row = widget.view.rowAt(0)
    qtbot.waitUntil(lambda: widget.model.row_values(row) is not None, timeout=10_000)
    return widget.model.data(widget.model.index(row, 0), Qt.ItemDataRole.UserRole)


def test_the_whole_result_scrollbar_spans_every_row(qtbot, table: ScrollingTable) -> None:
    assert table.model.windowed and table.model.rowCount() == 400
    assert table.outer.isVisible()
    assert table.outer.maximum() == ROWS - table.visible_rows()


def test_dragging_the_scrollbar_anywhere_shows_those_rows(qtbot, table: ScrollingTable) -> None:
    for target in (2_500, 4_000, 17, table.outer.maximum()):
        table.outer.setValue(target)
        assert top_id(qtbot, table) == target + 1  # ids 1..ROWS ascending


def test_ctrl_end_reaches_the_last_row_of_a_windowed_result(qtbot, table: ScrollingTable) -> None:
    table.view.setFocus()
    qtbot.keyClick(table.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    current = table.view.currentIndex().row()
    qtbot.waitUntil(lambda: table.model.row_values(current) is not None, timeout=10_000)
    assert table.model.data(table.model.index(current, 0), Qt.ItemDataRole.UserRole) == ROWS
    assert table.outer.value() == table.outer.maximum()


def test_scrolling_the_view_past_the_window_slides_it(qtbot, table: ScrollingTable) -> None:
    inner = table.view.verticalScrollBar()
    inner.setValue(inner.maximum())  # the bottom of the first window
    assert table.model.window_offset > 0
    first = top_id(qtbot, table)
    assert first > 400 - table.visible_rows()
    assert table.outer.value() == first - 1
