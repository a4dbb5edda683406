"""The whole program on a generated demo database, doing what a user does."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMenu, QTabWidget, QTreeView

from auditviewer.app import create_main_window
from auditviewer.qt.widgets.detail_pane import DetailPane
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.qtwait import wait_tab_ready


def tree_index(window, text: str):
    tree = window.findChild(QTreeView, "navigationTree")
    model = tree.model()
    matches = model.match(
        model.index(0, 0),
        Qt.ItemDataRole.DisplayRole,
        text,
        -1,
        Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive,
    )
    assert matches, f"{text!r} is not in the navigation tree"
    return tree, matches[0]


def test_a_review_of_failed_logins_from_tree_to_all_activity(qtbot, window, monkeypatch) -> None:
    assert window.objectName() == "mainWindow"
    tree, index = tree_index(window, "User logins")
    qtbot.waitUntil(lambda: "(" in tree.model().data(index), timeout=10_000)  # counted in the background
    tree.activated.emit(index)
    tabs = window.findChild(QTabWidget, "logTabs")
    assert tabs.count() == 1
    tab = tabs.currentWidget()
    wait_tab_ready(qtbot, tab)
    label = window.findChild(QLabel, "rowCountLabel")
    qtbot.waitUntil(lambda: label.text() == f"{tab.model.total:,} rows", timeout=10_000)

    # Search, then narrow with the filter language.
    search = tab.findChild(QLineEdit, "searchBox")
    with qtbot.waitSignal(tab.filter_bar.filterChanged, timeout=5_000):
        qtbot.keyClicks(search, "northwind")
    wait_tab_ready(qtbot, tab)
    edit = tab.findChild(QLineEdit, "filterEdit")
    qtbot.keyClicks(edit, "login=failed")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_tab_ready(qtbot, tab)
    failed = tab.model.total
    assert failed > 0
    qtbot.waitUntil(lambda: label.text().startswith(f"{failed:,} of "), timeout=10_000)
    login = tab.model.query.columns.index("login")
    assert tab.model.data(tab.model.index(0, login)) == "failed"

    # Sort oldest first by clicking the date header, then jump to the end (the newest).
    date = tab.model.query.columns.index("date")
    tab.view.sortByColumn(date, Qt.SortOrder.AscendingOrder)
    wait_tab_ready(qtbot, tab)
    first_date = tab.model.data(tab.model.index(0, date))
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    last = failed - 1
    qtbot.waitUntil(lambda: tab.model.row_values(last) is not None, timeout=10_000)
    assert tab.model.data(tab.model.index(last, date)) >= first_date

    # The detail pane explains the selected attempt.
    tab.view.selectRow(last)
    pane = tab.findChild(DetailPane, "detailPane")
    assert "Login details" in pane.text() and "Failed login" in pane.text()
    qtbot.waitUntil(lambda: "Failures in the 24 hours before" in pane.text(), timeout=10_000)

    # Right-click the e-mail: "Show all activity" opens a merged timeline.
    email_col = tab.model.query.columns.index("email")
    email = tab.model.row_dict(last)["email"]
    rect = tab.view.visualRect(tab.model.index(last, email_col))
    shown: list[QMenu] = []
    with monkeypatch.context() as patch:
        patch.setattr(QMenu, "popup", lambda menu, *args: shown.append(menu))  # the menu is built but not run
        tab.view.customContextMenuRequested.emit(rect.center())
    actions = {a.text(): a for a in shown[-1].actions()}
    assert "Filter on this value" in actions and "Exclude this value" in actions
    actions[next(t for t in actions if t.startswith("Show all activity"))].trigger()
    assert tabs.count() == 2
    activity = tabs.currentWidget()
    assert tabs.tabText(1) == f"All activity of {email}"
    wait_tab_ready(qtbot, activity)
    logs = set()
    log_col = activity.model.query.columns.index("log")
    for row in range(min(activity.model.total, 100)):
        qtbot.waitUntil(lambda r=row: activity.model.row_values(r) is not None, timeout=10_000)
        logs.add(activity.model.data(activity.model.index(row, log_col)))
    assert {"Panel logs", "User logins"} <= logs
    dates = [activity.model.row_dict(r)["date"] for r in range(min(activity.model.total, 100))]
    assert dates == sorted(dates, reverse=True), "newest first"

    # Ctrl+W closes the activity tab; the log tab stays.
    activity.view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert tabs.count() == 1


def test_nothing_is_written_to_the_reviewed_file(qtbot, demo_path: Path, tmp_path: Path) -> None:
    import hashlib
    import os

    before = (
        hashlib.sha256(demo_path.read_bytes()).hexdigest(),
        demo_path.stat().st_mtime_ns,
        sorted(os.listdir(demo_path.parent)),
    )
    win = create_main_window([str(demo_path)])
    qtbot.addWidget(win)
    key = win.sources()[0].key
    for log_key in ("panel", "api", "sms", "logins"):
        tab = win.open_log(key, log_key)
        assert isinstance(tab, LogTab)
        wait_tab_ready(qtbot, tab)
        tab.view.selectRow(0)
    win.close()
    QApplication.processEvents()
    after = (
        hashlib.sha256(demo_path.read_bytes()).hexdigest(),
        demo_path.stat().st_mtime_ns,
        sorted(os.listdir(demo_path.parent)),
    )
    assert after == before
