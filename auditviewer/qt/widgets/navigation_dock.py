"""The tree on the left of the window: each open source, its business units, its logs with
their row counts, its overview and its saved views.

Activating an item (double-click, Enter) opens it in a tab; its context menu has
what else can be done with it. The tree follows the open sources (one is added,
selected or closed) and the saved views (one is saved, renamed, deleted or
imported).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QDockWidget, QMenu, QTreeView, QWidget

from auditviewer.qt.models.navigation import NavigationModel, NodeKind
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets.saved_views import SavedViewActions
from auditviewer.qt.widgets.tab_book import TabBook

log = logging.getLogger(__name__)


class NavigationDock(QDockWidget):
    """The navigation tree in a dock the user may move, float or close (View > Show navigation)."""

    def __init__(
        self,
        sources: OpenSources,
        tabs: TabBook,
        views: SavedViewActions,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Sources", parent)
        self.setObjectName("navigationDock")
        self._sources = sources
        self._tabs = tabs
        self._views = views
        self._settings = settings
        self.navigation = NavigationModel(self)
        self.tree = QTreeView(self)
        self.tree.setObjectName("navigationTree")
        self.tree.setModel(self.navigation)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setExpandsOnDoubleClick(True)
        self.setWidget(self.tree)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        sources.opened.connect(self._on_source_opened)
        sources.selectRequested.connect(self._on_source_select_requested)
        sources.closing.connect(self.navigation.remove_source)
        views.viewsChanged.connect(self._on_views_changed)
        self.tree.activated.connect(self._on_tree_activated)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu)

    def current_source_key(self) -> str | None:
        """The open source of the selected item, if one is selected."""
        node = self.navigation.node(self.tree.currentIndex())
        return node.source_key if node is not None and node.source_key in self._sources else None

    def tree_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a tree item (built, not shown)."""
        node = self.navigation.node(index)
        if node is None:
            return None
        key, menu, views = node.source_key, QMenu(self), self._views
        if node.kind is NodeKind.SOURCE:
            menu.addAction("Overview", lambda: self._tabs.open_overview(key))
            menu.addAction("Export saved views…", lambda: views.export_views(key))
            menu.addAction("Import saved views…", lambda: views.import_views(key))
            menu.addSeparator()
            menu.addAction("Close", lambda: self._sources.close(key))
        elif node.kind is NodeKind.LOG and node.log_key is not None and index.flags() & Qt.ItemFlag.ItemIsEnabled:
            log_key, unit = node.log_key, node.business_unit
            menu.addAction("Open", lambda: self._tabs.open_log(key, log_key, unit))
        elif node.kind is NodeKind.VIEW and node.view_name is not None:
            name = node.view_name
            menu.addAction("Open", lambda: views.open_view(key, name))
            menu.addAction("Rename…", lambda: views.rename_view(key, name))
            menu.addAction("Delete", lambda: views.confirm_delete(node))
        elif node.kind is NodeKind.VIEWS:
            menu.addAction("Export saved views…", lambda: views.export_views(key))
        elif node.kind is NodeKind.OVERVIEW:
            menu.addAction("Open", lambda: self._tabs.open_overview(key))
        return menu if menu.actions() else None

    def focus_tree(self) -> None:
        self.show()
        self.tree.setFocus()

    def shutdown(self) -> None:
        """Stop counting rows."""
        self.navigation.shutdown()

    # -- slots ---------------------------------------------------------------------------------------

    def _on_source_opened(self, key: str) -> None:
        source = self._sources.get(key)
        if source is None:
            return
        index = self.navigation.add_source(source, self._settings.saved_views(key))
        self.tree.expand(index)
        if self.navigation.rowCount(index):
            self.tree.expand(self.navigation.index(0, 0, index))
        self.tree.setCurrentIndex(index)

    def _on_source_select_requested(self, key: str) -> None:
        index = self.navigation.source_index(key)
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    def _on_views_changed(self, source_key: str) -> None:
        """Show a source's saved views, folder expanded."""
        self.navigation.set_views(source_key, self._settings.saved_views(source_key))
        folder = self.navigation.views_folder_index(source_key)
        if folder.isValid():
            self.tree.expand(folder)

    def _on_tree_activated(self, index: QModelIndex) -> None:
        node = self.navigation.node(index)
        if node is None:
            return
        if node.kind is NodeKind.LOG and node.log_key is not None:
            self._tabs.open_log(node.source_key, node.log_key, node.business_unit)
        elif node.kind is NodeKind.VIEW and node.view_name is not None:
            self._views.open_view(node.source_key, node.view_name)
        elif node.kind is NodeKind.OVERVIEW:
            self._tabs.open_overview(node.source_key)

    def _on_tree_context_menu(self, pos: QPoint) -> None:
        menu = self.tree_menu(self.tree.indexAt(pos))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.tree.viewport().mapToGlobal(pos))
