"""Saved views: save, open, rename, delete, export and import them, per source.

A view is a tab's filters, sort and columns under a name; the settings keep
them per source and the navigation tree lists them under the source.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow

from auditviewer.data.errors import OutputError
from auditviewer.data.source import Source
from auditviewer.data.views import SavedView, ViewFile
from auditviewer.qt.models.navigation import Node
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.models.tasks import Task, TaskRunner
from auditviewer.qt.widgets.msgbox import ask, show_error
from auditviewer.qt.widgets.tab_book import TabBook
from auditviewer.qt.widgets.tabs import RowsTab

log = logging.getLogger(__name__)

VIEWS_FILTER = "Saved views (*.json);;All files (*)"


def _safe_name(source: Source) -> str:
    name = source.path.stem if source.path is not None else source.display_name
    return "".join(c if c.isalnum() or c in " -_." else "_" for c in name).strip() or "source"


class SavedViewActions(QObject):
    """The window's saved-view commands, asking the user what they were not given."""

    #: The saved views of a source changed (its key): the tree shows them again.
    viewsChanged = Signal(str)

    def __init__(self, window: QMainWindow, sources: OpenSources, tabs: TabBook, settings: Settings) -> None:
        super().__init__(window)
        self.window = window  # parent of the dialogs; its status bar says what was done
        self.sources = sources
        self.tabs = tabs
        self.settings = settings
        self._import_runner: TaskRunner | None = None
        #: What the last finished import added (None while one runs, or after one failed).
        self.last_imported: list[SavedView] | None = None

    def save_current_view(self, name: str | None = None) -> SavedView | None:
        """Save the current tab's filters, sort and columns under a name (asked for if not given)."""
        window = self.window
        tab = self.tabs.current()
        if not isinstance(tab, RowsTab) or not tab.saves_views:
            return None
        key = tab.source.key
        if name is None:
            text, ok = QInputDialog.getText(window, "Save view", "Name of the view:", text=tab.title())
            if not ok or not text.strip():
                return None
            name = text.strip()
            if self.settings.saved_view(key, name) is not None and not ask(
                window, "Save view", f"Replace the saved view {name!r}?"
            ):
                return None
        view = tab.view_state(name)
        self.settings.save_view(key, view)
        self.refresh(key)
        window.statusBar().showMessage(f"Saved the view {name!r}", 5000)
        return view

    def open_view(self, source_key: str, name: str) -> RowsTab | None:
        view = self.settings.saved_view(source_key, name)
        if view is None:
            return None
        tab = self.tabs.open_log(source_key, view.log, view.business_unit)
        if tab is not None:
            tab.apply_view(view)
        return tab

    def rename_view(self, source_key: str, old: str, new: str | None = None) -> bool:
        if new is None:
            text, ok = QInputDialog.getText(self.window, "Rename view", "New name:", text=old)
            if not ok:
                return False
            new = text
        try:
            self.settings.rename_view(source_key, old, new)
        except (ValueError, KeyError) as exc:
            show_error(self.window, "Cannot rename the view", str(exc).strip("'\""))
            return False
        self.refresh(source_key)
        return True

    def delete_view(self, source_key: str, name: str) -> None:
        self.settings.delete_view(source_key, name)
        self.refresh(source_key)
        self.window.statusBar().showMessage(f"Deleted the view {name!r}", 5000)

    def confirm_delete(self, node: Node) -> None:
        """Delete a tree item's view once the user says yes."""
        if node.view_name is None:
            return
        if ask(self.window, "Delete view", f"Delete the saved view {node.view_name!r}?"):
            self.delete_view(node.source_key, node.view_name)

    def export_views(self, source_key: str | None = None, path: str | os.PathLike[str] | None = None) -> int:
        """Write a source's saved views to a JSON file (asked for if not given); returns how many."""
        window = self.window
        source_key = source_key or self._current_key()
        if source_key is None:
            return 0
        if path is None:
            source = self.sources.get(source_key)
            name = _safe_name(source) if source is not None else "source"
            suggested = str(Path(self.settings.last_folder() or Path.home()) / f"{name} views.json")
            path, _ = QFileDialog.getSaveFileName(window, "Export saved views", suggested, VIEWS_FILTER)
            if not path:
                return 0
        try:
            n = self.settings.export_views(source_key, path, protect=[s.path for s in self.sources.all()])
        except OutputError as exc:
            show_error(window, "Cannot export the saved views", f"{exc}")
            return 0
        except OSError as exc:
            show_error(
                window,
                "Cannot export the saved views",
                f"{path} cannot be written: {exc.strerror or exc}\n\nChoose another folder.",
            )
            return 0
        window.statusBar().showMessage(f"Exported {n} saved view{'s' if n != 1 else ''} to {path}", 5000)
        return n

    def export_from_menu(self) -> None:
        """File > Export saved views: says so when there is no source to export from."""
        if self.sources.current() is None:
            show_error(self.window, "Cannot export saved views", "Open a source first: views are kept per source.")
            return
        self.export_views()

    def import_views(self, source_key: str | None = None, path: str | os.PathLike[str] | None = None) -> Task | None:
        """Add the saved views of a JSON file to a source (file asked for if not given).

        The file is read and every view checked on a lane of its own (10,000 views take about
        a second); then they are added, or a message names the first wrong view and nothing
        is added. Returns the running task, None when nothing was started.
        """
        window = self.window
        source_key = source_key or self._current_key()
        if source_key is None:
            show_error(window, "Cannot import saved views", "Open a source first: views are kept per source.")
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                window, "Import saved views", self.settings.last_folder(), VIEWS_FILTER
            )
            if not path:
                return None
        name = Path(path).name
        self.last_imported = None
        if self._import_runner is None:
            self._import_runner = TaskRunner("views", window)
        window.statusBar().showMessage(f"Importing saved views from {name}…")
        return self._import_runner.submit(
            f"import views from {name}",
            lambda _token: ViewFile.read(path).views,
            done=lambda views: self._on_views_read(source_key, name, views),
            failed=lambda exc: self._on_views_failed(name, exc),
        )

    def _on_views_read(self, source_key: str, name: str, views: list[SavedView]) -> None:
        self._end_import()
        window = self.window
        try:
            added = self.settings.add_views(source_key, views)
        except ValueError as exc:
            self._on_views_failed(name, exc)
            return
        self.refresh(source_key)
        window.statusBar().showMessage(
            f"Imported {len(added)} saved view{'s' if len(added) != 1 else ''} from {name}", 5000
        )
        self.last_imported = added

    def _on_views_failed(self, name: str, exc: BaseException) -> None:
        self._end_import()
        self.window.statusBar().clearMessage()
        if not isinstance(exc, ValueError):
            log.error("importing saved views from %s failed", name, exc_info=exc)
        show_error(
            self.window,
            "Cannot import saved views",
            f"{name}: {exc}\n\nNothing was imported. Choose a file made with File > Export saved views.",
        )

    def _end_import(self) -> None:
        runner = self._import_runner
        if runner is not None and not runner.busy:
            self._import_runner = None
            runner.shutdown()  # its task has ended: this only joins the thread
            runner.deleteLater()

    def shutdown(self) -> None:
        """Stop an import still reading its file; nothing of it is saved."""
        runner, self._import_runner = self._import_runner, None
        if runner is not None:
            runner.shutdown()

    def _current_key(self) -> str | None:
        current = self.sources.current()
        return current.key if current is not None else None

    def refresh(self, source_key: str) -> None:
        """Tell that a source's saved views changed (the tree shows them, folder expanded)."""
        self.viewsChanged.emit(source_key)
