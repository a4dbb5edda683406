"""The main window: open sources, the navigation tree, log tabs, the status bar.

The window owns every source it opens and every worker lane it starts; closing
it shuts down each tab's lanes, the counting lane and its own, and closes each
source, so no thread outlives it. Server connections and the demo database are
made on background lanes behind a progress dialog with Cancel.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, QTimeZone, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QInputDialog, QLabel, QMainWindow, QMenu, QMessageBox, QProgressDialog,
    QStackedWidget, QStyle, QTabWidget, QToolButton, QTreeView, QWidget,
)

from auditviewer import APP_NAME, __version__
from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError, QueryCancelled, SchemaError
from auditviewer.data.insights import RowLink
from auditviewer.data.source import Source, is_url, open_source
from auditviewer.data.views import SavedView
from auditviewer.qt.models.navigation import NavigationModel, Node, NodeKind
from auditviewer.qt.models.settings import Settings, demo_path, secrets_of, strip_password
from auditviewer.qt.models.tasks import TaskRunner
from auditviewer.qt.widgets.connect_dialog import ConnectDialog, scrub
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.qt.widgets.overview import OverviewTab
from auditviewer.qt.widgets.report_dialog import ReportActions

try:
    from auditviewer.qt.widgets.log_tab import LogTab
except ImportError:  # pragma: no cover - only while a module log_tab needs is still being written
    LogTab = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from auditviewer.qt.widgets.log_tab import LogTab as LogTabType

log = logging.getLogger(__name__)

TabKey = tuple[str, str, int | None]  # (source key, log key, business unit)
FILE_FILTER = "Log databases (*.db *.sqlite *.sqlite3 *.db3);;All files (*)"
VIEWS_FILTER = "Saved views (*.json);;All files (*)"
PLACEHOLDER = ("Open an exported log database with File > Open (Ctrl+O), drop a database file here,\n"
               "or use File > Connect to server for PostgreSQL or MySQL.\n\n"
               "Then double-click a log in the tree on the left.")


def _log_tab_class() -> type[LogTabType]:
    """LogTab, imported now if the module-level import could not be done yet."""
    global LogTab
    if LogTab is None:
        from auditviewer.qt.widgets.log_tab import LogTab as cls
        LogTab = cls
    return LogTab


def _open_hint(exc: BaseException, server: bool) -> str:
    """What the user can do about a source that would not open."""
    text = str(exc)
    if isinstance(exc, SchemaError):
        return ("Open a database exported from the Auditing section: it holds tables such as "
                "panel_logs, api_logs, sms_logs or user_logins.")
    if server:
        return ("Check the host, port, database, user and password, and that the server accepts "
                "connections from this computer.")
    if "no such file" in text:
        return "The file may have been moved or deleted; choose it again with File > Open."
    if "damaged" in text:
        return "Ask for a fresh export of the logs: this copy is incomplete or corrupted."
    return ("Choose the database file exported from the Auditing section, or use File > Connect to "
            "server for logs kept on PostgreSQL or MySQL.")


class _Opening:
    """A server connection being made in the background."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.abandoned = False
        self.result: Source | None = None
        self.lock = threading.Lock()
        self.dialog: QProgressDialog | None = None


class MainWindow(QMainWindow):
    """Sources on the left, one tab per opened log, counts and query time below."""

    #: A source was added to the window (its key).
    sourceOpened = Signal(str)
    #: A source was closed (its key).
    sourceClosed = Signal(str)
    _demoProgress = Signal(int, int)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self._sources: dict[str, Source] = {}
        self._tab_keys: dict[QWidget, TabKey] = {}
        self._openings: list[_Opening] = []
        self._opener = TaskRunner("open", self)
        self._demo_runner: TaskRunner | None = None
        self._demo_cancel = threading.Event()
        self._demo_dialog: QProgressDialog | None = None
        self._shut_down = False
        self._size_dock_on_show = False
        self._utc = self.settings.utc()
        self.about_box: QMessageBox | None = None
        self.connect_dialog: ConnectDialog | None = None

        # centre: the tabs, or a hint while none is open
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

        # left: the navigation tree
        self.navigation = NavigationModel(self)
        self.tree = QTreeView(self)
        self.tree.setObjectName("navigationTree")
        self.tree.setModel(self.navigation)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setExpandsOnDoubleClick(True)
        self.dock = QDockWidget("Sources", self)
        self.dock.setObjectName("navigationDock")
        self.dock.setWidget(self.tree)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

        # bottom: counts, query time, time zone, Stop
        self.row_count_label = QLabel("", self)
        self.row_count_label.setObjectName("rowCountLabel")
        self.query_time_label = QLabel("", self)
        self.query_time_label.setObjectName("queryTimeLabel")
        self.zone_label = QLabel("", self)
        self.zone_label.setObjectName("zoneLabel")
        self.stop_button = QToolButton(self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setText("Stop")
        self.stop_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserStop))
        self.stop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.stop_button.setAutoRaise(True)
        self.stop_button.setToolTip("Stop the running query (Esc)")
        self.stop_button.setEnabled(False)
        bar = self.statusBar()
        for label in (self.row_count_label, self.query_time_label, self.zone_label):
            label.setContentsMargins(6, 0, 6, 0)
        for widget in (self.row_count_label, self.query_time_label, self.zone_label, self.stop_button):
            bar.addPermanentWidget(widget)

        self._build_menus()
        self._update_zone_label()
        self._update_central()

        self.tabs.tabCloseRequested.connect(self._on_tab_close_requested)
        self.tabs.currentChanged.connect(self._on_current_changed)
        self.tree.activated.connect(self._on_tree_activated)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        self._demoProgress.connect(self._on_demo_progress)
        self._restore_layout()

    # -- menus ----------------------------------------------------------------------------------

    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: QKeySequence | str | None = None,
                name: str = "") -> QAction:
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if name:
            action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(file, "&Open…", self._on_open_triggered,
                                        QKeySequence.StandardKey.Open, "openAction")
        self.connect_action = self._action(file, "Connect to &server…", self._on_connect_triggered,
                                           "Ctrl+Shift+O", "connectAction")
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self.demo_action = self._action(file, "Open &demo database", self._on_demo_triggered, None, "demoAction")
        file.addSeparator()
        self.save_view_action = self._action(file, "&Save view…", self._on_save_view_triggered,
                                             QKeySequence.StandardKey.Save, "saveViewAction")
        self.export_views_action = self._action(file, "&Export saved views…", self._on_export_views_triggered,
                                                None, "exportViewsAction")
        self.import_views_action = self._action(file, "&Import saved views…", self._on_import_views_triggered,
                                                None, "importViewsAction")
        file.addSeparator()
        self.reports = ReportActions(self, file)  # Print, Print preview, Export > PDF / Excel / CSV
        file.addSeparator()
        self.close_tab_action = self._action(file, "Close &tab", self._on_close_tab_triggered,
                                             "Ctrl+W", "closeTabAction")
        self.close_source_action = self._action(file, "&Close source", self._on_close_source_triggered,
                                                "Ctrl+Shift+W", "closeSourceAction")
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.close, "Ctrl+Q", "quitAction")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self._rebuild_recent_menu()

        view = bar.addMenu("&View")
        self.utc_action = self._action(view, "Dates in &UTC", self._on_utc_toggled, "Ctrl+Shift+U", "utcAction")
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(self._utc)
        self.utc_action.setToolTip("Show dates in UTC; unchecked, in this computer's local time")
        self.navigation_action = self.dock.toggleViewAction()
        self.navigation_action.setText("Show &navigation")
        self.navigation_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.navigation_action.setObjectName("showNavigationAction")
        view.addAction(self.navigation_action)

        go = bar.addMenu("&Go")
        self._action(go, "&Next tab", self._on_next_tab_triggered, QKeySequence.StandardKey.NextChild, "nextTabAction")
        self._action(go, "&Previous tab", self._on_previous_tab_triggered, QKeySequence.StandardKey.PreviousChild,
                     "previousTabAction")
        go.addSeparator()
        self._action(go, "Navigation &tree", self._on_focus_tree_triggered, "Ctrl+1", "focusTreeAction")
        self._action(go, "Current &log", self._on_focus_tab_triggered, "Ctrl+2", "focusTabAction")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About auditviewer", self._on_about_triggered, None, "aboutAction")

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_sources()
        for n, spec in enumerate(recent, start=1):
            if is_url(spec):
                label = spec
            else:
                path = Path(spec)
                label = f"{path.name}  ({path.parent})"
            prefix = f"&{n % 10} " if n <= 10 else ""
            action = self.recent_menu.addAction(prefix + label.replace("&", "&&"))
            action.setToolTip(spec)
            action.setData(spec)
            action.triggered.connect(self._on_recent_triggered)
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._on_clear_recent_triggered)
        else:
            self.recent_menu.addAction("No recent sources").setEnabled(False)

    # -- sources -----------------------------------------------------------------------------------

    def sources(self) -> list[Source]:
        return list(self._sources.values())

    def source(self, key: str) -> Source | None:
        return self._sources.get(key)

    def open_source(self, spec: str | os.PathLike[str]) -> Source | None:
        """Open a SQLite file (now) or a server URL (in the background; returns None).

        A source that fails to open is reported through the error box, naming it.
        """
        spec = os.fspath(spec)
        if is_url(spec) and not spec.lower().startswith("sqlite"):
            self._open_in_background(spec)
            return None
        already = self._sources.get(strip_password(spec))
        if already is not None:
            self._select_source(already.key)
            return already
        try:
            source = open_source(spec)
        except Exception as exc:
            self._report_open_failure(spec, exc)
            return None
        if source.key in self._sources:  # the same file by another name (a sqlite:// URL)
            source.close()
            self._select_source(source.key)
            return self._sources[source.key]
        return self._add_source(source, spec)

    def _report_open_failure(self, spec: str, exc: BaseException) -> None:
        server = is_url(spec) and not spec.lower().startswith("sqlite")
        name = _display(spec)
        secrets = secrets_of(spec)
        details = None
        if isinstance(exc, AuditViewerError):
            message = scrub(str(exc), *secrets)
        else:  # a bug or a driver surprise: say so, keep the traceback for the log
            message = f"{name} could not be opened: {scrub(str(exc) or type(exc).__name__, *secrets)}"
            details = scrub("".join(traceback.format_exception(exc)), *secrets)
        message += "\n\n" + _open_hint(exc, server)
        if not server and "no such file" in str(exc) and strip_password(spec) in self.settings.recent_sources():
            self.settings.remove_recent_source(spec)
            self._rebuild_recent_menu()
            message += " It has been removed from File > Open Recent."
        show_error(self, f"Cannot open {name}", message, details)

    def _open_in_background(self, spec: str) -> None:
        opening = _Opening(spec)
        display = _display(spec)
        dialog = QProgressDialog(f"Connecting to {display}…", "Cancel", 0, 0, self)
        dialog.setObjectName("connectProgress")
        dialog.setWindowTitle("Connecting")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda: self._abandon(opening))
        opening.dialog = dialog
        self._openings.append(opening)

        def work(_token: CancelToken) -> Source:
            source = open_source(spec)
            with opening.lock:
                if opening.abandoned:
                    source.close()
                    raise QueryCancelled("connecting was cancelled")
                opening.result = source
            return source

        self._opener.submit(f"open {display}", work,
                            done=lambda source: self._on_opened(opening, source),
                            failed=lambda exc: self._on_open_failed(opening, exc))

    def _abandon(self, opening: _Opening) -> None:
        with opening.lock:
            opening.abandoned = True
            source, opening.result = opening.result, None
        if source is not None:
            source.close()
        self._end_opening(opening)
        self.statusBar().showMessage(f"Stopped connecting to {_display(opening.spec)}", 5000)

    def _end_opening(self, opening: _Opening) -> None:
        if opening in self._openings:
            self._openings.remove(opening)
        if opening.dialog is not None:
            opening.dialog.canceled.disconnect()
            opening.dialog.close()
            opening.dialog.deleteLater()
            opening.dialog = None

    def _on_opened(self, opening: _Opening, source: Source) -> None:
        with opening.lock:
            abandoned, opening.result = opening.abandoned, None
        self._end_opening(opening)
        if abandoned:
            source.close()
            return
        if source.key in self._sources:
            source.close()
            self._select_source(source.key)
            return
        self._add_source(source, opening.spec)

    def _on_open_failed(self, opening: _Opening, exc: BaseException) -> None:
        abandoned = opening.abandoned
        self._end_opening(opening)
        if not abandoned:
            self._report_open_failure(opening.spec, exc)

    def opening(self) -> bool:
        """Whether a server connection is still being made."""
        return bool(self._openings)

    def _add_source(self, source: Source, spec: str) -> Source:
        self._sources[source.key] = source
        index = self.navigation.add_source(source, self.settings.saved_views(source.key))
        self.tree.expand(index)
        if self.navigation.rowCount(index):
            self.tree.expand(self.navigation.index(0, 0, index))
        self.tree.setCurrentIndex(index)
        self.settings.add_recent_source(spec)
        self._rebuild_recent_menu()
        if source.path is not None:
            self.settings.set_last_folder(str(source.path.parent))
        self._update_title()
        log.info("opened %s", source.key)
        self.statusBar().showMessage(f"Opened {source.display_name}", 5000)
        self.sourceOpened.emit(source.key)
        return source

    def _select_source(self, key: str) -> None:
        index = self.navigation.source_index(key)
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    def close_source(self, key: str) -> None:
        """Close a source and every tab showing it."""
        source = self._sources.pop(key, None)
        if source is None:
            return
        for tab, tab_key in list(self._tab_keys.items()):
            if tab_key[0] == key:
                self._close_tab_widget(tab)
        self.navigation.remove_source(key)
        source.close()
        self._update_title()
        log.info("closed %s", key)
        self.sourceClosed.emit(key)

    def _current_source_key(self) -> str | None:
        """The source the user is working with: the selected tree item's, else the current tab's."""
        node = self.navigation.node(self.tree.currentIndex())
        if node is not None and node.source_key in self._sources:
            return node.source_key
        tab = self.current_tab()
        if tab is not None:
            return tab.source.key
        return next(iter(self._sources), None)

    def connect_to_server(self, url: str | None = None) -> ConnectDialog:
        """Show the connect dialog (not blocking); accepting it opens the server source."""
        if url is None:
            url = next((s for s in self.settings.recent_sources()
                        if is_url(s) and not s.lower().startswith("sqlite")), None)
        dialog = ConnectDialog(self, url, runner=self._opener)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_connect_accepted)
        self.connect_dialog = dialog
        dialog.open()
        return dialog

    def _on_connect_accepted(self) -> None:
        dialog = self.connect_dialog
        self.connect_dialog = None
        if dialog is not None:
            self.open_source(dialog.url())

    def open_recent(self, spec: str) -> None:
        if is_url(spec) and not spec.lower().startswith("sqlite"):
            self.connect_to_server(spec)  # the password was not kept: ask for it
        else:
            self.open_source(spec)

    # -- the demo database ----------------------------------------------------------------------------

    def open_demo(self, path: str | os.PathLike[str] | None = None, rows: int = 200_000) -> None:
        """Open the demo database, creating it first (in the background, with Cancel) if missing."""
        from auditviewer.data.demo import DemoCancelled, create_demo

        target = Path(path) if path is not None else demo_path()
        if target.exists():
            self.open_source(target)
            return
        if self._demo_runner is not None:
            return  # already being made
        self._demo_cancel.clear()
        dialog = QProgressDialog("Creating the demo database…", "Cancel", 0, 0, self)
        dialog.setObjectName("demoProgress")
        dialog.setWindowTitle("Demo database")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self._on_demo_canceled)
        self._demo_dialog = dialog
        dialog.show()
        self._demo_runner = TaskRunner("demo", self)

        def work(_token: CancelToken) -> Path:
            return create_demo(target, rows=rows, progress=self._demoProgress.emit,
                               cancelled=self._demo_cancel.is_set)

        def failed(exc: BaseException) -> None:
            self._end_demo()
            if isinstance(exc, DemoCancelled):
                self.statusBar().showMessage("Creating the demo database was cancelled", 5000)
                return
            show_error(self, "Cannot create the demo database",
                       f"{exc}\n\nCheck that {target.parent} is writable and has free space.",
                       "".join(traceback.format_exception(exc)))

        def done(created: Path) -> None:
            self._end_demo()
            self.open_source(created)

        self._demo_runner.submit("create demo", work, done=done, failed=failed)

    def demo_running(self) -> bool:
        return self._demo_runner is not None

    def _on_demo_progress(self, done: int, total: int) -> None:
        if self._demo_dialog is not None and not self._demo_cancel.is_set():
            self._demo_dialog.setMaximum(total)
            self._demo_dialog.setValue(min(done, total))

    def _on_demo_canceled(self) -> None:
        self._demo_cancel.set()
        if self._demo_dialog is not None:
            self._demo_dialog.setLabelText("Cancelling…")

    def _end_demo(self) -> None:
        runner, self._demo_runner = self._demo_runner, None
        if runner is not None:
            runner.shutdown()  # the task has ended: this only joins the thread
            runner.deleteLater()
        if self._demo_dialog is not None:
            self._demo_dialog.canceled.disconnect()
            self._demo_dialog.close()
            self._demo_dialog.deleteLater()
            self._demo_dialog = None

    # -- tabs ------------------------------------------------------------------------------------------

    def tab_widgets(self) -> list[LogTabType]:
        return [self.tabs.widget(i) for i in range(self.tabs.count())]  # type: ignore[misc]

    def current_tab(self) -> LogTabType | None:
        return self.tabs.currentWidget()  # type: ignore[return-value]

    def tab_for(self, key: TabKey) -> LogTabType | None:
        for tab, tab_key in self._tab_keys.items():
            if tab_key == key:
                return tab  # type: ignore[return-value]
        return None

    def open_log(self, source_key: str, log_key: str, business_unit: int | None = None) -> LogTabType | None:
        """Focus the tab showing this log, or open one."""
        key = (source_key, log_key, business_unit)
        tab = self.tab_for(key)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)
            return tab
        source = self._sources.get(source_key)
        if source is None:
            return None
        return self._make_tab(key, source, log_key, business_unit)

    def open_overview(self, source_key: str) -> OverviewTab | None:
        """Focus the source's overview tab, or open one (it starts computing at once)."""
        key = (source_key, "overview", None)
        tab = self.tab_for(key)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)
            return tab  # type: ignore[return-value]
        source = self._sources.get(source_key)
        if source is None:
            return None
        overview = OverviewTab(source, self._utc, parent=self.tabs)
        self._tab_keys[overview] = key
        overview.statusChanged.connect(self._on_tab_status_changed)
        overview.rowsRequested.connect(lambda link, k=source_key: self.open_rows(k, link))
        label = f"Overview · {source.display_name}"
        index = self.tabs.addTab(overview, label)
        self.tabs.setTabToolTip(index, f"What to look at first in {source.display_name}")
        self.tabs.setCurrentIndex(index)
        self._update_central()
        return overview

    def open_rows(self, source_key: str, link: RowLink) -> LogTabType | None:
        """Open the log behind an overview finding, filtered to the rows it found."""
        tab = self.open_log(source_key, link.log)
        if tab is not None:
            tab.apply_view(link.view("Overview"))
        return tab

    def open_activity(self, source_key: str, role: str, value: str) -> LogTabType | None:
        """A tab with everything one e-mail address or IP did, across the source's logs."""
        key = (source_key, f"activity:{role}:{value}", None)
        tab = self.tab_for(key)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)
            return tab
        source = self._sources.get(source_key)
        if source is None:
            return None
        from auditviewer.data.activity import activity_table

        try:
            table = activity_table(source, role, value)
        except AuditViewerError as exc:
            show_error(self, "Cannot show the activity", f"{exc}")
            return None
        return self._make_tab(key, source, "activity", None, table=table, title=f"All activity of {value}")

    def _make_tab(self, key: TabKey, source: Source, log_key: str, business_unit: int | None,
                  **extra: Any) -> LogTabType | None:
        try:
            tab = _log_tab_class()(source, log_key, business_unit=business_unit, utc=self._utc,
                                   parent=self.tabs, **extra)
        except AuditViewerError as exc:
            show_error(self, f"Cannot open the log in {source.display_name}", str(exc))
            return None
        self._tab_keys[tab] = key
        tab.statusChanged.connect(self._on_tab_status_changed)
        tab.activityRequested.connect(self._on_activity_requested)
        title = tab.title()
        label = f"{title} · {source.display_name}" if len(self._sources) > 1 else title
        index = self.tabs.addTab(tab, label)
        self.tabs.setTabToolTip(index, f"{title}\n{source.display_name}")
        self.tabs.setCurrentIndex(index)
        self._update_central()
        return tab

    def close_tab(self, index: int | None = None) -> None:
        """Close a tab (the current one by default), stopping its queries first."""
        index = self.tabs.currentIndex() if index is None else index
        tab = self.tabs.widget(index)
        if tab is not None:
            self._close_tab_widget(tab)

    def _close_tab_widget(self, tab: QWidget) -> None:
        self._tab_keys.pop(tab, None)
        try:
            tab.shutdown()  # type: ignore[attr-defined]
        finally:
            self.tabs.removeTab(self.tabs.indexOf(tab))
            tab.deleteLater()
        self._update_central()

    def _update_central(self) -> None:
        self.centre.setCurrentWidget(self.tabs if self.tabs.count() else self.placeholder)
        self.close_tab_action.setEnabled(self.tabs.count() > 0)
        self.save_view_action.setEnabled(self.tabs.count() > 0)
        if not self.tabs.count():
            self._show_status("", "", False)
            self._update_title()

    # -- saved views --------------------------------------------------------------------------------------

    def save_current_view(self, name: str | None = None) -> SavedView | None:
        """Save the current tab's filters, sort and columns under a name (asked for if not given)."""
        tab = self.current_tab()
        if tab is None or tab.log_key in ("activity", "overview"):
            return None
        key = tab.source.key
        if name is None:
            text, ok = QInputDialog.getText(self, "Save view", "Name of the view:", text=tab.title())
            if not ok or not text.strip():
                return None
            name = text.strip()
            if self.settings.saved_view(key, name) is not None:
                answer = QMessageBox.question(self, "Save view", f"Replace the saved view {name!r}?")
                if answer != QMessageBox.StandardButton.Yes:
                    return None
        view = tab.view_state(name)
        self.settings.save_view(key, view)
        self._refresh_views(key)
        self.statusBar().showMessage(f"Saved the view {name!r}", 5000)
        return view

    def open_view(self, source_key: str, name: str) -> LogTabType | None:
        view = self.settings.saved_view(source_key, name)
        if view is None:
            return None
        tab = self.open_log(source_key, view.log, view.business_unit)
        if tab is not None:
            tab.apply_view(view)
        return tab

    def rename_view(self, source_key: str, old: str, new: str | None = None) -> bool:
        if new is None:
            text, ok = QInputDialog.getText(self, "Rename view", "New name:", text=old)
            if not ok:
                return False
            new = text
        try:
            self.settings.rename_view(source_key, old, new)
        except (ValueError, KeyError) as exc:
            show_error(self, "Cannot rename the view", str(exc).strip("'\""))
            return False
        self._refresh_views(source_key)
        return True

    def delete_view(self, source_key: str, name: str) -> None:
        self.settings.delete_view(source_key, name)
        self._refresh_views(source_key)
        self.statusBar().showMessage(f"Deleted the view {name!r}", 5000)

    def export_views(self, source_key: str | None = None, path: str | os.PathLike[str] | None = None) -> int:
        """Write a source's saved views to a JSON file (asked for if not given); returns how many."""
        source_key = source_key or self._current_source_key()
        if source_key is None:
            return 0
        if path is None:
            source = self._sources[source_key]
            suggested = str(Path(self.settings.last_folder() or Path.home()) / f"{_safe_name(source)} views.json")
            path, _ = QFileDialog.getSaveFileName(self, "Export saved views", suggested, VIEWS_FILTER)
            if not path:
                return 0
        try:
            n = self.settings.export_views(source_key, path)
        except OSError as exc:
            show_error(self, "Cannot export the saved views",
                       f"{path} cannot be written: {exc.strerror or exc}\n\nChoose another folder.")
            return 0
        self.statusBar().showMessage(f"Exported {n} saved view{'s' if n != 1 else ''} to {path}", 5000)
        return n

    def import_views(self, source_key: str | None = None,
                     path: str | os.PathLike[str] | None = None) -> list[SavedView]:
        """Add the saved views of a JSON file to a source (file asked for if not given)."""
        source_key = source_key or self._current_source_key()
        if source_key is None:
            show_error(self, "Cannot import saved views", "Open a source first: views are kept per source.")
            return []
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import saved views", self.settings.last_folder(),
                                                  VIEWS_FILTER)
            if not path:
                return []
        try:
            added = self.settings.import_views(source_key, path)
        except ValueError as exc:
            show_error(self, "Cannot import saved views",
                       f"{Path(path).name}: {exc}\n\nChoose a file made with File > Export saved views.")
            return []
        self._refresh_views(source_key)
        self.statusBar().showMessage(f"Imported {len(added)} saved view{'s' if len(added) != 1 else ''}", 5000)
        return added

    def _refresh_views(self, source_key: str) -> None:
        self.navigation.set_views(source_key, self.settings.saved_views(source_key))
        folder = self.navigation.views_folder_index(source_key)
        if folder.isValid():
            self.tree.expand(folder)

    # -- time zone ---------------------------------------------------------------------------------------

    def utc(self) -> bool:
        return self._utc

    def set_utc(self, utc: bool) -> None:
        """Show dates in UTC or local time, in every tab; remembered."""
        self._utc = utc
        self.settings.set_utc(utc)
        if self.utc_action.isChecked() != utc:
            self.utc_action.setChecked(utc)
        for tab in self.tab_widgets():
            tab.set_utc(utc)
        self._update_zone_label()

    def _update_zone_label(self) -> None:
        if self._utc:
            self.zone_label.setText("Times in UTC")
        else:
            zone = bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="replace") or "system zone"
            self.zone_label.setText(f"Times in local time ({zone})")

    # -- status and title ---------------------------------------------------------------------------------

    def _show_status(self, count: str, elapsed: str, busy: bool) -> None:
        self.row_count_label.setText(count)
        self.query_time_label.setText(elapsed)
        self.stop_button.setEnabled(busy)

    def _update_title(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            self.setWindowTitle(f"{tab.title()} — {tab.source.display_name} — {APP_NAME}")
        elif len(self._sources) == 1:
            self.setWindowTitle(f"{next(iter(self._sources.values())).display_name} — {APP_NAME}")
        else:
            self.setWindowTitle(APP_NAME)

    # -- slots ------------------------------------------------------------------------------------------------

    def _on_tab_status_changed(self, count: str, elapsed: str, busy: bool) -> None:
        if self.sender() is self.current_tab():
            self._show_status(count, elapsed, busy)

    def _on_current_changed(self, _index: int) -> None:
        tab = self.current_tab()
        if tab is not None:
            self._show_status(*tab.status())
        self._update_title()

    def _on_tab_close_requested(self, index: int) -> None:
        self.close_tab(index)

    def _on_activity_requested(self, role: str, value: str) -> None:
        tab = self.sender()
        source = getattr(tab, "source", None)
        if source is not None:
            self.open_activity(source.key, role, value)

    def _on_tree_activated(self, index: QModelIndex) -> None:
        node = self.navigation.node(index)
        if node is None:
            return
        if node.kind is NodeKind.LOG and node.log_key is not None:
            self.open_log(node.source_key, node.log_key, node.business_unit)
        elif node.kind is NodeKind.VIEW and node.view_name is not None:
            self.open_view(node.source_key, node.view_name)
        elif node.kind is NodeKind.OVERVIEW:
            self.open_overview(node.source_key)

    def tree_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a tree item (built, not shown)."""
        node = self.navigation.node(index)
        if node is None:
            return None
        menu = QMenu(self)
        if node.kind is NodeKind.SOURCE:
            menu.addAction("Overview", lambda: self.open_overview(node.source_key))
            menu.addAction("Export saved views…", lambda: self.export_views(node.source_key))
            menu.addAction("Import saved views…", lambda: self.import_views(node.source_key))
            menu.addSeparator()
            menu.addAction("Close", lambda: self.close_source(node.source_key))
        elif node.kind is NodeKind.LOG and node.log_key is not None and index.flags() & Qt.ItemFlag.ItemIsEnabled:
            menu.addAction("Open", lambda: self.open_log(node.source_key, node.log_key, node.business_unit))
        elif node.kind is NodeKind.VIEW and node.view_name is not None:
            name = node.view_name
            menu.addAction("Open", lambda: self.open_view(node.source_key, name))
            menu.addAction("Rename…", lambda: self.rename_view(node.source_key, name))
            menu.addAction("Delete", lambda: self._on_delete_view_requested(node))
        elif node.kind is NodeKind.VIEWS:
            menu.addAction("Export saved views…", lambda: self.export_views(node.source_key))
        elif node.kind is NodeKind.OVERVIEW:
            menu.addAction("Open", lambda: self.open_overview(node.source_key))
        return menu if menu.actions() else None

    def _on_tree_context_menu(self, pos: QPoint) -> None:
        menu = self.tree_menu(self.tree.indexAt(pos))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _on_delete_view_requested(self, node: Node) -> None:
        answer = QMessageBox.question(self, "Delete view", f"Delete the saved view {node.view_name!r}?")
        if answer == QMessageBox.StandardButton.Yes and node.view_name is not None:
            self.delete_view(node.source_key, node.view_name)

    def _on_open_triggered(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open log database", self.settings.last_folder(), FILE_FILTER)
        for path in paths:
            self.open_source(path)

    def _on_connect_triggered(self) -> None:
        self.connect_to_server()

    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_recent(str(action.data()))

    def _on_clear_recent_triggered(self) -> None:
        self.settings.clear_recent_sources()
        self._rebuild_recent_menu()

    def _on_demo_triggered(self) -> None:
        self.open_demo()

    def _on_save_view_triggered(self) -> None:
        self.save_current_view()

    def _on_export_views_triggered(self) -> None:
        if self._current_source_key() is None:
            show_error(self, "Cannot export saved views", "Open a source first: views are kept per source.")
            return
        self.export_views()

    def _on_import_views_triggered(self) -> None:
        self.import_views()

    def _on_close_tab_triggered(self) -> None:
        self.close_tab()

    def _on_close_source_triggered(self) -> None:
        key = self._current_source_key()
        if key is not None:
            self.close_source(key)

    def _on_utc_toggled(self, checked: bool) -> None:
        self.set_utc(checked)

    def _on_next_tab_triggered(self) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + 1) % self.tabs.count())

    def _on_previous_tab_triggered(self) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() - 1) % self.tabs.count())

    def _on_focus_tree_triggered(self) -> None:
        self.dock.show()
        self.tree.setFocus()

    def _on_focus_tab_triggered(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            tab.setFocus()

    def _on_stop_clicked(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            tab.cancel_running()

    def _on_about_triggered(self) -> None:
        from PySide6 import __version__ as pyside_version

        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_NAME}",
                          f"{APP_NAME} {__version__}\n\nAn offline, read-only viewer for exported audit-log "
                          f"databases: panel, API, SMS and login logs.\n\nQt for Python {pyside_version}",
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_box = box
        box.open()

    # -- events ---------------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Esc inside a tab is the tab's own shortcut; here it arrives from the tree or the status bar.
        if event.key() == Qt.Key.Key_Escape and self.current_tab() is not None:
            self.current_tab().cancel_running()  # type: ignore[union-attr]
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event.mimeData().urls() if event.mimeData().hasUrls() else []):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_files(event.mimeData().urls() if event.mimeData().hasUrls() else [])
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
        for tab in self.tab_widgets():
            try:
                tab.shutdown()
            except Exception:  # one broken tab must not keep the others' threads alive
                log.exception("shutting down a tab failed")
        self._tab_keys.clear()
        self.navigation.shutdown()
        self._demo_cancel.set()
        if self._demo_runner is not None:
            self._demo_runner.shutdown()
        for opening in list(self._openings):
            with opening.lock:
                opening.abandoned = True
        self._opener.shutdown()
        self.reports.shutdown()
        for opening in self._openings:
            if opening.result is not None:
                opening.result.close()
        self._openings.clear()
        for source in self._sources.values():
            source.close()
        self._sources.clear()


def _display(spec: str) -> str:
    """How a source is named in messages: the file name, or the URL without password."""
    if is_url(spec):
        return strip_password(spec)
    return Path(spec).name or spec


def _safe_name(source: Source) -> str:
    name = source.path.stem if source.path is not None else source.display_name
    return "".join(c if c.isalnum() or c in " -_." else "_" for c in name).strip() or "source"


def _local_files(urls: list[Any]) -> list[str]:
    return [url.toLocalFile() for url in urls if url.isLocalFile() and url.toLocalFile()]
