"""The navigation tree: open sources, their business units, logs with row counts, overview, saved views.

Row counts come from the background ``counts`` lane, never the GUI thread:
first the whole of every log, then the business-unit split of each (one
grouped query per log, rather than one full count per unit).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel

from auditviewer.data.cancel import CancelToken
from auditviewer.data.filters import Filter
from auditviewer.data.logtypes import log_type
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source
from auditviewer.data.views import SavedView
from auditviewer.qt.models.plaintext import plain_tooltip
from auditviewer.qt.models.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
ALL_UNITS = "All business units"
SAVED_VIEWS = "Saved views"
_BU_COLUMN = "business_unit_id"


class NodeKind(enum.Enum):
    SOURCE = "source"
    BUSINESS_UNIT = "business_unit"
    LOG = "log"
    VIEWS = "views"  # the "Saved views" folder
    VIEW = "view"
    OVERVIEW = "overview"  # what to look at first in the source


@dataclass(frozen=True)
class Node:
    """What a tree item stands for, so activating it can act on it."""

    kind: NodeKind
    source_key: str
    business_unit: int | None = None
    log_key: str | None = None
    view_name: str | None = None


LogId = tuple[str, str, int | None]  # (source key, log key, business unit)


def log_label(log_key: str) -> str:
    try:
        return log_type(log_key).label
    except KeyError:
        return log_key


class NavigationModel(QStandardItemModel):
    """One top-level item per open source. Call :meth:`shutdown` before the model goes."""

    #: A log's row count arrived: (source key, log key, business unit or None).
    countReady = Signal(str, str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(["Sources"])
        self._runner = TaskRunner("counts", self)
        self._logs: dict[LogId, QStandardItem] = {}
        self._counts: dict[LogId, int] = {}
        self._failed: dict[LogId, str] = {}
        self._tasks: dict[str, list[Task]] = {}

    # -- queries -------------------------------------------------------------------------------

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Node | None:
        value = index.data(NODE_ROLE) if index.isValid() else None
        return value if isinstance(value, Node) else None

    def source_index(self, source_key: str) -> QModelIndex:
        item = self._source_item(source_key)
        return item.index() if item is not None else QModelIndex()

    def log_index(self, source_key: str, log_key: str, business_unit: int | None = None) -> QModelIndex:
        item = self._logs.get((source_key, log_key, business_unit))
        return item.index() if item is not None else QModelIndex()

    def view_index(self, source_key: str, name: str) -> QModelIndex:
        folder = self._views_item(source_key)
        if folder is None:
            return QModelIndex()
        for row in range(folder.rowCount()):
            child = folder.child(row)
            if child.data(NODE_ROLE).view_name == name:
                return child.index()
        return QModelIndex()

    def overview_index(self, source_key: str) -> QModelIndex:
        root = self._source_item(source_key)
        if root is None:
            return QModelIndex()
        for row in range(root.rowCount()):
            if root.child(row).data(NODE_ROLE).kind is NodeKind.OVERVIEW:
                return root.child(row).index()
        return QModelIndex()

    def views_folder_index(self, source_key: str) -> QModelIndex:
        folder = self._views_item(source_key)
        return folder.index() if folder is not None else QModelIndex()

    def row_count(self, source_key: str, log_key: str, business_unit: int | None = None) -> int | None:
        """The counted rows of a log (under a business unit), or None while counting."""
        return self._counts.get((source_key, log_key, business_unit))

    def counting(self, source_key: str | None = None) -> bool:
        """Whether counts are still to come (for one source, or any)."""
        ids = [i for i in self._logs if source_key is None or i[0] == source_key]
        return any(i not in self._counts and i not in self._failed for i in ids)

    # -- building --------------------------------------------------------------------------------

    def add_source(self, source: Source, views: Iterable[SavedView] = ()) -> QModelIndex:
        """Add a source's branch and start counting its logs."""
        if self._source_item(source.key) is not None:
            return self.source_index(source.key)
        tooltip = source.key + (f"\n{source.notice}" if source.notice else "")
        root = self._item(source.display_name, Node(NodeKind.SOURCE, source.key), tooltip=tooltip)
        font = QFont(root.font())
        font.setBold(True)
        root.setFont(font)
        if source.business_units:
            parents: list[tuple[QStandardItem, int | None]] = []
            every = self._item(ALL_UNITS, Node(NodeKind.BUSINESS_UNIT, source.key))
            root.appendRow(every)
            parents.append((every, None))
            for unit in source.business_units:
                name = unit.name or f"Business unit {unit.id}"
                item = self._item(
                    name, Node(NodeKind.BUSINESS_UNIT, source.key, unit.id), tooltip=f"Business unit {unit.id}: {name}"
                )
                root.appendRow(item)
                parents.append((item, unit.id))
        else:
            parents = [(root, None)]
        for parent, unit_id in parents:
            for key, table in source.logs.items():
                if unit_id is not None and not table.has(_BU_COLUMN):
                    continue
                node = Node(NodeKind.LOG, source.key, unit_id, key)
                item = self._item(f"{table.log_type.label} (counting…)", node, tooltip=table.log_type.description)
                parent.appendRow(item)
                self._logs[(source.key, key, unit_id)] = item
        for key, problem in source.problems.items():
            item = self._item(
                f"{log_label(key)} (cannot be shown)", Node(NodeKind.LOG, source.key, None, key), tooltip=problem
            )
            item.setEnabled(False)
            parents[0][0].appendRow(item)
        root.appendRow(
            self._item(
                "Overview",
                Node(NodeKind.OVERVIEW, source.key),
                tooltip="What to look at first: login bursts, new countries, error spikes, failing gateways",
            )
        )
        self.appendRow(root)
        self.set_views(source.key, views)
        self._start_counts(source)
        return root.index()

    def remove_source(self, source_key: str) -> None:
        for task in self._tasks.pop(source_key, []):
            task.cancel()
        for ids in (self._logs, self._counts, self._failed):
            for log_id in [i for i in ids if i[0] == source_key]:
                del ids[log_id]
        item = self._source_item(source_key)
        if item is not None:
            self.removeRow(item.row())

    def set_views(self, source_key: str, views: Iterable[SavedView]) -> None:
        """Show the source's saved views (the folder disappears when there are none)."""
        root = self._source_item(source_key)
        if root is None:
            return
        views = sorted(views, key=lambda v: v.name.casefold())
        folder = self._views_item(source_key)
        if not views:
            if folder is not None:
                root.removeRow(folder.row())
            return
        if folder is None:
            folder = self._item(SAVED_VIEWS, Node(NodeKind.VIEWS, source_key))
            root.appendRow(folder)
        else:
            folder.removeRows(0, folder.rowCount())
        for view in views:
            label = log_label(view.log)
            node = Node(NodeKind.VIEW, source_key, view.business_unit, view.log, view.name)
            folder.appendRow(self._item(f"{view.name} — {label}", node, tooltip=f"Saved view of {label}"))

    # -- counting ---------------------------------------------------------------------------------

    def _start_counts(self, source: Source) -> None:
        tasks = self._tasks.setdefault(source.key, [])
        for key, table in source.logs.items():
            log_id: LogId = (source.key, key, None)
            tasks.append(
                self._runner.submit(
                    f"count {key}",
                    LogQuery(table).count,
                    done=partial(self._on_log_counted, log_id),
                    failed=partial(self._on_count_failed, [log_id]),
                )
            )
        units = [u.id for u in source.business_units]
        if not units:
            return
        for key, table in source.logs.items():
            if not table.has(_BU_COLUMN):
                continue
            ids: list[LogId] = [(source.key, key, u) for u in units]
            tasks.append(
                self._runner.submit(
                    f"count {key} by business unit",
                    partial(_unit_counts, LogQuery(table), units),
                    done=partial(self._on_units_counted, source.key, key),
                    failed=partial(self._on_count_failed, ids),
                )
            )

    def _on_log_counted(self, log_id: LogId, n: int) -> None:
        self._on_counted({log_id: n})

    def _on_units_counted(self, source_key: str, log_key: str, counts: dict[int, int]) -> None:
        self._on_counted({(source_key, log_key, unit): n for unit, n in counts.items()})

    def _on_counted(self, counts: dict[LogId, int]) -> None:
        for log_id, n in counts.items():
            item = self._logs.get(log_id)
            if item is None:  # the source was closed meanwhile
                continue
            self._counts[log_id] = n
            item.setText(f"{log_label(log_id[1])} ({n:,})")
            self.countReady.emit(log_id[0], log_id[1], log_id[2])

    def _on_count_failed(self, ids: list[LogId], error: BaseException) -> None:
        for log_id in ids:
            item = self._logs.get(log_id)
            if item is None:
                continue
            self._failed[log_id] = str(error)
            item.setText(f"{log_label(log_id[1])} (count failed)")
            item.setToolTip(plain_tooltip(f"The rows could not be counted: {error}"))
        log.warning("counting rows failed: %s", error)

    def shutdown(self) -> None:
        """Stop counting and end the worker thread."""
        self._runner.shutdown()
        self._tasks.clear()

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _item(text: str, node: Node, tooltip: str = "") -> QStandardItem:
        item = QStandardItem(text)
        item.setEditable(False)
        item.setData(node, NODE_ROLE)
        if tooltip:
            item.setToolTip(plain_tooltip(tooltip))  # names and paths come from the data
        return item

    def _source_item(self, source_key: str) -> QStandardItem | None:
        for row in range(self.rowCount()):
            item = self.item(row)
            if item.data(NODE_ROLE).source_key == source_key:
                return item
        return None

    def _views_item(self, source_key: str) -> QStandardItem | None:
        root = self._source_item(source_key)
        if root is None:
            return None
        for row in range(root.rowCount()):
            child = root.child(row)
            if child.data(NODE_ROLE).kind is NodeKind.VIEWS:
                return child
        return None


def _unit_counts(query: LogQuery, units: list[int], token: CancelToken) -> dict[int, int]:
    """Rows per business unit: one grouped query, then single counts only for units it left out."""
    limit = len(units) + 50  # room for ids the business_units table does not name
    facets = query.facets(_BU_COLUMN, limit=limit, token=token)
    found: dict[int, int] = {}
    for value, n in facets:
        try:
            found[int(value)] = n
        except (TypeError, ValueError):  # NULL or an id that is not a number: no unit's rows
            continue
    counts = {u: found.get(u, 0) for u in units}
    if len(facets) >= limit:  # cut short: a unit missing from it may still have rows
        for unit in units:
            if unit not in found:
                counts[unit] = LogQuery(query.table, Filter(business_unit=unit)).count(token)
    return counts
