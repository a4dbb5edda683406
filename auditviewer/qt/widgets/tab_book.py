"""The window's tabs, by what they show: one tab per log, overview or activity.

Opening something that already has a tab brings that tab forward (one place
does it: :meth:`TabBook._focus_or_add`); closing a tab stops its queries first;
closing a source closes its tabs. The current tab's status-bar text comes out
of ``statusChanged``; the others' is kept until they become current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from auditviewer.data.errors import AuditViewerError
from auditviewer.data.insights import RowLink
from auditviewer.data.source import LogTable, Source
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.plaintext import button_text, plain_tooltip
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.qt.widgets.overview import OverviewTab
from auditviewer.qt.widgets.tabs import ACTIVITY, LogTabFactory, RowsTab, Tab, TabKey

log = logging.getLogger(__name__)

#: A tab's label is cut here (its tooltip has all of it): an e-mail or a file name may be any length.
TAB_TITLE_CHARS = 80
_T = TypeVar("_T", bound=Tab)


class TabBook(QObject):
    """Keeps the tabs of a QTabWidget by key, makes new ones, and closes them."""

    #: The current tab's (count text, query time text, busy); empty texts when no tab is open.
    statusChanged = Signal(str, str, bool)
    #: Another tab became the current one (or the last one closed).
    currentChanged = Signal()
    #: A tab was added or closed (how many are open now).
    countChanged = Signal(int)

    def __init__(
        self,
        tabs: QTabWidget,
        sources: OpenSources,
        settings: Settings,
        log_tabs: LogTabFactory,
        utc: bool,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.widget = tabs
        self._parent = parent
        self._sources = sources
        self._settings = settings
        self._log_tabs = log_tabs
        self._utc = utc
        self._keys: dict[Tab, TabKey] = {}
        tabs.currentChanged.connect(self._on_current_changed)
        tabs.tabCloseRequested.connect(self._on_tab_close_requested)
        sources.closing.connect(self.close_source)

    # -- what is open ------------------------------------------------------------------------------

    def count(self) -> int:
        return self.widget.count()

    def all(self) -> list[Tab]:
        return [tab for tab in (self.widget.widget(i) for i in range(self.widget.count())) if isinstance(tab, Tab)]

    def current(self) -> Tab | None:
        tab = self.widget.currentWidget()
        return tab if isinstance(tab, Tab) else None

    def find(self, key: TabKey) -> Tab | None:
        return next((tab for tab, tab_key in self._keys.items() if tab_key == key), None)

    # -- opening -------------------------------------------------------------------------------------

    def open_log(self, source_key: str, log_key: str, business_unit: int | None = None) -> RowsTab | None:
        """Focus the tab showing this log, or open one."""
        return self._focus_or_add(
            (source_key, log_key, business_unit), RowsTab, lambda source: self._log_tab(source, log_key, business_unit)
        )

    def open_overview(self, source_key: str) -> OverviewTab | None:
        """Focus the source's overview tab, or open one (it starts computing at once)."""
        return self._focus_or_add((source_key, "overview", None), OverviewTab, self._overview_tab)

    def open_activity(self, source_key: str, role: str, value: str) -> RowsTab | None:
        """A tab with everything one e-mail address or IP did, across the source's logs."""
        return self._focus_or_add(
            (source_key, f"{ACTIVITY}:{role}:{value}", None), RowsTab, lambda s: self._activity_tab(s, role, value)
        )

    def open_rows(self, source_key: str, link: RowLink) -> RowsTab | None:
        """Open the log behind an overview finding, filtered to the rows it found."""
        tab = self.open_log(source_key, link.log)
        if tab is not None:
            tab.apply_view(link.view("Overview"))
        return tab

    def _focus_or_add(self, key: TabKey, kind: type[_T], make: Callable[[Source], _T | None]) -> _T | None:
        """The one way a tab opens: the tab with this key comes forward, else a new one is made and added."""
        tab = self.find(key)
        if isinstance(tab, kind):
            self.widget.setCurrentWidget(tab)
            return tab
        source = self._sources.get(key[0])
        if source is None:
            return None
        made = make(source)
        if made is not None:
            self._add(key, made)
        return made

    def _log_tab(
        self, source: Source, log_key: str, business_unit: int | None, table: LogTable | None = None, title: str = ""
    ) -> RowsTab | None:
        try:
            tab = self._log_tabs(
                source,
                log_key,
                business_unit=business_unit,
                utc=self._utc,
                parent=self.widget,
                table=table,
                title=title or None,
                settings=self._settings,
            )
        except AuditViewerError as exc:
            show_error(self._parent, f"Cannot open the log in {source.display_name}", str(exc))
            return None
        tab.activityRequested.connect(lambda role, value, key=source.key: self.open_activity(key, role, value))
        return tab

    def _activity_tab(self, source: Source, role: str, value: str) -> RowsTab | None:
        from auditviewer.data.activity import activity_table

        try:
            table = activity_table(source, role, value)
        except AuditViewerError as exc:
            show_error(self._parent, "Cannot show the activity", f"{exc}")
            return None
        return self._log_tab(source, ACTIVITY, None, table, f"All activity of {value}")

    def _overview_tab(self, source: Source) -> OverviewTab:
        tab = OverviewTab(source, self._utc, parent=self.widget, settings=self._settings)
        tab.rowsRequested.connect(lambda link, key=source.key: self.open_rows(key, link))
        return tab

    def _add(self, key: TabKey, tab: Tab) -> None:
        self._keys[tab] = key
        tab.statusChanged.connect(self._on_tab_status_changed)
        index = self.widget.addTab(tab, button_text(tab.tab_text(len(self._sources) > 1), TAB_TITLE_CHARS))
        self.widget.setTabToolTip(index, plain_tooltip(tab.tab_tooltip()))
        self.widget.setCurrentIndex(index)
        self.countChanged.emit(self.widget.count())

    # -- closing -------------------------------------------------------------------------------------

    def close(self, tab: Tab) -> None:
        """Close a tab, stopping its queries first."""
        self._keys.pop(tab, None)
        try:
            tab.shutdown()
        finally:
            self.widget.removeTab(self.widget.indexOf(tab))
            tab.deleteLater()
        self.countChanged.emit(self.widget.count())

    def close_at(self, index: int | None = None) -> None:
        """Close the tab at ``index`` (the current one by default)."""
        tab = self.widget.widget(self.widget.currentIndex() if index is None else index)
        if isinstance(tab, Tab):
            self.close(tab)

    def close_source(self, source_key: str) -> None:
        """Close every tab showing this source."""
        for tab, key in list(self._keys.items()):
            if key[0] == source_key:
                self.close(tab)

    def shutdown(self) -> None:
        """Stop every tab's queries and lanes (the window is closing); the tabs stay until it is gone."""
        for tab in self.all():
            try:
                tab.shutdown()
            except Exception:  # one broken tab must not keep the others' threads alive
                log.exception("shutting down a tab failed")
        self._keys.clear()

    # -- following the user ------------------------------------------------------------------------

    def set_utc(self, utc: bool) -> None:
        self._utc = utc
        for tab in self.all():
            tab.set_utc(utc)

    def cancel_current(self) -> bool:
        """Stop the current tab's queries; False when there is no tab."""
        tab = self.current()
        if tab is None:
            return False
        tab.cancel_running()
        return True

    def _on_tab_status_changed(self, count: str, elapsed: str, busy: bool) -> None:
        if self.sender() is self.current():
            self.statusChanged.emit(count, elapsed, busy)

    def _on_current_changed(self, _index: int) -> None:
        tab = self.current()
        if tab is not None:
            self.statusChanged.emit(*tab.status())
        self.currentChanged.emit()

    def _on_tab_close_requested(self, index: int) -> None:
        self.close_at(index)
