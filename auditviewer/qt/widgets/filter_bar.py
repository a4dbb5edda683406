"""The filter bar above a log table: time range, search, conditions.

Everything typed here becomes a :class:`auditviewer.data.filters.Filter`;
the bar checks conditions against the log at once and says what is wrong in
words, listing the valid columns or values.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import cast

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.data.errors import FilterError
from auditviewer.data.filters import Condition, Filter, bind, describe_condition, parse_condition
from auditviewer.data.source import LogTable
from auditviewer.data.timestamps import clamp, parse_duration, utc_instant
from auditviewer.data.views import TIME_PRESETS, ConditionState, SavedView
from auditviewer.qt.models.plaintext import button_text, plain_tooltip

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 350
#: A condition chip says this much of its text (its tooltip says the rest): a value may be any length.
CHIP_CHARS = 80
_SPLIT = re.compile(r"\s*;\s*|\s+and\s+", re.IGNORECASE)


class FilterBar(QWidget):
    """Emits ``filterChanged`` whenever the filter it describes changes."""

    filterChanged = Signal()

    def __init__(self, table: LogTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._conditions: list[Condition] = []
        self._utc = True
        self._business_unit: int | None = None
        self._range_error = False
        self._applied_search = ""
        self._build_time_range()
        self._build_search()
        self._build_conditions(table)
        self._lay_out()
        self._connect_parts()
        self._update_indicator()

    def _build_time_range(self) -> None:
        """The preset ranges, and From/To (shown for "Custom range…")."""
        self._time = QComboBox(self)
        self._time.setObjectName("timeRange")
        for key, (label, _span) in TIME_PRESETS.items():
            self._time.addItem(label, key)
        self._time.setToolTip("Show only rows from this time range (relative to the newest row)")
        self._from = QDateTimeEdit(self)
        self._to = QDateTimeEdit(self)
        for edit, tip in ((self._from, "From (inclusive)"), (self._to, "To (exclusive)")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setToolTip(tip)
            edit.setVisible(False)
        now = QDateTime.currentDateTime()
        self._from.setDateTime(now.addDays(-7))
        self._to.setDateTime(now)

    def _build_search(self) -> None:
        """The search box; what is typed applies after a short pause (or Enter)."""
        self._search = QLineEdit(self)
        self._search.setObjectName("searchBox")
        self._search.setPlaceholderText("Search all text (Ctrl+F)")
        self._search.setClearButtonEnabled(True)
        self._search.setToolTip("Rows containing every word typed here, in any text column")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)

    def _build_conditions(self, table: LogTable) -> None:
        """The condition field, Clear, the "Filtered" mark, the chips and the error line."""
        self._edit = QLineEdit(self)
        self._edit.setObjectName("filterEdit")
        self._edit.setPlaceholderText("Add filter, e.g. status>=500; method=PUT,DELETE; email~@example.com")
        self._edit.setToolTip(
            "Filter language: col=v  col!=v  col>v  col>=v  col<v  col<=v\n"
            "col=a,b (one of)  col~text (contains)  col!~text  col^=text (starts with)\n"
            "col= (empty)  col!= (not empty)  not COND\n"
            f"Columns: {', '.join(table.column_names)}"
        )
        self._clear = QPushButton("Clear filters", self)
        self._clear.setObjectName("clearFilters")
        self._indicator = QLabel("", self)
        self._indicator.setObjectName("filterIndicator")
        self._indicator.setTextFormat(Qt.TextFormat.PlainText)
        self._error = QLabel("", self)
        self._error.setObjectName("filterError")
        self._error.setTextFormat(Qt.TextFormat.PlainText)
        self._error.setWordWrap(True)
        self._error.setStyleSheet("color: #a11d1d;")
        self._error.setVisible(False)
        self._chips = QHBoxLayout()
        self._chips.setContentsMargins(0, 0, 0, 0)
        self._chips.addStretch(1)

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._time)
        top.addWidget(self._from)
        top.addWidget(self._to)
        top.addWidget(self._search, 2)
        top.addWidget(self._edit, 3)
        top.addWidget(self._clear)
        second = QHBoxLayout()
        second.setContentsMargins(0, 0, 0, 0)
        second.addWidget(self._indicator)
        second.addLayout(self._chips, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self._error)

    def _connect_parts(self) -> None:
        focus_search = QAction(self)
        focus_search.setShortcut(QKeySequence.StandardKey.Find)
        focus_search.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(focus_search)
        focus_search.triggered.connect(self._on_focus_search)
        self._time.currentIndexChanged.connect(self._on_time_changed)
        self._from.dateTimeChanged.connect(self._on_range_edited)
        self._to.dateTimeChanged.connect(self._on_range_edited)
        self._search.textChanged.connect(self._on_search_text_changed)
        self._search.returnPressed.connect(self._on_search_timer_timeout)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self._edit.returnPressed.connect(self._on_edit_return_pressed)
        self._edit.textChanged.connect(self._on_edit_text_changed)
        self._clear.clicked.connect(self.clear)

    # -- the filter ---------------------------------------------------------------

    def filter(self) -> Filter:
        key = self._time.currentData()
        span = TIME_PRESETS.get(key, ("", None))[1]
        time_from = time_to = None
        if key == "custom":
            time_from, time_to = self._range()
        return Filter(
            tuple(self._conditions),
            time_from,
            time_to,
            parse_duration(span) if span else None,
            self._applied_search,
            self._business_unit,
        )

    def set_business_unit(self, unit: int | None) -> None:
        self._business_unit = unit

    def _zone(self) -> tzinfo:
        return UTC if self._utc else datetime.now().astimezone().tzinfo or UTC

    def _range(self) -> tuple[datetime, datetime]:
        def value(edit: QDateTimeEdit) -> datetime:
            naive = cast(datetime, edit.dateTime().toPython())
            return clamp(utc_instant(naive.replace(tzinfo=self._zone())))  # 9999-12-31 23:59 local may pass 9999

        return value(self._from), value(self._to)

    def set_time_range(self, start: datetime | None, end: datetime | None) -> None:
        """Show a custom range (naive UTC), e.g. from a chart selection."""
        for edit, value in ((self._from, start), (self._to, end)):
            if value is not None:
                shown = value.replace(tzinfo=UTC)
                if not self._utc:
                    with contextlib.suppress(OverflowError):  # past year 9999 (or before 1) in local time: UTC
                        shown = shown.astimezone()
                edit.blockSignals(True)
                edit.setDateTime(QDateTime(shown.replace(tzinfo=None)))  # type: ignore[call-overload]  # PySide6 takes a datetime; its stubs do not say so
                edit.blockSignals(False)
        self._time.setCurrentIndex(self._time.findData("custom"))
        self._check_range()
        self._changed()

    def set_time_preset(self, key: str) -> None:
        """Choose a time range by its key in TIME_PRESETS ("any", "7d", ...), e.g. to undo a chart selection."""
        index = self._time.findData(key)
        if index >= 0 and index != self._time.currentIndex():
            self._time.setCurrentIndex(index)  # emits filterChanged through _on_time_changed

    def add_condition(self, condition: Condition) -> bool:
        """Add a condition if it fits the log; shows the reason when it does not."""
        try:
            bind(self._table, condition)
        except FilterError as exc:
            self._show_error(str(exc))
            return False
        self._conditions.append(condition)
        self._show_error("")
        self._rebuild_chips()
        self._changed()
        return True

    def conditions(self) -> list[Condition]:
        return list(self._conditions)

    def clear(self) -> None:
        changed = not self.filter().is_empty or bool(self._search.text())
        self._conditions.clear()
        self._search.blockSignals(True)
        self._search.clear()
        self._search.blockSignals(False)
        self._applied_search = ""
        self._time.blockSignals(True)
        self._time.setCurrentIndex(0)
        self._time.blockSignals(False)
        self._set_range_visible(False)
        self._show_error("")
        self._rebuild_chips()
        if changed:
            self._changed()

    def set_utc(self, utc: bool) -> None:
        self._utc = utc

    # -- saved views ---------------------------------------------------------------

    def state(self) -> dict:
        key = self._time.currentData()
        time_from = time_to = None
        if key == "custom":
            start, end = self._range()
            time_from, time_to = start.isoformat(), end.isoformat()
        return {
            "conditions": tuple(ConditionState(c.text(), c.enabled) for c in self._conditions),
            "search": self._applied_search,
            "time_preset": key,
            "time_from": time_from,
            "time_to": time_to,
        }

    def apply_view(self, view: SavedView) -> None:
        conditions = []
        for state in view.conditions:
            cond = replace(parse_condition(state.text), enabled=state.enabled)
            bind(self._table, cond)
            conditions.append(cond)
        self._conditions = conditions
        self._search.blockSignals(True)
        self._search.setText(view.search)
        self._search.blockSignals(False)
        self._applied_search = view.search
        self._time.blockSignals(True)
        index = self._time.findData(view.time_preset)
        self._time.setCurrentIndex(max(index, 0))
        self._time.blockSignals(False)
        if view.time_preset == "custom" and view.time_from and view.time_to:
            self._set_range_visible(True)
            self.set_time_range(datetime.fromisoformat(view.time_from), datetime.fromisoformat(view.time_to))
        self._rebuild_chips()
        self._update_indicator()

    # -- slots -------------------------------------------------------------------------

    def _on_focus_search(self) -> None:
        self._search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._search.selectAll()

    def _on_time_changed(self, _index: int) -> None:
        self._set_range_visible(self._time.currentData() == "custom")
        self._check_range()
        self._changed()

    def _on_range_edited(self, _value: QDateTime) -> None:
        if self._time.currentData() == "custom":
            self._check_range()
            self._changed()

    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        self._search_timer.stop()
        text = self._search.text().strip()
        if text != self._applied_search:
            self._applied_search = text
            self._changed()

    def _on_edit_text_changed(self, _text: str) -> None:
        if self._error.isVisible():
            self._show_error("")

    def _on_edit_return_pressed(self) -> None:
        text = self._edit.text().strip()
        if not text:
            return
        try:
            parsed = [parse_condition(part) for part in _SPLIT.split(text) if part.strip()]
            for condition in parsed:
                bind(self._table, condition)
        except FilterError as exc:
            self._show_error(str(exc))
            return
        self._conditions.extend(parsed)
        self._edit.clear()
        self._show_error("")
        self._rebuild_chips()
        self._changed()

    # -- chips ----------------------------------------------------------------------------

    def _rebuild_chips(self) -> None:
        while self._chips.count() > 1:
            item = self._chips.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for index, condition in enumerate(self._conditions):
            self._chips.insertWidget(index, self._chip(index, condition))
        self._update_indicator()

    def _chip(self, index: int, condition: Condition) -> QToolButton:
        column = self._table.column(condition.column)
        chip = QToolButton(self)
        chip.setObjectName("conditionChip")
        chip.setText(button_text(condition.text(), CHIP_CHARS) + ("" if condition.enabled else " (off)"))
        chip.setToolTip(plain_tooltip(describe_condition(condition, column.label if column else None)[:2000]))
        chip.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        chip.setStyleSheet(
            "QToolButton { border: 1px solid #7a9cc6; border-radius: 9px; padding: 1px 8px; background: %s; }"
            % ("#e3edf9" if condition.enabled else "#eeeeee")
        )
        menu = QMenu(chip)
        toggle = menu.addAction("Switch off" if condition.enabled else "Switch on")
        negate = menu.addAction("Negate")
        remove = menu.addAction("Remove")
        toggle.triggered.connect(lambda: self._edit_condition(index, enabled=not condition.enabled))
        negate.triggered.connect(lambda: self._edit_condition(index, negated=not condition.negated))
        remove.triggered.connect(lambda: self._remove_condition(index))
        chip.setMenu(menu)
        return chip

    def _edit_condition(self, index: int, enabled: bool | None = None, negated: bool | None = None) -> None:
        condition = self._conditions[index]
        if enabled is not None:
            condition = replace(condition, enabled=enabled)
        if negated is not None:
            condition = replace(condition, negated=negated)
        self._conditions[index] = condition
        self._rebuild_chips()
        self._changed()

    def _remove_condition(self, index: int) -> None:
        del self._conditions[index]
        self._rebuild_chips()
        self._changed()

    # -- helpers ----------------------------------------------------------------------------

    def _set_range_visible(self, visible: bool) -> None:
        self._from.setVisible(visible)
        self._to.setVisible(visible)

    def _show_error(self, message: str) -> None:
        self._range_error = False
        self._error.setText(message)
        self._error.setVisible(bool(message))

    def _check_range(self) -> None:
        """Say at once when the custom range ends before it starts: it could show no row."""
        message = ""
        if self._time.currentData() == "custom":
            start, end = self._range()
            if start >= end:
                message = (
                    f"Custom range: the end ({self._to.text()}) must come after the start "
                    f"({self._from.text()}); the table still shows the previous range"
                )
        if message or self._range_error:
            self._show_error(message)
            self._range_error = bool(message)

    def _update_indicator(self) -> None:
        active = not self.filter().is_empty
        self._indicator.setText("Filtered" if active else "")
        self._indicator.setVisible(active)
        self._indicator.setStyleSheet(
            "background: #f5a623; color: black; font-weight: bold; border-radius: 3px; padding: 1px 6px;"
        )
        self._clear.setEnabled(active or bool(self._search.text()))

    def _changed(self) -> None:
        self._update_indicator()
        self.filterChanged.emit()

    def describe_time(self) -> str:
        key = self._time.currentData()
        return TIME_PRESETS.get(key, ("", None))[0]
