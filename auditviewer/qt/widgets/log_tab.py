"""One opened log: filter bar, lazily loaded table and the detail pane of the selected row."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QByteArray, QModelIndex, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QMenu, QSplitter, QToolButton, QVBoxLayout, QWidget

from auditviewer.data.errors import AuditViewerError
from auditviewer.data.filters import Condition, Filter, Sort
from auditviewer.data.logtypes import Role
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, Source
from auditviewer.data.timestamps import get_zone
from auditviewer.data.views import SavedView
from auditviewer.qt.models.background import LatestResult
from auditviewer.qt.models.log_model import LogTableModel
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.models.tasks import Task, TaskRunner
from auditviewer.qt.widgets.detail_pane import DetailPane
from auditviewer.qt.widgets.facets import FacetsPanel
from auditviewer.qt.widgets.filter_bar import FilterBar
from auditviewer.qt.widgets.log_view import ScrollingTable
from auditviewer.qt.widgets.tabs import ReportableTab, RowsTab
from auditviewer.qt.widgets.timeline import TimelinePanel

log = logging.getLogger(__name__)


def local_zone() -> tzinfo:
    return get_zone("local")


class LogTab(RowsTab):
    """A tab showing one log of one source, optionally narrowed to a business unit."""

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
        self._utc = utc
        self._error = ""
        self._all_rows: int | None = None
        self._all_rows_task: Task | None = None
        self._columns_fitted = False
        self._has_saved_columns = False
        self._details_waiting = False  # the current row's page is still loading: describe it when it comes
        self._pages = TaskRunner(f"{log_key}-pages", self)
        self._background = TaskRunner(f"{log_key}-background", self)
        # Charts and top values: a lane of their own, so they never wait behind a long count.
        self._charts = TaskRunner(f"{log_key}-charts", self)
        self._build_parts(business_unit, utc)
        self._lay_out()
        self._connect_parts()
        self._run_query()
        self._warm_up_user_agents()
        self._restore_columns()
        self._show_sort_indicator()

    def _build_parts(self, business_unit: int | None, utc: bool) -> None:
        self.model = LogTableModel(self._pages, self._background, self.zone, self)
        # The selected login's attempts around it: only the newest selection's arrive.
        self._login_context = LatestResult(self._pages, self)
        self.filter_bar = FilterBar(self.table, self)
        self.filter_bar.set_business_unit(business_unit)
        self.filter_bar.set_utc(utc)
        self.scrolling = ScrollingTable(self.model, self)
        self.view = self.scrolling.view
        self.detail = DetailPane(self)
        self.detail.show_message("Select a row to see its details")
        self.timeline = TimelinePanel(self.filter_bar, self._charts, self.settings, utc, self)
        self.facets = FacetsPanel(self.table, self._charts, self)
        self.facets.hide()
        self.facets_button = QToolButton(self)
        self.facets_button.setObjectName("facetsButton")
        self.facets_button.setText("Top values")
        self.facets_button.setCheckable(True)
        self.facets_button.setAutoRaise(True)
        self.facets_button.setToolTip("Show the commonest values of a column, and filter by one with a click")
        self.timeline.add_header_widget(self.facets_button)

    def _lay_out(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("tabSplitter")
        splitter.addWidget(self.scrolling)
        splitter.addWidget(self.facets)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([900, 260, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.timeline)
        layout.addWidget(splitter, 1)

    def _connect_parts(self) -> None:
        self.filter_bar.filterChanged.connect(self._on_filter_changed)
        self.model.countChanged.connect(self._on_count_changed)
        self.model.pageLoaded.connect(self._on_page_loaded)
        self.model.loadFailed.connect(self._on_load_failed)
        self.model.modelReset.connect(self._on_model_reset)
        for lane in (self._pages, self._background, self._charts):
            lane.busyChanged.connect(self._on_busy_changed)
        self.facets.conditionRequested.connect(self.add_condition)
        self.facets.closed.connect(self._on_facets_closed)
        self.facets_button.toggled.connect(self._on_facets_button_toggled)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.copyRequested.connect(self.scrolling.copy_selection)
        self.view.horizontalHeader().customContextMenuRequested.connect(self._on_header_menu)
        self.view.horizontalHeader().sectionMoved.connect(self._save_columns)
        self.detail.activityRequested.connect(self.activityRequested)
        self._login_context.ready.connect(self._on_login_context_ready)
        self._login_context.failed.connect(self._on_login_context_failed)
        cancel = QAction(self)
        cancel.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        cancel.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        cancel.triggered.connect(self.cancel_running)
        self.addAction(cancel)

    def _warm_up_user_agents(self) -> None:
        """Load the browser rules now, in the background, when the log has a user-agent column to describe."""
        if any(c.spec.role is Role.USER_AGENT for c in self.table.columns):
            from auditviewer.data.details import warm_up_user_agents

            self._background.submit("load user-agent rules", lambda _token: warm_up_user_agents())

    # -- public ----------------------------------------------------------------------------

    @property
    def zone(self) -> tzinfo:
        return UTC if self._utc else local_zone()

    def title(self) -> str:
        if self._title:
            return self._title
        label = self.table.log_type.label
        if self.business_unit is not None:
            return f"{label} — {self.source.business_unit_name(self.business_unit)}"
        return label

    def query(self) -> LogQuery | None:
        return self.model.query

    def reportable(self) -> ReportableTab:
        return self

    def visible_columns(self) -> list[str]:
        """Shown columns in the order the user sees them (for exports and views)."""
        header = self.view.horizontalHeader()
        names = []
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            if not header.isSectionHidden(logical):
                names.append(self.model.column_name(logical))
        return names

    def view_state(self, name: str) -> SavedView:
        query = self.model.query
        sort = query.sort.text() if query else "date:desc"
        return SavedView(
            name=name,
            log=self.log_key,
            sort=sort,
            columns=tuple(self.visible_columns()),
            business_unit=self.business_unit,
            **self.filter_bar.state(),
        )

    def apply_view(self, view: SavedView) -> None:
        try:
            self.filter_bar.apply_view(view)
            sort = view.sort_order
            if self.table.column(sort.column) is None:
                sort = Sort(self.table.log_type.time_column, True)
        except (AuditViewerError, ValueError) as exc:
            self._error = f"The view {view.name!r} does not fit this log: {exc}"
            self._emit_status()
            return
        if view.columns:
            self._show_columns(list(view.columns))
        self._run_query(sort)

    def set_utc(self, utc: bool) -> None:
        self._utc = utc
        self.filter_bar.set_utc(utc)
        self.timeline.set_utc(utc)
        self.model.set_zone(self.zone)
        self._on_current_row_changed(self.view.currentIndex(), QModelIndex())
        self._emit_status()

    def add_condition(self, condition: Condition) -> bool:
        return self.filter_bar.add_condition(condition)

    def timeline_image(self) -> QImage:
        """The events-over-time chart of the current filter (a null image while there is none), for reports."""
        return self.timeline.timeline_image()

    def show_facets(self, column: str | None = None) -> None:
        """Open the top-values panel, on ``column`` if given."""
        self.facets_button.setChecked(True)
        if column is not None:
            self.facets.show_column(column)

    def cancel_running(self) -> None:
        self.model.cancel()
        self._pages.cancel_all()
        self._background.cancel_all()
        self.timeline.cancel()
        self.facets.cancel()
        self._emit_status()

    def shutdown(self) -> None:
        self._save_columns()
        self.model.cancel()
        self._pages.shutdown()
        self._background.shutdown()
        self._charts.shutdown()

    def status(self) -> tuple[str, str, bool]:
        return self._count_text(), self._time_text(), self._busy()

    # -- queries ----------------------------------------------------------------------------

    def _run_query(self, sort: Sort | None = None) -> None:
        current = self.model.query
        sort = sort or (current.sort if current else None)
        try:
            query = LogQuery(self.table, self.filter_bar.filter(), sort, None, self.zone)
        except AuditViewerError as exc:
            self._error = str(exc)
            self._emit_status()
            return
        self._error = ""
        self.model.set_query(query)
        self.timeline.set_query(query)
        self.facets.set_query(query)
        self._show_sort_indicator()
        self._emit_status()

    def _show_sort_indicator(self) -> None:
        query = self.model.query
        if query is None:
            return
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(
            query.columns.index(query.sort.column),
            Qt.SortOrder.DescendingOrder if query.sort.descending else Qt.SortOrder.AscendingOrder,
        )
        header.blockSignals(False)

    def _on_filter_changed(self) -> None:
        self._run_query()

    def _on_facets_button_toggled(self, checked: bool) -> None:
        self.facets.setVisible(checked)

    def _on_facets_closed(self) -> None:
        self.facets_button.setChecked(False)

    # -- status ------------------------------------------------------------------------------

    def _busy(self) -> bool:
        return self._pages.busy > 0 or self._background.busy > 0 or self._charts.busy > 0

    def _count_text(self) -> str:
        if self._error:
            return self._error
        total, bound = self.model.total, self.model.lower_bound
        if total is not None:
            text = f"{total:,}"
        elif bound:
            text = f"{bound:,}+"
        else:
            return "counting…"
        if not self._filtered():
            return f"{text} rows" if total is not None else f"{text} rows, counting…"
        whole = f"{self._all_rows:,}" if self._all_rows is not None else "…"
        return f"{text} of {whole} rows" + ("" if total is not None else ", counting…")

    def _filtered(self) -> bool:
        return self.filter_bar.filter() != Filter(business_unit=self.business_unit)

    def _on_count_changed(self) -> None:
        if self.model.total is not None and not self._filtered():
            self._all_rows = self.model.total
        elif self._filtered() and self._all_rows is None and self._all_rows_task is None:
            base = LogQuery(self.table, Filter(business_unit=self.business_unit))
            self._all_rows_task = self._background.submit("count all rows", base.count, done=self._on_all_rows_counted)
        self._emit_status()

    def _on_all_rows_counted(self, n: int) -> None:
        self._all_rows = n
        self._emit_status()

    def _time_text(self) -> str:
        seconds = self.model.last_query_seconds
        if seconds is None:
            return ""
        return f"query {seconds * 1000:,.0f} ms"

    def _emit_status(self) -> None:
        self.statusChanged.emit(self._count_text(), self._time_text(), self._busy())

    def _on_busy_changed(self, _n: int) -> None:
        self._emit_status()

    def _on_page_loaded(self, _seconds: float) -> None:
        if not self._columns_fitted and self.model.rowCount():
            self._columns_fitted = True
            if not self._has_saved_columns:
                self.view.fit_columns()
        current = self.view.currentIndex()
        if self._details_waiting and current.isValid() and self.model.row_values(current.row()) is not None:
            self._on_current_row_changed(current, current)  # e.g. Ctrl+End selected a row not loaded yet
        self._emit_status()

    def _on_load_failed(self, message: str) -> None:
        self._error = message
        self._emit_status()

    def _on_model_reset(self) -> None:
        self._details_waiting = False
        self.detail.show_message("Select a row to see its details")

    # -- detail pane --------------------------------------------------------------------------

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        from auditviewer.data.details import describe_row, login_context

        self._login_context.cancel(emit=False)  # the previous row's context is no longer wanted
        row = self.model.row_dict(current.row()) if current.isValid() else None
        self._details_waiting = row is None and current.isValid()
        if row is None:
            self.detail.show_message("Loading…" if self._details_waiting else "Select a row to see its details")
            return
        zone = self.zone
        self.detail.show_sections(describe_row(self.table, row, zone))
        if self.log_key == "logins" and row.get("email"):
            table = self.table
            self._login_context.run("login context", lambda token: (login_context(table, row, token), zone))

    def _on_login_context_ready(self, result: tuple[Any, tzinfo]) -> None:
        from auditviewer.data.details import sections_for_login_context

        context, zone = result
        # Right after "Login details", before the list of every field.
        self.detail.add_section(sections_for_login_context(context, zone), position=1)

    def _on_login_context_failed(self, message: str) -> None:
        log.warning("login context: %s", message)

    # -- menus ----------------------------------------------------------------------------------

    def _on_context_menu(self, pos: Any) -> None:
        index = self.view.indexAt(pos)
        row = self.model.row_dict(index.row()) if index.isValid() else None
        if row is None:
            return
        name = self.model.column_name(index.column())
        column = self.table.column(name)
        value = row.get(name)
        text = self.model.display_text(value)
        menu = QMenu(self)
        if column is not None:
            if value is None or text == "":
                menu.addAction("Filter: empty", lambda: self.add_condition(Condition(name, "=", ())))
                menu.addAction("Exclude empty", lambda: self.add_condition(Condition(name, "=", (), True)))
            else:
                raw = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
                menu.addAction("Filter on this value", lambda: self.add_condition(Condition(name, "=", (raw,))))
                menu.addAction("Exclude this value", lambda: self.add_condition(Condition(name, "=", (raw,), True)))
            menu.addSeparator()
        menu.addAction("Copy", self.scrolling.copy_selection)
        if column is not None and column.spec.role in (Role.EMAIL, Role.IP) and text:
            role = "email" if column.spec.role is Role.EMAIL else "ip"
            menu.addSeparator()
            menu.addAction(f"Show all activity of {text[:60]}", lambda: self.activityRequested.emit(role, text))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _on_header_menu(self, pos: Any) -> None:
        header = self.view.horizontalHeader()
        menu = QMenu(self)
        for logical in range(header.count()):
            label = str(self.model.headerData(logical, Qt.Orientation.Horizontal))
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(logical))
            action.toggled.connect(lambda shown, i=logical: self._set_column_shown(i, shown))
        menu.addSeparator()
        clicked = header.logicalIndexAt(pos)
        name = self.model.column_name(clicked) if 0 <= clicked < self.model.columnCount() else None
        if name is not None and self.facets.column.findData(name) >= 0:
            label = str(self.model.headerData(clicked, Qt.Orientation.Horizontal))
            menu.addAction(f"Top values of {label}", lambda: self.show_facets(name))
        menu.addAction("Reset columns", self._reset_columns)
        menu.popup(header.mapToGlobal(pos))

    # -- column layout (remembered per log type) ---------------------------------------------

    def _set_column_shown(self, logical: int, shown: bool) -> None:
        header = self.view.horizontalHeader()
        if not shown and header.count() - header.hiddenSectionCount() <= 1:
            return  # keep at least one column
        header.setSectionHidden(logical, not shown)
        self._save_columns()

    def _show_columns(self, names: list[str]) -> None:
        header = self.view.horizontalHeader()
        found = [(name, column) for name in names if (column := self.table.column(name)) is not None]
        order = [name for name, _column in found]
        for logical in range(header.count()):
            header.setSectionHidden(logical, self.model.column_name(logical) not in order)
        for visual, (_name, column) in enumerate(found):
            logical = self.model.query.columns.index(column.name) if self.model.query else -1
            if logical >= 0:
                header.moveSection(header.visualIndex(logical), visual)

    def _reset_columns(self) -> None:
        self._show_columns([c.name for c in self.table.columns if c.spec.visible])
        self.view.fit_columns()
        self._save_columns()

    def _restore_columns(self) -> None:
        state = self.settings.column_state(self._layout_key())
        if state is not None and self.view.horizontalHeader().restoreState(QByteArray(state)):
            self._has_saved_columns = True
            return
        for logical in range(self.model.columnCount()):
            column = self.table.column(self.model.column_name(logical))
            self.view.horizontalHeader().setSectionHidden(logical, column is None or not column.spec.visible)

    def _save_columns(self, *_args: object) -> None:
        if self.model.columnCount():
            self.settings.set_column_state(self._layout_key(), bytes(self.view.horizontalHeader().saveState().data()))

    def _layout_key(self) -> str:
        """Per log type, and per column set: a header state only fits the columns it was saved with."""
        names = ",".join(self.table.column_names)
        return f"{self.table.log_type.key}-{hashlib.sha1(names.encode()).hexdigest()[:8]}"
