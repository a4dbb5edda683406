"""The main window: open sources, the navigation tree, log tabs, the status bar.

The window owns every source it opens and every worker lane it starts; closing
it shuts down each tab's lanes, the counting lane and its own, and closes each
source, so no thread outlives it. Opening sources (servers and the demo database
in the background) is :mod:`source_opener`'s work, saved views :mod:`saved_views`'s.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, QTimeZone, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolButton,
    QTreeView,
    QWidget,
)

from auditviewer import APP_NAME, __version__
from auditviewer.data.errors import AuditViewerError
from auditviewer.data.insights import RowLink
from auditviewer.data.source import Source
from auditviewer.data.views import SavedView
from auditviewer.qt.models.navigation import NavigationModel, NodeKind
from auditviewer.qt.models.plaintext import button_text, plain_tooltip, window_title
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets.connect_dialog import ConnectDialog
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.qt.widgets.overview import OverviewTab
from auditviewer.qt.widgets.report_dialog import ReportActions
from auditviewer.qt.widgets.saved_views import SavedViewActions
from auditviewer.qt.widgets.source_opener import SourceOpener, local_files

try:
    from auditviewer.qt.widgets.log_tab import LogTab
except ImportError:  # pragma: no cover - only while a module log_tab needs is still being written
    LogTab = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from auditviewer.qt.models.tasks import Task
    from auditviewer.qt.widgets.log_tab import LogTab as LogTabType

log = logging.getLogger(__name__)

TabKey = tuple[str, str, int | None]  # (source key, log key, business unit)
PLACEHOLDER = (
    "Open an exported log database with File > Open (Ctrl+O), drop a database file here,\n"
    "or use File > Connect to server for PostgreSQL or MySQL.\n\n"
    "Then double-click a log in the tree on the left."
)
#: A tab's title is cut here (its tooltip has all of it): an e-mail or a file name may be any length.
TAB_TITLE_CHARS = 80


def _log_tab_class() -> type[LogTabType]:
    """LogTab, imported now if the module-level import could not be done yet."""
    global LogTab
    if LogTab is None:
        from auditviewer.qt.widgets.log_tab import LogTab as cls

        LogTab = cls
    return LogTab


class MainWindow(QMainWindow):
    """Sources on the left, one tab per opened log, counts and query time below."""

    #: A source was added to the window (its key).
    sourceOpened = Signal(str)
    #: A source was closed (its key).
    sourceClosed = Signal(str)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self._sources: dict[str, Source] = {}
        self._tab_keys: dict[QWidget, TabKey] = {}
        self.opener = SourceOpener(self)
        self.saved_views = SavedViewActions(self)
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
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
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
            label.setTextFormat(Qt.TextFormat.PlainText)  # counts and messages may quote the data
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
        self._restore_layout()

    # -- menus ----------------------------------------------------------------------------------

    def _action(
        self, menu: QMenu, text: str, slot: Any, shortcut: QKeySequence | str | None = None, name: str = ""
    ) -> QAction:
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
        self.open_action = self._action(
            file, "&Open…", self._on_open_triggered, QKeySequence.StandardKey.Open, "openAction"
        )
        self.connect_action = self._action(
            file, "Connect to &server…", self._on_connect_triggered, "Ctrl+Shift+O", "connectAction"
        )
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self.demo_action = self._action(file, "Open &demo database", self._on_demo_triggered, None, "demoAction")
        file.addSeparator()
        self.save_view_action = self._action(
            file, "&Save view…", self._on_save_view_triggered, QKeySequence.StandardKey.Save, "saveViewAction"
        )
        self.export_views_action = self._action(
            file, "&Export saved views…", self._on_export_views_triggered, None, "exportViewsAction"
        )
        self.import_views_action = self._action(
            file, "&Import saved views…", self._on_import_views_triggered, None, "importViewsAction"
        )
        file.addSeparator()
        self.reports = ReportActions(self, file)  # Print, Print preview, Export > PDF / Excel / CSV
        file.addSeparator()
        self.close_tab_action = self._action(
            file, "Close &tab", self._on_close_tab_triggered, "Ctrl+W", "closeTabAction"
        )
        self.close_source_action = self._action(
            file, "&Close source", self._on_close_source_triggered, "Ctrl+Shift+W", "closeSourceAction"
        )
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.close, "Ctrl+Q", "quitAction")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.opener.rebuild_recent_menu()

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
        self._action(
            go,
            "&Previous tab",
            self._on_previous_tab_triggered,
            QKeySequence.StandardKey.PreviousChild,
            "previousTabAction",
        )
        go.addSeparator()
        self._action(go, "Navigation &tree", self._on_focus_tree_triggered, "Ctrl+1", "focusTreeAction")
        self._action(go, "Current &log", self._on_focus_tab_triggered, "Ctrl+2", "focusTabAction")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About auditviewer", self._on_about_triggered, None, "aboutAction")

    # -- sources -----------------------------------------------------------------------------------

    def sources(self) -> list[Source]:
        return list(self._sources.values())

    def source(self, key: str) -> Source | None:
        return self._sources.get(key)

    def open_source(self, spec: str | os.PathLike[str]) -> Source | None:
        """Open a SQLite file (now) or a server URL (in the background; returns None).

        A source that fails to open is reported through the error box, naming it.
        """
        return self.opener.open_source(spec)

    def opening(self) -> bool:
        """Whether a server connection is still being made."""
        return self.opener.opening()

    def _add_source(self, source: Source, spec: str) -> Source:
        self._sources[source.key] = source
        index = self.navigation.add_source(source, self.settings.saved_views(source.key))
        self.tree.expand(index)
        if self.navigation.rowCount(index):
            self.tree.expand(self.navigation.index(0, 0, index))
        self.tree.setCurrentIndex(index)
        self.settings.add_recent_source(spec)
        self.opener.rebuild_recent_menu()
        if source.path is not None:
            self.settings.set_last_folder(str(source.path.parent))
        self._update_title()
        log.info("opened %s", source.key)
        if source.notice:  # e.g. read from a private snapshot: say so until another message replaces it
            log.info("%s", source.notice)
            self.statusBar().showMessage(source.notice)  # it names the file: "x.db is read from a private copy…"
        else:
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
        return self.opener.connect_to_server(url)

    def open_recent(self, spec: str) -> None:
        self.opener.open_recent(spec)

    def open_demo(self, path: str | os.PathLike[str] | None = None, rows: int = 200_000) -> None:
        """Open the demo database, creating it first (in the background, with Cancel) if missing."""
        self.opener.open_demo(path, rows)

    def demo_running(self) -> bool:
        return self.opener.demo_running()

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
        index = self.tabs.addTab(overview, button_text(label, TAB_TITLE_CHARS))
        self.tabs.setTabToolTip(index, plain_tooltip(f"What to look at first in {source.display_name}"))
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

    def _make_tab(
        self, key: TabKey, source: Source, log_key: str, business_unit: int | None, **extra: Any
    ) -> LogTabType | None:
        try:
            tab = _log_tab_class()(
                source, log_key, business_unit=business_unit, utc=self._utc, parent=self.tabs, **extra
            )
        except AuditViewerError as exc:
            show_error(self, f"Cannot open the log in {source.display_name}", str(exc))
            return None
        self._tab_keys[tab] = key
        tab.statusChanged.connect(self._on_tab_status_changed)
        tab.activityRequested.connect(self._on_activity_requested)
        title = tab.title()
        label = f"{title} · {source.display_name}" if len(self._sources) > 1 else title
        index = self.tabs.addTab(tab, button_text(label, TAB_TITLE_CHARS))
        self.tabs.setTabToolTip(index, plain_tooltip(f"{title}\n{source.display_name}"))
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

    # -- saved views (kept by SavedViewActions) ----------------------------------------------------------

    def save_current_view(self, name: str | None = None) -> SavedView | None:
        """Save the current tab's filters, sort and columns under a name (asked for if not given)."""
        return self.saved_views.save_current_view(name)

    def open_view(self, source_key: str, name: str) -> LogTabType | None:
        return self.saved_views.open_view(source_key, name)

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
            self.setWindowTitle(window_title(f"{tab.title()} — {tab.source.display_name} — {APP_NAME}"))
        elif len(self._sources) == 1:
            self.setWindowTitle(window_title(f"{next(iter(self._sources.values())).display_name} — {APP_NAME}"))
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
            menu.addAction("Delete", lambda: self.saved_views.confirm_delete(node))
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

    def _on_open_triggered(self) -> None:
        self.opener.choose_files()

    def _on_connect_triggered(self) -> None:
        self.connect_to_server()

    def _on_demo_triggered(self) -> None:
        self.open_demo()

    def _on_save_view_triggered(self) -> None:
        self.save_current_view()

    def _on_export_views_triggered(self) -> None:
        self.saved_views.export_from_menu()

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
        for tab in self.tab_widgets():
            try:
                tab.shutdown()
            except Exception:  # one broken tab must not keep the others' threads alive
                log.exception("shutting down a tab failed")
        self._tab_keys.clear()
        self.navigation.shutdown()
        self.opener.shutdown()
        self.saved_views.shutdown()
        self.reports.shutdown()
        for source in self._sources.values():
            source.close()
        self._sources.clear()
