"""The table model of a log tab: pages of SQL results, fetched as they come into view.

The model holds no more than ``MAX_PAGES`` pages of rows; everything else is
asked of the database when the view paints it. A page is fetched by keyset
from a neighbouring page, a remembered anchor row or a sampled key, so even a
jump into the middle of ten million rows reads only a few thousand.

Item views address rows by 32-bit pixel offsets: past ``WINDOW_LIMIT`` rows
the model exposes a window of ``WINDOW_SIZE`` rows that the tab slides over
the whole result (``window_offset``); below it ``rowCount()`` is the result.
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError
from auditviewer.data.filters import Sort, parse_condition
from auditviewer.data.logtypes import Kind, Severity
from auditviewer.data.outcomes import severity_of
from auditviewer.data.query import Key, LogQuery, Page
from auditviewer.data.timestamps import format_time
from auditviewer.qt.models.plaintext import plain_tooltip
from auditviewer.qt.models.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

#: The invisible root, the parent of every row of a table model.
_ROOT = QModelIndex()

PAGE_SIZE = 100
MAX_PAGES = 200
MAX_ANCHORS = 50_000
SAMPLE_STEP = 5_000
WINDOW_LIMIT = 20_000_000
WINDOW_SIZE = 1_000_000
PLACEHOLDER = "…"
MAX_CELL_CHARS = 500
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the whole row as a dict
SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 2

_SEVERITY_COLORS = {
    Severity.WARNING: (QColor("#8a5a00"), QColor("#fff4d6")),
    Severity.ERROR: (QColor("#a11d1d"), QColor("#fde4e4")),
}
_SERVED_ROLES = {
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.UserRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.TextAlignmentRole,
    ROW_ROLE,
    SEVERITY_ROLE,
}


class LogTableModel(QAbstractTableModel):
    """Rows of one LogQuery. Pages come from the ``pages`` lane, counts from ``background``."""

    #: The total is known (or changed): the tab updates "x of y rows".
    countChanged = Signal()
    #: A page query finished, with its duration in seconds.
    pageLoaded = Signal(float)
    #: A query failed: the message is for the user.
    loadFailed = Signal(str)
    #: The window over a very large result moved.
    windowMoved = Signal(int)

    def __init__(
        self,
        pages: TaskRunner,
        background: TaskRunner,
        zone: tzinfo = UTC,
        parent: Any = None,
        window_limit: int = WINDOW_LIMIT,
        window_size: int = WINDOW_SIZE,
    ) -> None:
        super().__init__(parent)
        self._pages_lane = pages
        self._background = background
        self._zone = zone
        self._window_limit = window_limit
        self._window_size = window_size
        self._query: LogQuery | None = None
        self._generation = 0
        self._pages: OrderedDict[int, Page] = OrderedDict()
        self._anchor_positions: list[int] = []
        self._anchors: dict[int, Key] = {}
        self._wanted: OrderedDict[int, None] = OrderedDict()
        self._in_flight: dict[int, Task] = {}
        self._failed: set[int] = set()
        self._tasks: list[Task] = []
        self._rows = 0
        self._total: int | None = None
        self._lower_bound = 0
        self._window_offset = 0
        self._severity_columns: set[str] = set()
        # Per query, so that painting a cell looks nothing up.
        self._id_column: int | None = None
        self._int_columns: frozenset[int] = frozenset()
        # Per loaded page: each row's severity, worked out once when the page arrives.
        self._severities: dict[int, list[Severity]] = {}
        self.last_query_seconds: float | None = None
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch_wanted)

    # -- the query ------------------------------------------------------------------

    @property
    def query(self) -> LogQuery | None:
        return self._query

    @property
    def total(self) -> int | None:
        """The exact number of rows in the result, once counted."""
        return self._total

    @property
    def lower_bound(self) -> int:
        """At least this many rows (while counting)."""
        return self._total if self._total is not None else self._lower_bound

    @property
    def windowed(self) -> bool:
        return self._total is not None and self._total > self._window_limit

    @property
    def window_offset(self) -> int:
        return self._window_offset

    @property
    def busy(self) -> bool:
        return bool(self._in_flight) or any(not t.cancelled and t.future and not t.future.done() for t in self._tasks)

    def set_query(self, query: LogQuery) -> None:
        """Show ``query``'s rows; anything still running for the old one is cancelled."""
        self.cancel()
        self._generation += 1
        self.beginResetModel()
        self._query = query
        self._pages.clear()
        self._anchors.clear()
        self._anchor_positions.clear()
        self._wanted.clear()
        self._failed.clear()
        self._rows = 0
        self._total = None
        self._lower_bound = 0
        self._window_offset = 0
        self._severity_columns = {
            parse_condition(text).column for outcome in query.table.log_type.outcomes for text in outcome.where
        }
        id_name = query.table.log_type.id_column
        self._id_column = query.columns.index(id_name) if id_name in query.columns else None
        columns = [query.table.column(name) for name in query.columns]
        self._int_columns = frozenset(i for i, c in enumerate(columns) if c is not None and c.kind is Kind.INT)
        self._severities.clear()
        self.endResetModel()
        self.countChanged.emit()
        self._want(0)
        self._start_counting()

    def set_zone(self, zone: tzinfo) -> None:
        self._zone = zone
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self._rows - 1, self.columnCount() - 1), [Qt.ItemDataRole.DisplayRole]
            )

    def cancel(self) -> None:
        """Cancel every query running for this model (the Stop button)."""
        for task in list(self._in_flight.values()) + self._tasks:
            task.cancel()
        self._in_flight.clear()
        self._tasks.clear()

    def refresh(self) -> None:
        if self._query is not None:
            self.set_query(self._query)

    # -- Qt model API -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        if parent.isValid() or self._query is None:
            return 0
        return len(self._query.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._query is None or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self._query.columns):
            return None
        column = self._query.table.column(self._query.columns[section])
        if role == Qt.ItemDataRole.DisplayRole:
            return column.label if column else self._query.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole and column is not None:
            return plain_tooltip(column.spec.help or column.label)
        if role == Qt.ItemDataRole.UserRole:
            return self._query.columns[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if self.row_values(index.row()) is not None:
            flags |= Qt.ItemFlag.ItemIsEnabled
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _SERVED_ROLES or not index.isValid() or self._query is None:
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < self._rows and 0 <= column < len(self._query.columns)):
            return None
        values = self.row_values(row)
        if values is None:
            self._want((self._window_offset + row) // PAGE_SIZE)
            if role == Qt.ItemDataRole.DisplayRole:
                return PLACEHOLDER
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("#999999"))
            return None
        value = values[column]
        if role == Qt.ItemDataRole.DisplayRole:
            text = self.display_text(value)
            return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + PLACEHOLDER
        if role == Qt.ItemDataRole.UserRole:
            return values[self._id_column] if column == 0 and self._id_column is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self.display_text(value)
            return plain_tooltip(text[:2000]) if len(text) > 40 else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in self._int_columns:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == ROW_ROLE:
            return dict(zip(self._query.columns, values, strict=True))
        page_no, offset = divmod(self._window_offset + row, PAGE_SIZE)
        severity = self._severities[page_no][offset]
        if role == SEVERITY_ROLE:
            return severity
        colors = _SEVERITY_COLORS.get(severity)
        if colors is None:
            return None
        return QBrush(colors[0] if role == Qt.ItemDataRole.ForegroundRole else colors[1])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is done in SQL: a new query, same filter."""
        if self._query is None or not 0 <= column < len(self._query.columns):
            return
        q = self._query
        sort = Sort(q.columns[column], order == Qt.SortOrder.DescendingOrder)
        if sort == q.sort:
            return
        self.set_query(LogQuery(q.table, q.filter, sort, q.columns, q.zone))

    # -- rows ------------------------------------------------------------------------------

    def display_text(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_time(value, self._zone)
        return str(value)

    def row_values(self, view_row: int) -> tuple[Any, ...] | None:
        """The values of a row if it is loaded, else None (and nothing is fetched)."""
        page_no, offset = divmod(self._window_offset + view_row, PAGE_SIZE)
        page = self._pages.get(page_no)
        if page is None or offset >= len(page.rows):
            return None
        self._pages.move_to_end(page_no)
        return page.rows[offset]

    def row_dict(self, view_row: int) -> dict[str, Any] | None:
        values = self.row_values(view_row)
        if values is None or self._query is None:
            return None
        return dict(zip(self._query.columns, values, strict=True))

    def column_name(self, column: int) -> str:
        assert self._query is not None
        return self._query.columns[column]

    def _severity(self, values: tuple[Any, ...]) -> Severity:
        assert self._query is not None
        row = {name: v for name, v in zip(self._query.columns, values, strict=True) if name in self._severity_columns}
        return severity_of(self._query.table.log_type, row)

    # -- windowing ---------------------------------------------------------------------------

    def result_row(self, view_row: int) -> int:
        return self._window_offset + view_row

    def set_window_offset(self, offset: int) -> None:
        """Slide the exposed window so that it starts at result row ``offset``."""
        if not self.windowed or self._total is None:
            return
        offset = max(0, min(offset, self._total - self._window_size))
        if offset == self._window_offset:
            return
        self.beginResetModel()
        self._window_offset = offset
        self.endResetModel()
        self.windowMoved.emit(offset)

    # -- fetching ------------------------------------------------------------------------------

    def _want(self, page_no: int) -> None:
        if page_no in self._pages or page_no in self._in_flight or page_no in self._failed:
            return
        self._wanted[page_no] = None
        self._wanted.move_to_end(page_no)
        while len(self._wanted) > 32:  # scrolled past: forget the oldest wishes
            self._wanted.popitem(last=False)
        if not self._fetch_timer.isActive():
            self._fetch_timer.start()

    def _fetch_wanted(self) -> None:
        if self._query is None:
            return
        while self._wanted and len(self._in_flight) < 2:
            page_no, _ = self._wanted.popitem(last=True)  # the newest wish is what is on screen
            if page_no in self._pages or page_no in self._in_flight:
                continue
            self._fetch(page_no)

    def _fetch(self, page_no: int) -> None:
        query, generation = self._query, self._generation
        assert query is not None
        start = page_no * PAGE_SIZE
        before, after = self._pages.get(page_no - 1), self._pages.get(page_no + 1)
        total = self._total
        if page_no == 0:

            def work(token: CancelToken) -> Page:
                return query.first(PAGE_SIZE, token)
        elif before is not None and len(before.rows) == PAGE_SIZE:
            key = before.keys[-1]

            def work(token: CancelToken) -> Page:
                return query.after(key, PAGE_SIZE, token)
        elif after is not None and after.rows:
            key = after.keys[0]

            def work(token: CancelToken) -> Page:
                return query.before(key, PAGE_SIZE, token)
        else:
            anchor = self._nearest_anchor(start)

            def work(token: CancelToken) -> Page:
                return query.at(start, PAGE_SIZE, token, anchor=anchor, total=total)

        task = self._pages_lane.submit(
            f"page {page_no}",
            work,
            done=lambda page: self._on_page(generation, page_no, page, task),
            failed=lambda exc: self._on_failed(generation, page_no, exc),
        )
        self._in_flight[page_no] = task

    def _on_page(self, generation: int, page_no: int, page: Page, task: Task) -> None:
        self._in_flight.pop(page_no, None)
        if generation != self._generation:
            return
        self.last_query_seconds = task.elapsed
        self._pages[page_no] = page
        self._severities[page_no] = [self._severity(values) for values in page.rows]
        while len(self._pages) > MAX_PAGES:
            evicted, _ = self._pages.popitem(last=False)
            del self._severities[evicted]
        start = page_no * PAGE_SIZE
        if page.keys:
            self._add_anchor(start, page.keys[0])
            self._add_anchor(start + len(page.keys) - 1, page.keys[-1])
        if self._total is None:
            if (page.rows and len(page.rows) < PAGE_SIZE) or (
                not page.rows and (page_no == 0 or page_no - 1 in self._pages)
            ):
                self._set_total(start + len(page.rows))  # the end of the result: counted for free
            else:
                # Until the count arrives, a full page at the bottom promises one more.
                self._lower_bound = max(self._lower_bound, start + len(page.rows))
                self._grow_to(start + len(page.rows) + PAGE_SIZE)
                self.countChanged.emit()
        self._emit_page_changed(page_no, len(page.rows))
        self.pageLoaded.emit(task.elapsed)
        self._fetch_wanted()

    def _emit_page_changed(self, page_no: int, length: int) -> None:
        first = page_no * PAGE_SIZE - self._window_offset
        last = first + max(length, 1) - 1
        first, last = max(first, 0), min(last, self._rows - 1)
        if first <= last and self.columnCount():
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    def _on_failed(self, generation: int, page_no: int, exc: BaseException) -> None:
        self._in_flight.pop(page_no, None)
        if generation != self._generation:
            return
        # Its rows stay disabled placeholders; asked again only after a refresh or a new query,
        # so a server that went away is not asked on every repaint.
        self._failed.add(page_no)
        message = str(exc) if isinstance(exc, AuditViewerError) else f"{type(exc).__name__}: {exc}"
        log.warning("page %s failed: %s", page_no, message)
        self.loadFailed.emit(message)

    def _add_anchor(self, position: int, key: Key) -> None:
        if position not in self._anchors:
            if len(self._anchors) >= MAX_ANCHORS:
                return
            bisect.insort(self._anchor_positions, position)
        self._anchors[position] = key

    def _nearest_anchor(self, position: int) -> tuple[int, Key] | None:
        if not self._anchor_positions:
            return None
        i = bisect.bisect_left(self._anchor_positions, position)
        options = [self._anchor_positions[j] for j in (i - 1, i) if 0 <= j < len(self._anchor_positions)]
        best = min(options, key=lambda p: abs(p - position))
        return best, self._anchors[best]

    # -- counting ------------------------------------------------------------------------------

    def _start_counting(self) -> None:
        query, generation = self._query, self._generation
        assert query is not None
        exact = self._background.submit(
            "count",
            lambda token: query.count(token),
            done=lambda n: self._on_count(generation, n),
            failed=lambda exc: self._on_failed(generation, -1, exc),
        )
        self._tasks = [exact]

    def _on_count(self, generation: int, n: int) -> None:
        if generation != self._generation:
            return
        self._set_total(n)
        if n > 4 * SAMPLE_STEP:
            query = self._query
            assert query is not None
            task = self._background.submit(
                "key samples",
                lambda token: query.key_samples(SAMPLE_STEP, token),
                done=lambda keys: self._on_samples(generation, keys),
            )
            self._tasks.append(task)

    def _on_samples(self, generation: int, keys: list[Key]) -> None:
        if generation != self._generation:
            return
        for i, key in enumerate(keys):
            self._add_anchor((i + 1) * SAMPLE_STEP - 1, key)

    def _set_total(self, n: int) -> None:
        self._total = n
        self._lower_bound = n
        rows = min(n, self._window_size) if n > self._window_limit else n
        if rows > self._rows:
            self._grow_to(rows)
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = rows
            self.endRemoveRows()
        self.countChanged.emit()

    def _grow_to(self, rows: int) -> None:
        if rows <= self._rows:
            return
        self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
        self._rows = rows
        self.endInsertRows()
