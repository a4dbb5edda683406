"""Top values of a column under the tab's filter, with their counts; click one to filter on it.

Ctrl+click (or Alt+click) excludes the value instead. The counts are one
grouped query (``LogQuery.facets``) on a background lane, asked again when
the filter changes while the panel is open.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.data.filters import Condition
from auditviewer.data.logtypes import Kind
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable
from auditviewer.qt.models.background import LatestResult
from auditviewer.qt.models.plaintext import plain_tooltip
from auditviewer.qt.models.tasks import TaskRunner

log = logging.getLogger(__name__)

LIMIT = 20
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1
SHARE_ROLE = Qt.ItemDataRole.UserRole + 2
EMPTY = "(empty)"
#: The column a log's facets open on, when the user has not chosen one.
PREFERRED = ("status", "method", "gateway_name", "login", "log", "email")
_EXCLUDE = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier


def facet_columns(table: LogTable) -> list[str]:
    """Columns worth counting values of: not the row id, not timestamps."""
    return [c.name for c in table.columns if c.name != table.log_type.id_column and c.kind is not Kind.DATETIME]


def condition_for(column: str, value: Any, exclude: bool = False) -> Condition:
    """column=value (or column= for an empty value), negated to exclude it."""
    if value is None or value == "":
        return Condition(column, "=", (), exclude)
    return Condition(column, "=", (str(value),), exclude)


class _ShareDelegate(QStyledItemDelegate):
    """The value with a bar behind it, as long as its count's share of the largest count."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        share = index.data(SHARE_ROLE)
        if isinstance(share, float) and share > 0:
            rect: QRect = option.rect.adjusted(2, 3, -2, -3)
            rect.setWidth(max(1, int(rect.width() * share)))
            painter.fillRect(rect, QColor(76, 120, 168, 60))
        super().paint(painter, option, index)


class _ValueList(QTreeWidget):
    """Reports a click on a value together with the keyboard modifiers it was made with."""

    valueActivated = Signal(object, bool)  # (item, exclude)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        super().mouseReleaseEvent(event)
        if item is not None and event.button() == Qt.MouseButton.LeftButton:
            self.valueActivated.emit(item, bool(event.modifiers() & _EXCLUDE))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self.valueActivated.emit(self.currentItem(), bool(event.modifiers() & _EXCLUDE))
            return
        super().keyPressEvent(event)


class FacetsPanel(QWidget):
    """The side panel of a log tab: pick a column, see its commonest values, filter by one."""

    conditionRequested = Signal(object)  # a Condition for the filter bar
    closed = Signal()

    def __init__(self, table: LogTable, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("facetsPanel")
        self._table = table
        self._query: LogQuery | None = None
        self._result = LatestResult(runner, self)
        self._stale = True

        title = QLabel("Top values of", self)
        self.column = self._column_box(table)
        close = QToolButton(self)
        close.setObjectName("facetsClose")
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Hide the top values")
        self.list = self._value_list()
        self.status = QLabel("", self)
        self.status.setObjectName("facetsStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        hint = QLabel("Click a value to show only its rows; Ctrl+click (or Alt+click) to leave them out.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #777;")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title)
        top.addWidget(self.column, 1)
        top.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addWidget(hint)

        self.column.currentIndexChanged.connect(self._on_column_changed)
        close.clicked.connect(self._on_close_clicked)
        self.list.valueActivated.connect(self._on_value_activated)
        self.list.customContextMenuRequested.connect(self._on_context_menu)
        self._result.ready.connect(self._on_result_ready)
        self._result.failed.connect(self._on_result_failed)
        self._result.busyChanged.connect(self._on_busy_changed)

    def _column_box(self, table: LogTable) -> QComboBox:
        """The columns worth counting values of, the likeliest one chosen."""
        box = QComboBox(self)
        box.setObjectName("facetColumn")
        for name in facet_columns(table):
            column = table.column(name)
            box.addItem(column.label if column else name, name)
        preferred = next((n for n in PREFERRED if box.findData(n) >= 0), None)
        if preferred is not None:
            box.setCurrentIndex(box.findData(preferred))
        return box

    def _value_list(self) -> _ValueList:
        """Value and rows, each value's share drawn behind it."""
        values = _ValueList(self)
        values.setObjectName("facetValues")
        values.setColumnCount(2)
        values.setHeaderLabels(["Value", "Rows"])
        values.setRootIsDecorated(False)
        values.setUniformRowHeights(True)
        values.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        values.setItemDelegateForColumn(0, _ShareDelegate(values))
        header = values.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        return values

    # -- public ------------------------------------------------------------------------------

    @property
    def current_column(self) -> str:
        return str(self.column.currentData())

    @property
    def busy(self) -> bool:
        return self._result.busy

    def set_query(self, query: LogQuery | None) -> None:
        self._query = query
        self._stale = True
        if self.isVisible():
            self.refresh()
        else:
            self._result.cancel(emit=False)

    def show_column(self, name: str) -> bool:
        """Open the panel on a column's values."""
        index = self.column.findData(name)
        if index < 0:
            return False
        self.show()
        if index != self.column.currentIndex():
            self.column.setCurrentIndex(index)  # refreshes
        elif self._stale:
            self.refresh()
        return True

    def refresh(self) -> None:
        query, column = self._query, self.current_column
        self._stale = False
        if query is None:
            self.list.clear()
            self.status.setText("The filter does not fit this log.")
            return
        self._result.run(f"facets {column}", lambda token: query.facets(column, LIMIT, token))

    def cancel(self) -> None:
        if self._result.busy:
            self._result.cancel()
            self._stale = True
            self.status.setText("Stopped")

    def values(self) -> list[tuple[Any, int]]:
        """The values listed, with their counts (what the user sees)."""
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [(item.data(0, VALUE_ROLE), int(item.text(1).replace(",", ""))) for item in items if item is not None]

    def activate(self, row: int, exclude: bool = False) -> None:
        """Filter on (or exclude) the value in ``row``, as a click does."""
        self._on_value_activated(self.list.topLevelItem(row), exclude)

    # -- slots ---------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_column_changed(self, _index: int) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def _on_close_clicked(self) -> None:
        self._result.cancel(emit=False)
        self.hide()
        self.closed.emit()

    def _on_result_ready(self, facets: list[tuple[Any, int]]) -> None:
        self.list.clear()
        largest = max((n for _, n in facets), default=0)
        for value, n in facets:
            text = EMPTY if value is None or value == "" else str(value)
            item = QTreeWidgetItem([text if len(text) <= 300 else text[:300] + "…", f"{n:,}"])
            item.setData(0, VALUE_ROLE, value)
            item.setToolTip(0, plain_tooltip(text[:2000]))
            item.setData(0, SHARE_ROLE, n / largest if largest else 0.0)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        shown = len(facets)
        label = self.column.currentText()
        if not shown:
            self.status.setText(f"No rows: {label} has no values here.")
        elif shown < LIMIT:
            self.status.setText(f"All {shown} values of {label} under the current filter.")
        else:
            self.status.setText(f"The {shown} commonest values of {label} under the current filter.")

    def _on_result_failed(self, message: str) -> None:
        self.list.clear()
        self.status.setText(f"Could not count the values: {message}")

    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self.status.setText("Counting…")

    def _on_value_activated(self, item: QTreeWidgetItem | None, exclude: bool) -> None:
        if item is None:
            return
        self.conditionRequested.emit(condition_for(self.current_column, item.data(0, VALUE_ROLE), exclude))

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Show only these rows", lambda: self._on_value_activated(item, False))
        menu.addAction("Leave these rows out", lambda: self._on_value_activated(item, True))
        menu.addSeparator()
        menu.addAction("Copy value", lambda: QGuiApplication.clipboard().setText(item.text(0)))
        menu.popup(self.list.viewport().mapToGlobal(pos))
