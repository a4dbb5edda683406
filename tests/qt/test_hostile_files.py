"""The window over every hostile file (tests/helpers/hostile.py): opened as File > Open opens it, each log
shown, scrolled to its end, a row selected and described; or a clear message. Never an exception in
the window (pytest-qt fails a test on any exception raised in a Qt slot or virtual method), never a
changed file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from auditviewer.app import create_main_window
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets.detail_pane import DetailPane
from tests.helpers import journals
from tests.helpers.hostile import CASE_IDS, CASES, Case
from tests.helpers.qtfind import known
from tests.helpers.qtwait import wait_tab_ready


def test_exceptions_in_qt_code_fail_these_tests(request: pytest.FixtureRequest) -> None:
    """The suite's promise rests on pytest-qt's exception capture: it must not be switched off."""
    assert not request.config.getini("qt_no_exception_capture")


@pytest.fixture
def quiet_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record error messages (msgbox.shown) without leaving boxes open."""
    monkeypatch.setattr(msgbox, "hook", lambda _parent, _entry: None)


@pytest.fixture
def main_window(qtbot, quiet_boxes) -> Iterator:
    window = create_main_window([])
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    yield window
    window.close()


def _show_every_row(qtbot, window, source, case: Case) -> None:
    for key, rows in case.rows.items():
        tab = window.open_log(source.key, key)
        assert tab is not None
        wait_tab_ready(qtbot, tab, timeout=30_000)
        assert tab.model.total == rows
        if rows == 0:
            continue
        tab.view.setFocus()
        qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        last = rows - 1
        qtbot.waitUntil(lambda tab=tab, last=last: tab.model.row_values(last) is not None, timeout=30_000)
        pane = tab.findChild(DetailPane, "detailPane")
        for row in (last, 0):
            qtbot.waitUntil(lambda tab=tab, row=row: tab.model.row_values(row) is not None, timeout=30_000)
            tab.view.selectRow(row)
            shown_id = tab.model.row_dict(row)["id"]
            line = f"ID: {'(empty)' if shown_id is None else shown_id}\n"
            qtbot.waitUntil(lambda pane=pane, line=line: line in pane.text(), timeout=10_000)
            tab.view.viewport().grab()  # paint the visible cells, tooltips' texts asked for too
            for column in range(tab.model.columnCount()):
                index = tab.model.index(row, column)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    tab.model.data(index, role)
        assert tab.status()[0] == f"{rows:,} rows"


def _wait_read_error(qtbot, window, source, case: Case) -> None:
    """Damage past the schema: the tab (its row count, its chart) says so, wherever the reading hits it."""
    tab = window.open_log(source.key, case.log)
    assert tab is not None

    def said() -> bool:
        texts = [tab.status()[0], *(label.text() for label in tab.findChildren(QLabel) if label.isVisible())]
        return any(re.search(known(case.refused), text) for text in texts)

    def settled() -> bool:
        return tab.model.total is not None and not tab.status()[2]

    qtbot.waitUntil(lambda: said() or settled(), timeout=30_000)
    if tab.model.total:
        tab.view.setFocus()
        qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        last = tab.model.total - 1
        qtbot.waitUntil(lambda: said() or (tab.model.row_values(last) is not None and settled()), timeout=30_000)
    qtbot.waitUntil(said, timeout=30_000)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_window_reads_right_or_says_why(qtbot, main_window, case: Case, tmp_path: Path) -> None:
    given = tmp_path / "given"
    given.mkdir()
    path = case.build(given)
    before = journals.fingerprint(given)
    window = main_window
    with ExitStack() as stack:
        if case.read_only_folder:
            stack.enter_context(journals.read_only_folder(given))
        source = window.open_source(str(path))
        if not case.rows and not case.fails_when_read:
            assert source is None
            assert len(msgbox.shown) == 1
            shown = msgbox.shown[-1]
            assert re.search(known(case.refused), shown.message), shown.message
            assert shown.details is None  # a known kind of failure, not a bug's traceback
            assert window.sources() == []
        else:
            assert source is not None, list(msgbox.shown)
            message = window.statusBar().currentMessage()
            assert ("read from a private copy" in message) == case.snapshot, message
            if case.fails_when_read:
                _wait_read_error(qtbot, window, source, case)
            else:
                _show_every_row(qtbot, window, source, case)
                for key, problem in case.problems.items():
                    assert problem in source.problems[key]
                assert not msgbox.shown, list(msgbox.shown)
            snapshot = source.snapshot
            window.close_source(source.key)
            assert snapshot is None or not snapshot.folder.exists()
    assert journals.fingerprint(given) == before


def test_a_big_private_copy_is_made_off_the_gui_thread(
    qtbot, main_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditviewer.qt.widgets import source_opener

    monkeypatch.setattr(source_opener, "BACKGROUND_COPY_BYTES", 1)  # every copy counts as big here
    window = main_window
    path = journals.build_wal(tmp_path)
    before = journals.fingerprint(tmp_path)
    assert window.open_source(str(path)) is None  # under way in the background
    assert window.opening()
    qtbot.waitUntil(lambda: len(window.sources()) == 1, timeout=30_000)
    assert not window.opening() and not msgbox.shown
    source = window.sources()[0]
    assert "live.db is read from a private copy" in window.statusBar().currentMessage()
    tab = window.open_log(source.key, "api")
    wait_tab_ready(qtbot, tab)
    assert tab.model.total == 1050
    snapshot = source.snapshot
    window.close_source(source.key)
    assert not snapshot.folder.exists()
    assert journals.fingerprint(tmp_path) == before
