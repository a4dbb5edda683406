"""The table of a log tab: fixed row height, SQL sorting, and a scrollbar over the whole result.

For results past the model's window limit the view's own scrollbar only
spans the window; a second scrollbar spans every row and slides the model's
window, so a hundred million rows scroll as one list.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QScrollBar, QTableView, QWidget

from auditviewer.qt.models.log_model import LogTableModel

MAX_SAMPLE_WIDTH = 420


class LogTableView(QTableView):
    """A QTableView tuned for millions of lazily loaded rows."""

    copyRequested = Signal()
    jumpToEndRequested = Signal()
    jumpToStartRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logTable")
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        vertical.setVisible(False)
        horizontal = self.horizontalHeader()
        horizontal.setSectionsMovable(True)
        horizontal.setHighlightSections(False)
        horizontal.setStretchLastSection(True)
        horizontal.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        horizontal.setSortIndicatorShown(True)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copyRequested.emit()
            return
        if event.matches(QKeySequence.StandardKey.MoveToEndOfDocument):
            self.jumpToEndRequested.emit()
            return
        if event.matches(QKeySequence.StandardKey.MoveToStartOfDocument):
            self.jumpToStartRequested.emit()
            return
        super().keyPressEvent(event)

    def fit_columns(self, rows: int = 100) -> None:
        """Column widths from the header and a sample of loaded rows, never from all rows."""
        model = self.model()
        if model is None:
            return
        metrics = self.fontMetrics()
        header = self.horizontalHeader()
        for column in range(model.columnCount()):
            label = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            width = metrics.horizontalAdvance(label) + 28
            for row in range(min(rows, model.rowCount())):
                text = model.data(model.index(row, column))
                if isinstance(text, str) and text:
                    width = max(width, metrics.horizontalAdvance(text[:80]) + 16)
            header.resizeSection(column, min(width, MAX_SAMPLE_WIDTH))


class ScrollingTable(QWidget):
    """A LogTableView plus, for windowed results, a scrollbar over the whole result."""

    def __init__(self, model: LogTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = LogTableView(self)
        self.view.setModel(model)
        self.outer = QScrollBar(Qt.Orientation.Vertical, self)
        self.outer.setObjectName("wholeResultScrollBar")
        self.outer.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view)
        layout.addWidget(self.outer)
        self._syncing = False
        model.countChanged.connect(self._on_count_changed)
        self.outer.valueChanged.connect(self._on_outer_value_changed)
        self.view.verticalScrollBar().valueChanged.connect(self._on_inner_value_changed)
        self.view.jumpToEndRequested.connect(self.jump_to_end)
        self.view.jumpToStartRequested.connect(self.jump_to_start)

    # -- positions in the whole result -----------------------------------------------

    def visible_rows(self) -> int:
        height = self.view.viewport().height()
        return max(1, height // max(1, self.view.verticalHeader().defaultSectionSize()))

    def top_row(self) -> int:
        """The result row at the top of the view."""
        return self.model.result_row(max(0, self.view.rowAt(0)))

    def scroll_to_row(self, row: int, select: bool = False) -> None:
        """Show result row ``row`` at the top (sliding the window when needed)."""
        total = self.model.total if self.model.total is not None else self.model.rowCount()
        row = max(0, min(row, max(total - 1, 0)))
        if self.model.windowed:
            window = self.model.rowCount()
            offset = self.model.window_offset
            if not offset + self.visible_rows() <= row + self.visible_rows() <= offset + window:
                self.model.set_window_offset(row - window // 2)
        view_row = row - self.model.window_offset
        index = self.model.index(view_row, max(0, self.view.currentIndex().column()))
        if not index.isValid():
            return
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        if select:
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        self._sync_outer()

    def jump_to_end(self) -> None:
        total = self.model.total if self.model.total is not None else self.model.rowCount()
        if total:
            last = total - 1
            if self.model.windowed:
                self.model.set_window_offset(total - self.model.rowCount())
            index = self.model.index(last - self.model.window_offset, max(0, self.view.currentIndex().column()))
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtBottom)
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self._sync_outer()

    def jump_to_start(self) -> None:
        self.scroll_to_row(0, select=True)

    # -- slots ------------------------------------------------------------------------------

    def _on_count_changed(self) -> None:
        windowed = self.model.windowed
        self.outer.setVisible(windowed)
        self.view.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if windowed else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        if windowed and self.model.total is not None:
            self.outer.setRange(0, max(0, self.model.total - self.visible_rows()))
            self.outer.setPageStep(self.visible_rows())
            self._sync_outer()

    def _on_outer_value_changed(self, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.scroll_to_row(value)
        finally:
            self._syncing = False

    def _on_inner_value_changed(self, _value: int) -> None:
        if not self.model.windowed or self._syncing:
            return
        top = self.view.rowAt(0)
        window = self.model.rowCount()
        margin = max(self.visible_rows() * 2, 50)
        if top >= 0 and (
            (top < margin and self.model.window_offset > 0)
            or (top > window - margin and self.model.window_offset + window < (self.model.total or 0))
        ):
            row = self.model.result_row(top)
            self._syncing = True
            try:
                self.model.set_window_offset(row - window // 2)
                self.view.scrollTo(
                    self.model.index(row - self.model.window_offset, 0), QAbstractItemView.ScrollHint.PositionAtTop
                )
            finally:
                self._syncing = False
        self._sync_outer()

    def _sync_outer(self) -> None:
        if not self.model.windowed:
            return
        was = self._syncing
        self._syncing = True
        try:
            self.outer.setValue(self.top_row())
        finally:
            self._syncing = was

    def copy_selection(self) -> str:
        """Selected cells as tab-separated text with a header row; also put on the clipboard."""
        selection = self.view.selectionModel().selectedIndexes()
        if not selection:
            return ""
        header = self.view.horizontalHeader()
        columns = sorted(
            {i.column() for i in selection if not header.isSectionHidden(i.column())}, key=header.visualIndex
        )
        rows = sorted({i.row() for i in selection})
        lines = ["\t".join(str(self.model.headerData(c, Qt.Orientation.Horizontal)) for c in columns)]
        for row in rows:
            cells = []
            for column in columns:
                text = self.model.data(self.model.index(row, column))
                cells.append(str(text or "").replace("\t", " ").replace("\n", " "))
            lines.append("\t".join(cells))
        text = "\n".join(lines) + "\n"
        QGuiApplication.clipboard().setText(text)
        return text
