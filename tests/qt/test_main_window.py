"""The main window as a user meets it: opening sources, the tree, tabs, views, settings, shutdown."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton, QTabWidget, QTreeView, QWidget

from auditviewer import app as app_module
from auditviewer.data.secrets import source_key
from auditviewer.data.source import LogTable, Source
from auditviewer.data.views import ConditionState, SavedView
from auditviewer.qt.models.navigation import ALL_UNITS
from auditviewer.qt.models.settings import MAX_RECENT, Settings, demo_path
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets.main_window import MainWindow
from auditviewer.qt.widgets.tabs import LogTabFactory, RowsTab
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.qt.test_navigation import UNITS, api_rows, login_rows

SECRET = "Sup3r-secret-pw"


class FakeLogTab(RowsTab):
    """The LogTab interface, with nothing behind it: the window's side of the contract."""

    def __init__(
        self,
        source: Source,
        log_key: str,
        business_unit: int | None = None,
        utc: bool = True,
        parent: QWidget | None = None,
        table: LogTable | None = None,
        title: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(source, log_key, business_unit, settings, parent)
        self.table = table if table is not None else source.log(log_key)
        self._title = title
        self.utc = utc
        self.applied: list[SavedView] = []
        self.cancelled = 0
        self.shut_down = False
        self.state = SavedView("", log_key, business_unit=business_unit)
        self._status = ("counting…", "", True)

    def title(self) -> str:
        if self._title:
            return self._title
        label = self.table.log_type.label
        return f"{label} — {self.source.business_unit_name(self.business_unit)}" if self.business_unit else label

    def view_state(self, name: str) -> SavedView:
        return replace(self.state, name=name)

    def apply_view(self, view: SavedView) -> None:
        self.applied.append(view)
        self.state = replace(view, name="")

    def set_utc(self, utc: bool) -> None:
        self.utc = utc

    def cancel_running(self) -> None:
        self.cancelled += 1
        self.report("1,000+ rows", "", False)

    def shutdown(self) -> None:
        self.shut_down = True

    def status(self) -> tuple[str, str, bool]:
        return self._status

    def report(self, count: str, elapsed: str, busy: bool) -> None:
        self._status = (count, elapsed, busy)
        self.statusChanged.emit(count, elapsed, busy)


class WindowMaker:
    """Makes main windows for a test (closed at its end), with the real log tabs or a test's."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.windows: list[QMainWindow] = []
        #: What makes the log tabs of the windows made from now on (None: the real LogTab).
        self.log_tabs: LogTabFactory | None = None

    def __call__(self, sources: list[str] | None = None, show: bool = True) -> MainWindow:
        window = app_module.create_main_window(list(sources or []), log_tabs=self.log_tabs)
        self.qtbot.addWidget(window)
        self.windows.append(window)
        if show:
            window.show()
            self.qtbot.waitExposed(window)
        return window


@pytest.fixture
def make_window(qtbot) -> Iterator[WindowMaker]:
    maker = WindowMaker(qtbot)
    yield maker
    for window in maker.windows:
        window.close()


@pytest.fixture
def fake_tabs(make_window: WindowMaker) -> type[FakeLogTab]:
    """The windows this test makes get FakeLogTabs."""
    make_window.log_tabs = FakeLogTab
    return FakeLogTab


@pytest.fixture
def spec(sqlite_db: DbFactory) -> str:
    return sqlite_db.create({"api": api_rows(301), "logins": login_rows(40)}, business_units=UNITS)


def wait_counted(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.navigation.counting(), timeout=10_000)


def tree_texts(window: MainWindow, parent=None) -> list[str]:
    model = window.navigation
    from PySide6.QtCore import QModelIndex

    parent = parent if parent is not None else QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def activate(qtbot, window: MainWindow, index) -> None:
    """Select a tree item and press Enter, as a user would."""
    window.tree.setFocus()
    window.tree.setCurrentIndex(index)
    qtbot.keyClick(window.tree, Qt.Key.Key_Return)


def all_settings_text(settings_text) -> str:
    return settings_text()


# -- the window and its tree ---------------------------------------------------------------------


def test_window_shows_source_units_and_logs_with_counts(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    assert window.objectName() == "mainWindow"
    assert window.findChild(QTreeView, "navigationTree") is window.tree
    assert window.findChild(QTabWidget, "logTabs") is window.tabs
    assert isinstance(window.findChild(QLabel, "rowCountLabel"), QLabel)
    name = Path(spec).name
    assert tree_texts(window) == [name]
    root = window.navigation.index(0, 0)
    assert tree_texts(window, root) == [ALL_UNITS, "Main brand", "Outlet store", "Empty unit", "Overview"]
    assert window.tree.isExpanded(root)
    wait_counted(qtbot, window)
    assert tree_texts(window, window.navigation.index(0, 0, root)) == ["API logs (301)", "User logins (40)"]
    assert tree_texts(window, window.navigation.index(1, 0, root)) == ["API logs (150)", "User logins (32)"]
    assert window.windowTitle() == f"{name} — auditviewer"
    assert window.placeholder.isVisible()


def test_activating_a_log_opens_one_tab_and_then_focuses_it(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    key = window.sources()[0].key
    activate(qtbot, window, window.navigation.log_index(key, "api"))
    assert window.tabs.count() == 1
    assert window.tabs.tabText(0) == "API logs"
    assert window.tabs.isVisible()
    activate(qtbot, window, window.navigation.log_index(key, "logins", 1))
    assert window.tabs.count() == 2
    assert window.tabs.tabText(1) == "User logins — Main brand"
    assert window.windowTitle().startswith("User logins — Main brand — ")

    activate(qtbot, window, window.navigation.log_index(key, "api"))
    assert window.tabs.count() == 2
    assert window.tabs.currentIndex() == 0
    assert window.tabs.isMovable() and window.tabs.tabsClosable()
    wait_counted(qtbot, window)


def test_ctrl_w_closes_the_current_tab(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    key = window.sources()[0].key
    tab = window.open_log(key, "api")
    window.open_log(key, "logins")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.tabs, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.count() == 1
    assert window.current_tab() is tab
    qtbot.keyClick(window.tabs, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.count() == 0
    assert tab.shut_down
    assert window.placeholder.isVisible()
    assert window.row_count_label.text() == ""


def test_status_bar_follows_the_current_tab_and_stop_cancels(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    key = window.sources()[0].key
    api = window.open_log(key, "api")
    logins = window.open_log(key, "logins")
    assert window.row_count_label.text() == "counting…"
    assert window.stop_button.isEnabled()
    logins.report("12 of 40 rows", "query 3 ms", True)
    api.report("1,234 of 10,000,000 rows", "query 12 ms", False)  # not the current tab: not shown
    assert window.row_count_label.text() == "12 of 40 rows"
    assert window.query_time_label.text() == "query 3 ms"

    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert logins.cancelled == 1
    assert not window.stop_button.isEnabled()
    window.tabs.setCurrentWidget(api)
    assert window.row_count_label.text() == "1,234 of 10,000,000 rows"

    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_Escape)
    assert api.cancelled == 1


def test_closing_a_source_closes_its_tabs_only(qtbot, make_window, spec, sqlite_db, fake_tabs) -> None:
    other = sqlite_db.create({"api": api_rows(5)})
    window = make_window([spec, other])
    first, second = (s.key for s in window.sources())
    tabs = [window.open_log(first, "api"), window.open_log(first, "logins", 2), window.open_log(second, "api")]
    assert window.tabs.tabText(2) == f"API logs · {Path(other).name}"
    window.tree.setCurrentIndex(window.navigation.source_index(first))
    window.close_source_action.trigger()
    assert [s.key for s in window.sources()] == [second]
    assert tree_texts(window) == [Path(other).name]
    assert window.tabs.count() == 1 and window.current_tab() is tabs[2]
    assert tabs[0].shut_down and tabs[1].shut_down and not tabs[2].shut_down


def test_source_context_menu_closes_it(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    menu = window.tree_menu(window.navigation.index(0, 0))
    close = next(a for a in menu.actions() if a.text() == "Close")
    close.trigger()
    assert window.sources() == [] and window.navigation.rowCount() == 0


def test_activity_request_opens_an_activity_tab(qtbot, make_window, spec, fake_tabs, monkeypatch) -> None:
    import auditviewer.data.activity as activity

    calls = []

    def fake_activity_table(source: Source, role: str, value: str) -> LogTable:
        calls.append((role, value))
        return source.log("logins")

    monkeypatch.setattr(activity, "activity_table", fake_activity_table)
    window = make_window([spec])
    tab = window.open_log(window.sources()[0].key, "logins")
    tab.activityRequested.emit("email", "anna@example.com")
    assert calls == [("email", "anna@example.com")]
    assert window.tabs.count() == 2
    assert window.tabs.tabText(1) == "All activity of anna@example.com"
    assert window.current_tab().log_key == "activity"
    tab.activityRequested.emit("email", "anna@example.com")  # again: the same tab comes forward
    assert window.tabs.count() == 2 and len(calls) == 1


# -- opening sources ---------------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_reported_by_name(qtbot, make_window, tmp_path, fake_tabs) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database at all, but long enough to have a header of one hundred bytes " * 3)
    window = make_window([str(notes)])
    assert window.sources() == []
    assert len(msgbox.shown) == 1
    shown = msgbox.shown[-1]
    assert "notes.txt" in shown.title and "notes.txt" in shown.message
    assert "Connect to server" in shown.message  # says what to do instead
    box = window.findChild(QWidget, "errorBox")
    assert box is not None and box.isVisible()
    assert box.textFormat() is Qt.TextFormat.PlainText
    assert Settings().recent_sources() == []


def test_recent_sources_are_remembered_and_reopen(qtbot, make_window, spec, fake_tabs) -> None:
    first = make_window([spec])
    assert Settings().recent_sources() == [str(Path(spec).resolve())]
    first.close()
    assert first.sources() == []

    window = make_window([])
    actions = [a for a in window.recent_menu.actions() if a.data()]
    assert [a.data() for a in actions] == [str(Path(spec).resolve())]
    assert Path(spec).name in actions[0].text()
    actions[0].trigger()
    assert [s.key for s in window.sources()] == [str(Path(spec).resolve())]
    window.open_source(spec)  # opening it again selects it instead
    assert len(window.sources()) == 1


def test_a_recent_file_that_is_gone_is_dropped_from_the_list(qtbot, make_window, tmp_path, fake_tabs) -> None:
    Settings().add_recent_source(str(tmp_path / "moved.db"))
    window = make_window([])
    next(a for a in window.recent_menu.actions() if a.data()).trigger()
    assert "moved.db" in msgbox.shown[-1].message
    assert "removed from File > Open Recent" in msgbox.shown[-1].message
    assert Settings().recent_sources() == []


def test_dropping_a_database_file_opens_it(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(spec)])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    assert [s.key for s in window.sources()] == [str(Path(spec).resolve())]

    text_only = QMimeData()
    text_only.setText("hello")
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, text_only, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()
    wait_counted(qtbot, window)


def test_a_server_password_is_never_written_anywhere(qtbot, make_window, settings_text, fake_tabs) -> None:
    url = f"postgresql://auditor:{SECRET}@127.0.0.1:1/audit?schema=logs"
    window = make_window([])
    window.open_source(url)
    qtbot.waitUntil(lambda: not window.opening(), timeout=15_000)
    shown = msgbox.shown[-1]
    assert "127.0.0.1" in shown.title + shown.message
    assert SECRET not in shown.title + shown.message + (shown.details or "")
    assert "Check the host, port" in shown.message
    assert SECRET not in window.windowTitle()
    assert SECRET not in settings_text()


def test_connect_dialog_opens_the_server_and_recent_servers_ask_again(qtbot, make_window, fake_tabs) -> None:
    Settings().add_recent_source(f"postgresql://auditor:{SECRET}@127.0.0.1:1/audit")
    window = make_window([])
    recent = next(a for a in window.recent_menu.actions() if a.data())
    assert recent.data() == "postgresql://auditor@127.0.0.1:1/audit"
    recent.trigger()  # the password was not kept: the dialog asks for it
    dialog = window.connect_dialog
    assert dialog is not None and dialog.isVisible()
    assert (dialog.host.text(), dialog.port.value(), dialog.user.text(), dialog.password.text()) == (
        "127.0.0.1",
        1,
        "auditor",
        "",
    )
    qtbot.keyClicks(dialog.password, SECRET)
    dialog.accept()
    assert window.opening()
    qtbot.waitUntil(lambda: not window.opening(), timeout=15_000)
    assert msgbox.shown[-1].title == "Cannot open postgresql://auditor@127.0.0.1:1/audit"
    assert SECRET not in msgbox.shown[-1].message


@pytest.mark.server
def test_an_opened_server_source_leaves_no_password_behind(
    qtbot, make_window, settings_text, tmp_path, fake_tabs
) -> None:
    from sqlalchemy.engine import make_url

    factory = DbFactory("postgresql", tmp_path, server_url("postgresql"))
    try:
        spec = factory.create({"api": api_rows(30)}, business_units=[(1, "Main brand")])
        url = make_url(spec)
        secret = url.password or SECRET  # a trusting test server ignores it; a real one needs it
        spec = url.set(password=secret).render_as_string(hide_password=False)
        window = make_window([])
        with qtbot.waitSignal(window.sourceOpened, timeout=15_000):
            window.open_source(spec)
        source = window.sources()[0]
        window.open_log(source.key, "api")
        wait_counted(qtbot, window)
        assert secret not in window.windowTitle()
        assert secret not in source.key and secret not in window.navigation.index(0, 0).data()
        recent = Settings().recent_sources()
        assert recent == [source_key(spec)] and secret not in recent[0]
        window.save_current_view("errors")
        assert secret not in settings_text()
        window.close()
        assert secret not in settings_text()
    finally:
        factory.close()


# -- the demo database --------------------------------------------------------------------------------


def test_demo_database_is_created_with_progress_then_opened(qtbot, make_window, tmp_path, fake_tabs) -> None:
    window = make_window([])
    target = tmp_path / "demo.db"
    with qtbot.waitSignal(window.sourceOpened, timeout=30_000):
        window.open_demo(target, rows=2000)
        assert window.findChild(QWidget, "demoProgress").isVisible()
    assert target.exists()
    assert [s.key for s in window.sources()] == [str(target.resolve())]
    assert not window.demo_running()
    wait_counted(qtbot, window)


def test_cancelling_the_demo_leaves_no_file(qtbot, make_window, tmp_path, fake_tabs) -> None:
    window = make_window([])
    target = tmp_path / "demo.db"
    window.open_demo(target, rows=5_000_000)
    dialog = window.findChild(QWidget, "demoProgress")
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=30_000)
    qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.demo_running(), timeout=30_000)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    assert window.sources() == []
    assert list(msgbox.shown) == []  # a cancel is not an error


def test_demo_lives_in_the_user_data_folder() -> None:
    path = demo_path()
    assert path.name == "demo.db"
    assert ".qttest" in str(path)  # the test-mode folder, not the user's


# -- saved views -----------------------------------------------------------------------------------------


def test_saved_views_round_trip(qtbot, make_window, spec, tmp_path, fake_tabs) -> None:
    window = make_window([spec])
    key = window.sources()[0].key
    tab = window.open_log(key, "api", 1)
    tab.state = SavedView(
        "", "api", (ConditionState("status>=500"),), sort="status:asc", columns=("date", "status"), business_unit=1
    )
    saved = window.save_current_view("Server errors")
    assert saved.name == "Server errors"
    assert [v.name for v in Settings().saved_views(key)] == ["Server errors"]
    view_index = window.navigation.view_index(key, "Server errors")
    assert view_index.data() == "Server errors — API logs"
    assert window.tree.isExpanded(view_index.parent())

    window.close_tab()
    activate(qtbot, window, window.navigation.view_index(key, "Server errors"))
    reopened = window.current_tab()
    assert (reopened.log_key, reopened.business_unit) == ("api", 1)
    assert reopened.applied[-1].conditions == (ConditionState("status>=500"),)

    assert window.rename_view(key, "Server errors", "5xx")
    assert tree_texts(window, window.navigation.views_folder_index(key)) == ["5xx — API logs"]
    assert not window.rename_view(key, "5xx", "  ")
    assert "needs a name" in msgbox.shown[-1].message

    exported = tmp_path / "views.json"
    assert window.export_views(key, exported) == 1
    assert json.loads(exported.read_text(encoding="utf-8"))["views"][0]["name"] == "5xx"
    menu = window.tree_menu(window.navigation.view_index(key, "5xx"))
    assert [a.text() for a in menu.actions()] == ["Open", "Rename…", "Delete"]
    window.delete_view(key, "5xx")
    assert not window.navigation.views_folder_index(key).isValid()
    assert Settings().saved_views(key) == []

    assert window.import_views(key, exported) is not None  # read in the background
    qtbot.waitUntil(lambda: window.saved_views.last_imported is not None, timeout=10_000)
    assert [v.name for v in window.saved_views.last_imported] == ["5xx"]
    assert Settings().saved_views(key)[0].conditions == (ConditionState("status>=500"),)
    assert window.navigation.view_index(key, "5xx").isValid()
    window.import_views(key, exported)
    qtbot.waitUntil(lambda: window.saved_views.last_imported is not None, timeout=10_000)
    assert window.saved_views.last_imported == []  # the same view again is not doubled

    bad = tmp_path / "bad.json"
    bad.write_text("{ nope", encoding="utf-8")
    shown = len(msgbox.shown)
    window.import_views(key, bad)
    qtbot.waitUntil(lambda: len(msgbox.shown) > shown, timeout=10_000)
    assert "bad.json" in msgbox.shown[-1].message and "Export saved views" in msgbox.shown[-1].message


def test_saved_views_are_kept_per_source(qtbot, make_window, spec, sqlite_db, fake_tabs) -> None:
    other = sqlite_db.create({"api": api_rows(5)})
    window = make_window([spec, other])
    first, second = (s.key for s in window.sources())
    window.open_log(first, "api")
    window.save_current_view("mine")
    assert window.navigation.view_index(first, "mine").isValid()
    assert not window.navigation.view_index(second, "mine").isValid()
    window.close()
    again = make_window([spec])
    assert again.navigation.view_index(first, "mine").isValid()


# -- settings that persist ----------------------------------------------------------------------------------


def test_utc_toggle_reaches_tabs_status_bar_and_next_run(qtbot, make_window, spec, fake_tabs) -> None:
    window = make_window([spec])
    tab = window.open_log(window.sources()[0].key, "api")
    assert window.utc() and tab.utc
    assert window.zone_label.text() == "Times in UTC"
    window.utc_action.trigger()
    assert not window.utc() and not tab.utc
    assert window.zone_label.text().startswith("Times in local time (")
    window.close()

    again = make_window([spec])
    assert not again.utc() and not again.utc_action.isChecked()
    assert again.open_log(again.sources()[0].key, "api").utc is False


def test_window_geometry_is_restored(qtbot, make_window, fake_tabs) -> None:
    window = make_window([])
    window.resize(700, 500)
    window.dock.hide()
    window.close()
    again = make_window([])
    assert (again.width(), again.height()) == (700, 500)
    assert not again.dock.isVisible()
    assert not again.navigation_action.isChecked()


def test_source_key_keeps_nothing_secret(tmp_path) -> None:
    assert source_key(f"postgresql://u:{SECRET}@h:5432/db?schema=s") == "postgresql://u@h:5432/db?schema=s"
    assert source_key(f"mysql://u@h/db?password={SECRET}") == "mysql://u@h/db"
    assert source_key(str(tmp_path / "x.db")) == str((tmp_path / "x.db").resolve())


def test_recent_list_is_capped_and_most_recent_first(tmp_path) -> None:
    settings = Settings()
    for n in range(MAX_RECENT + 3):
        settings.add_recent_source(str(tmp_path / f"{n}.db"))
    settings.add_recent_source(str(tmp_path / "5.db"))
    recent = settings.recent_sources()
    assert len(recent) == MAX_RECENT
    assert Path(recent[0]).name == "5.db" and Path(recent[1]).name == f"{MAX_RECENT + 2}.db"


def test_column_state_is_kept_per_log_type() -> None:
    settings = Settings()
    assert settings.column_state("api") is None
    settings.set_column_state("api", b"\x00\x01state")
    assert settings.column_state("api") == b"\x00\x01state"
    assert settings.column_state("sms") is None
    # the log tab reads the same key straight from QSettings
    assert bytes(QSettings().value("columns/api").data()) == b"\x00\x01state"


# -- shutting down -------------------------------------------------------------------------------------------


def test_closing_the_window_stops_every_thread_and_closes_sources(qtbot, make_window, spec, fake_tabs) -> None:
    before = set(threading.enumerate())
    window = make_window([spec])
    key = window.sources()[0].key
    tabs = [window.open_log(key, "api"), window.open_log(key, "logins")]
    source = window.sources()[0]
    window.close()
    assert all(tab.shut_down for tab in tabs)
    assert window.sources() == []
    assert source.engine.pool.checkedout() == 0
    assert [t for t in threading.enumerate() if t not in before] == []


def test_real_log_tab_end_to_end(qtbot, make_window, spec) -> None:
    """With the real LogTab: counts in the status bar, the UTC toggle, and a clean close."""
    window = make_window([spec])
    key = window.sources()[0].key
    tab = window.open_log(key, "api", 2)
    assert window.tabs.tabText(0) == "API logs — Outlet store"
    qtbot.waitUntil(lambda: window.row_count_label.text() == "151 rows", timeout=10_000)
    qtbot.waitUntil(lambda: window.query_time_label.text().startswith("query "), timeout=10_000)
    window.set_utc(False)
    assert window.zone_label.text().startswith("Times in local time")
    qtbot.waitUntil(lambda: not window.stop_button.isEnabled(), timeout=10_000)
    wait_counted(qtbot, window)
    assert tab.model.total == 151


# -- the program -----------------------------------------------------------------------------------------------


def test_version_and_usage_errors(capsys) -> None:
    assert app_module.main(["--version"]) == 0
    assert "auditviewer 0.1.0" in capsys.readouterr().out
    assert app_module.main(["--no-such-option"]) == 2


def test_python_dash_m_runs_the_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 0 and "auditviewer" in result.stdout


def test_main_opens_the_given_sources_and_logs_to_a_file(qtbot, spec, monkeypatch, fake_tabs) -> None:
    seen: list[list[str]] = []

    def fake_loop(app) -> int:
        window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible())
        qtbot.addWidget(window)
        seen.append([s.display_name for s in window.sources()])
        window.close()
        return 0

    monkeypatch.setattr(app_module, "_run_event_loop", fake_loop)
    assert app_module.main([spec]) == 0
    assert seen == [[Path(spec).name]]
    log_file = demo_path().parent / "logs" / app_module.LOG_FILE
    assert "starting" in log_file.read_text(encoding="utf-8")
    assert Settings().window_geometry()
