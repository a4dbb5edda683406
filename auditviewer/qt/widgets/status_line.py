"""The right end of the window's status bar: the current tab's row count and query time,
the time zone dates are shown in, and Stop."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimeZone
from PySide6.QtWidgets import QLabel, QStatusBar, QStyle, QToolButton


class StatusLine(QObject):
    """Permanent widgets of a status bar (its left part stays for passing messages)."""

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.row_count_label = QLabel("", bar)
        self.row_count_label.setObjectName("rowCountLabel")
        self.query_time_label = QLabel("", bar)
        self.query_time_label.setObjectName("queryTimeLabel")
        self.zone_label = QLabel("", bar)
        self.zone_label.setObjectName("zoneLabel")
        self.stop_button = QToolButton(bar)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setText("Stop")
        self.stop_button.setIcon(bar.style().standardIcon(QStyle.StandardPixmap.SP_BrowserStop))
        self.stop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.stop_button.setAutoRaise(True)
        self.stop_button.setToolTip("Stop the running query (Esc)")
        self.stop_button.setEnabled(False)
        for label in (self.row_count_label, self.query_time_label, self.zone_label):
            label.setTextFormat(Qt.TextFormat.PlainText)  # counts and messages may quote the data
            label.setContentsMargins(6, 0, 6, 0)
        for widget in (self.row_count_label, self.query_time_label, self.zone_label, self.stop_button):
            bar.addPermanentWidget(widget)

    def show_status(self, count: str, elapsed: str, busy: bool) -> None:
        """What the current tab says: rows, the last query's time; Stop while it is busy."""
        self.row_count_label.setText(count)
        self.query_time_label.setText(elapsed)
        self.stop_button.setEnabled(busy)

    def show_zone(self, utc: bool) -> None:
        if utc:
            self.zone_label.setText("Times in UTC")
        else:
            zone = bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="replace") or "system zone"
            self.zone_label.setText(f"Times in local time ({zone})")
