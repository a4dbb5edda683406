"""The main window: the navigation tree, the tabs, the menus and the status bar.

The window puts its parts together and owns them: the open sources
(:class:`~auditviewer.qt.models.open_sources.OpenSources`), the tabs
(:class:`~auditviewer.qt.widgets.tab_book.TabBook`), the tree
(:mod:`navigation_dock`), the status line (:mod:`status_line`), opening sources
(:mod:`source_opener`), saved views (:mod:`saved_views`) and reports
(:mod:`report_dialog`); each is handed what it works on, never the window.
Closing the window shuts down each tab's lanes, the counting lane and its own,
and closes each source, so no thread outlives it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QStackedWidget, QTabWidget, QWidget

from auditviewer import APP_NAME, __version__
from auditviewer.data.source import Source
from auditviewer.data.views import SavedView
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.plaintext import window_title
from auditviewer.qt.models.settings import Settings, set_application_names
from auditviewer.qt.models.tasks import Task
from auditviewer.qt.widgets.connect_dialog import ConnectDialog
from auditviewer.qt.widgets.log_tab import LogTab
from auditviewer.qt.widgets.navigation_dock import NavigationDock
from auditviewer.qt.widgets.overview import OverviewTab
from auditviewer.qt.widgets.report_dialog import ReportActions
from auditviewer.qt.widgets.saved_views import SavedViewActions
from auditviewer.qt.widgets.source_opener import SourceOpener, local_files
from auditviewer.qt.widgets.status_line import StatusLine
from auditviewer.qt.widgets.tab_book import TabBook
from auditviewer.qt.widgets.tabs import LogTabFactory, RowsTab, Tab

log = logging.getLogger(__name__)

Keys = QKeySequence | QKeySequence.StandardKey | str | None  # a menu entry's shortcut, if it has one

PLACEHOLDER = (
    "Open an exported log database with File > Open (Ctrl+O), drop a database file here,\n"
    "or use File > Connect to server for PostgreSQL or MySQL.\n\n"
    "Then double-click a log in the tree on the left."
)


def create_main_window(
    sources: list[str], settings: Settings | None = None, log_tabs: LogTabFactory | None = None
) -> MainWindow:
    """The main window with each source opened (not shown; no event loop).

    A source that cannot be opened is reported through the non-blocking error box.
    ``log_tabs`` makes the log tabs (tests hand in a stand-in); the real ``LogTab`` by default.
    """
    set_application_names()
    window = MainWindow(settings, log_tabs=log_tabs)
    for spec in sources:
        window.open_source(spec)
    return window


class MainWindow(QMainWindow):
    """Sources on the left, one tab per opened log, counts and query time below."""

    #: A source was added to the window (its key).
    sourceOpened = Signal(str)
    #: A source was closed (its key).
    sourceClosed = Signal(str)

    def __init__(
        self, settings: Settings | None = None, parent: QWidget | None = None, *, log_tabs: LogTabFactory | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        #: What the program remembers: made here once (unless given), handed to every part that needs it.
        self.settings = settings if settings is not None else Settings()
        self._shut_down = False
        self._size_dock_on_show = False
        self._utc = self.settings.utc()
        self.opened = OpenSources(self._focused_source_key, self)
        self._build_centre()
        self.tab_book = TabBook(self.tabs, self.opened, self.settings, log_tabs or LogTab, self._utc, self)
        self.saved_views = SavedViewActions(self, self.opened, self.tab_book, self.settings)
        self.dock = NavigationDock(self.opened, self.tab_book, self.saved_views, self.settings, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.tree, self.navigation = self.dock.tree, self.dock.navigation
        self.status_line = StatusLine(self.statusBar())
        line = self.status_line
        self.row_count_label, self.query_time_label = line.row_count_label, line.query_time_label
        self.zone_label, self.stop_button = line.zone_label, line.stop_button
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recentMenu")
        self.opener = SourceOpener(self, self.opened, self.settings, self.recent_menu)
        self._build_menus()
        self.status_line.show_zone(self._utc)
        self._update_central()
        self._connect_parts()
        self._restore_layout()

    # -- building ------------------------------------------------------------------------------------

    def _build_centre(self) -> None:
        """The tabs, or a hint while none is open."""
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("logTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.placeholder = QLabel(PLACEHOLDER, self)
        self.placeholder.setObjectName("placeholderLabel")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder.setEnabled(False)  # drawn greyed: a hint, not content
        self.centre = QStackedWidget(self)
        self.centre.addWidget(self.placeholder)
        self.centre.addWidget(self.tabs)
        self.setCentralWidget(self.centre)

    def _action(self, menu: QMenu, text: str, command: Callable[[], object], shortcut: Keys, name: str) -> QAction:
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(name)
        action.triggered.connect(lambda: command())  # not ``checked`` into a command's first parameter
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self._build_file_menu(bar.addMenu("&File"))
        self._build_view_menu(bar.addMenu("&View"))
        go = bar.addMenu("&Go")
        self._action(go, "&Next tab", lambda: self._step_tab(1), QKeySequence.StandardKey.NextChild, "nextTabAction")
        self._action(
            go, "&Previous tab", lambda: self._step_tab(-1), QKeySequence.StandardKey.PreviousChild, "previousTabAction"
        )
        go.addSeparator()
        self._action(go, "Navigation &tree", self.dock.focus_tree, "Ctrl+1", "focusTreeAction")
        self._action(go, "Current &log", self._focus_tab, "Ctrl+2", "focusTabAction")
        self._action(bar.addMenu("&Help"), "&About auditviewer", self._show_about, None, "aboutAction")

    def _build_file_menu(self, file: QMenu) -> None:
        self._action(file, "&Open…", self.opener.choose_files, QKeySequence.StandardKey.Open, "openAction")
        self._action(file, "Connect to &server…", self.opener.connect_to_server, "Ctrl+Shift+O", "connectAction")
        file.addMenu(self.recent_menu)
        self._action(file, "Open &demo database", self.open_demo, None, "demoAction")
        file.addSeparator()
        self.save_view_action = self._action(
            file, "&Save view…", self.save_current_view, QKeySequence.StandardKey.Save, "saveViewAction"
        )
        self._action(file, "&Export saved views…", self.saved_views.export_from_menu, None, "exportViewsAction")
        self._action(file, "&Import saved views…", self.import_views, None, "importViewsAction")
        file.addSeparator()
        # Print, Print preview, Export > PDF / Excel / CSV
        self.reports = ReportActions(self, file, self.tab_book, self.opened, self.settings)
        file.addSeparator()
        self.close_tab_action = self._action(file, "Close &tab", self.close_tab, "Ctrl+W", "closeTabAction")
        self.close_source_action = self._action(
            file, "&Close source", self._close_current_source, "Ctrl+Shift+W", "closeSourceAction"
        )
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.close, "Ctrl+Q", "quitAction")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.opener.rebuild_recent_menu()

    def _build_view_menu(self, view: QMenu) -> None:
        self.utc_action = view.addAction("Dates in &UTC")
        self.utc_action.setObjectName("utcAction")
        self.utc_action.setShortcut(QKeySequence("Ctrl+Shift+U"))
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(self._utc)
        self.utc_action.setToolTip("Show dates in UTC; unchecked, in this computer's local time")
        self.utc_action.triggered.connect(self.set_utc)  # with ``checked``
        self.navigation_action = self.dock.toggleViewAction()
        self.navigation_action.setText("Show &navigation")
        self.navigation_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.navigation_action.setObjectName("showNavigationAction")
        view.addAction(self.navigation_action)

    def _connect_parts(self) -> None:
        self.opened.opened.connect(self._on_source_opened)
        self.opened.closed.connect(self._update_title)
        self.opened.opened.connect(self.sourceOpened)
        self.opened.closed.connect(self.sourceClosed)
        self.tab_book.statusChanged.connect(self.status_line.show_status)
        self.tab_book.currentChanged.connect(self._update_title)
        self.tab_book.countChanged.connect(self._update_central)
        self.stop_button.clicked.connect(self.tab_book.cancel_current)

    # -- the window's commands (the menus, the tree, the program and its tests call these) -----

    def sources(self) -> list[Source]:
        return self.opened.all()

    def open_source(self, spec: str | os.PathLike[str]) -> Source | None:
        """Open a SQLite file (now) or a server URL (in the background; returns None); a failure says why."""
        return self.opener.open_source(spec)

    def opening(self) -> bool:
        """Whether a server connection is still being made."""
        return self.opener.opening()

    @property
    def connect_dialog(self) -> ConnectDialog | None:
        return self.opener.connect_dialog

    def open_demo(self, path: str | os.PathLike[str] | None = None, rows: int = 200_000) -> None:
        """Open the demo database, creating it first (in the background, with Cancel) if missing."""
        self.opener.open_demo(path, rows)

    def demo_running(self) -> bool:
        return self.opener.demo_running()

    def close_source(self, key: str) -> None:
        """Close a source and every tab showing it."""
        self.opened.close(key)

    def current_tab(self) -> Tab | None:
        return self.tab_book.current()

    def open_log(self, source_key: str, log_key: str, business_unit: int | None = None) -> RowsTab | None:
        return self.tab_book.open_log(source_key, log_key, business_unit)

    def open_overview(self, source_key: str) -> OverviewTab | None:
        return self.tab_book.open_overview(source_key)

    def close_tab(self, index: int | None = None) -> None:
        """Close a tab (the current one by default), stopping its queries first."""
        self.tab_book.close_at(index)

    def save_current_view(self, name: str | None = None) -> SavedView | None:
        """Save the current tab's filters, sort and columns under a name (asked for if not given)."""
        return self.saved_views.save_current_view(name)

    def rename_view(self, source_key: str, old: str, new: str | None = None) -> bool:
        return self.saved_views.rename_view(source_key, old, new)

    def delete_view(self, source_key: str, name: str) -> None:
        self.saved_views.delete_view(source_key, name)

    def export_views(self, source_key: str | None = None, path: str | os.PathLike[str] | None = None) -> int:
        """Write a source's saved views to a JSON file (asked for if not given); returns how many."""
        return self.saved_views.export_views(source_key, path)

    def import_views(self, source_key: str | None = None, path: str | os.PathLike[str] | None = None) -> Task | None:
        """Add the saved views of a JSON file to a source (file asked for if not given), in the background."""
        return self.saved_views.import_views(source_key, path)

    def utc(self) -> bool:
        return self._utc

    def set_utc(self, utc: bool) -> None:
        """Show dates in UTC or local time, in every tab; remembered."""
        self._utc = utc
        self.settings.set_utc(utc)
        if self.utc_action.isChecked() != utc:
            self.utc_action.setChecked(utc)
        self.tab_book.set_utc(utc)
        self.status_line.show_zone(utc)

    def tree_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a tree item (built, not shown)."""
        return self.dock.tree_menu(index)

    # -- what the window shows --------------------------------------------------------------------

    def _focused_source_key(self) -> str | None:
        """The source the user is working with: the selected tree item's, else the current tab's."""
        key = self.dock.current_source_key()
        if key is not None:
            return key
        tab = self.tab_book.current()
        return tab.source.key if tab is not None else None

    def _close_current_source(self) -> None:
        source = self.opened.current()
        if source is not None:
            self.opened.close(source.key)

    def _update_central(self) -> None:
        count = self.tab_book.count()
        self.centre.setCurrentWidget(self.tabs if count else self.placeholder)
        self.close_tab_action.setEnabled(count > 0)
        self.save_view_action.setEnabled(count > 0)
        if not count:
            self.status_line.show_status("", "", False)
            self._update_title()

    def _update_title(self) -> None:
        tab = self.tab_book.current()
        sources = self.opened.all()
        if tab is not None:
            self.setWindowTitle(window_title(f"{tab.title()} — {tab.source.display_name} — {APP_NAME}"))
        elif len(sources) == 1:
            self.setWindowTitle(window_title(f"{sources[0].display_name} — {APP_NAME}"))
        else:
            self.setWindowTitle(APP_NAME)

    def _step_tab(self, step: int) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def _focus_tab(self) -> None:
        tab = self.tab_book.current()
        if tab is not None:
            tab.setFocus()

    def _show_about(self) -> None:
        from PySide6 import __version__ as pyside_version

        box = QMessageBox(
            QMessageBox.Icon.Information,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\n\nAn offline, read-only viewer for exported audit-log "
            f"databases: panel, API, SMS and login logs.\n\nQt for Python {pyside_version}",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- slots ------------------------------------------------------------------------------------------

    def _on_source_opened(self, key: str) -> None:
        source = self.opened.get(key)
        if source is None:
            return
        self._update_title()
        if source.notice:  # e.g. read from a private snapshot: say so until another message replaces it
            log.info("%s", source.notice)
            self.statusBar().showMessage(source.notice)  # it names the file: "x.db is read from a private copy…"
        else:
            self.statusBar().showMessage(f"Opened {source.display_name}", 5000)

    # -- events ---------------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Esc inside a tab is the tab's own shortcut; here it arrives from the tree or the status bar.
        if event.key() == Qt.Key.Key_Escape and self.tab_book.cancel_current():
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event.mimeData().urls() if event.mimeData().hasUrls() else []):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_files(event.mimeData().urls() if event.mimeData().hasUrls() else [])
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in paths:
            self.open_source(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(bytes(self.saveGeometry().data()))
        self.settings.set_window_state(bytes(self.saveState().data()))
        self.shutdown()
        super().closeEvent(event)

    def _restore_layout(self) -> None:
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(QByteArray(geometry)):
            available = self.screen().availableGeometry()
            self.resize(min(1280, int(available.width() * 0.9)), min(800, int(available.height() * 0.9)))
        state = self.settings.window_state()
        if state is None or not self.restoreState(QByteArray(state)):
            self._size_dock_on_show = True  # first run: size the tree once the window has its size

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._size_dock_on_show:
            self._size_dock_on_show = False
            self.resizeDocks([self.dock], [max(240, min(340, self.width() // 5))], Qt.Orientation.Horizontal)

    def shutdown(self) -> None:
        """Stop every query and worker thread and close every source; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.tab_book.shutdown()
        self.dock.shutdown()
        self.opener.shutdown()
        self.saved_views.shutdown()
        self.reports.shutdown()
        self.opened.close_all()
