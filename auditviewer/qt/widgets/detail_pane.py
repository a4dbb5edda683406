"""The detail pane: every field of the selected row, explained, as plain text.

The pane knows nothing of the database: the log tab asks the data layer for
:class:`~auditviewer.data.details.Section` lists (on a background lane when
a query is needed) and hands them over. Data is never rendered as rich text:
every label is ``Qt.PlainText``, so a value like ``<b>x</b>`` shows as typed.

Each field is a label line (with its Copy and "Show all activity" buttons)
over the value at the pane's full width: the pane is narrow beside the table,
and a value beside its label would have to wrap an e-mail or a time.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.data.details import Field, Section
from auditviewer.data.logtypes import Role, Severity
from auditviewer.qt.models.plaintext import plain_tooltip

log = logging.getLogger(__name__)

#: Longer values, values with a line break, and values with a word too long for
#: a narrow pane (a URL, a token) go in a wrapping read-only text box.
LONG_VALUE = 80
LONG_WORD = 40
MAX_VALUE_LINES = 8
_SEVERITY_COLORS = {Severity.WARNING: "#8a5a00", Severity.ERROR: "#a11d1d"}
_SEVERITY_COLORS_DARK = {Severity.WARNING: "#f0b429", Severity.ERROR: "#ff7b7b"}
_SEVERITY_WORDS = {Severity.WARNING: "Warning", Severity.ERROR: "Error"}
_ACTIVITY_ROLES = {Role.EMAIL: "email", Role.IP: "ip"}


def plain_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def _is_long(value: str) -> bool:
    return len(value) > LONG_VALUE or "\n" in value or max(map(len, value.split()), default=0) > LONG_WORD


def _line_count(text: str, font: QFont, width: float, option: QTextOption, cap: int) -> int:
    """Lines ``text`` takes at ``width``, counting no further than ``cap``."""
    total = 0
    for paragraph in text[: cap * 400].split("\n"):
        layout = QTextLayout(paragraph, font)
        layout.setTextOption(option)
        layout.beginLayout()
        lines = 0
        while total + lines <= cap:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            lines += 1
        layout.endLayout()
        total += max(lines, 1)
        if total > cap:
            break
    return total


class _ValueText(QPlainTextEdit):
    """A long value: wrapped anywhere, selectable, as tall as its lines (up to a cap)."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailValue")
        self.setReadOnly(True)
        self.setPlainText(text)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self._fit(300)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit(event.size().width())

    def _fit(self, width: int) -> None:
        """Be as tall as the wrapped text at ``width``; scroll only past MAX_VALUE_LINES."""
        margin = 2 * self.document().documentMargin()
        frame = 2 * self.frameWidth()
        text_width = max(width - frame - margin - 4, 20)  # 4: the cursor and rounding
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        lines = _line_count(self.toPlainText(), self.font(), text_width, option, MAX_VALUE_LINES)
        fits = lines <= MAX_VALUE_LINES
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        height = int(min(lines, MAX_VALUE_LINES) * self.fontMetrics().lineSpacing() + margin + frame)
        if height != self.height():
            self.setFixedHeight(height)


class DetailPane(QWidget):
    """Shows sections of label/value fields, with copy and "Show all activity" buttons."""

    #: (role "email" | "ip", value)
    activityRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self._sections: list[Section] = []
        self._frames: list[QFrame] = []
        self._message = ""
        self._row_height: int | None = None

        self._message_label = plain_label("", self)
        self._message_label.setObjectName("detailMessage")
        self._message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message_label.setWordWrap(True)
        self._message_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._message_label.hide()

        self._content = QWidget()
        self._content.setObjectName("detailContent")
        self._content_layout = QVBoxLayout(self._content)
        self._content_layout.setContentsMargins(8, 6, 8, 6)
        self._content_layout.setSpacing(12)
        self._content_layout.addWidget(self._message_label)
        self._content_layout.addStretch(1)

        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("detailScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(self._content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)

    # -- public --------------------------------------------------------------------------

    def show_sections(self, sections: list[Section]) -> None:
        self.clear()
        for section in sections:
            self.add_section(section)
        self._scroll.verticalScrollBar().setValue(0)

    def show_message(self, text: str) -> None:
        """A line in place of the details ("Select a row…", "Loading…")."""
        self.clear()
        self._message = text
        self._message_label.setText(text)
        self._message_label.show()

    def add_section(self, section: Section, position: int | None = None) -> None:
        """Add a section (at the end, or before section ``position``), e.g. the login
        context once its query is done."""
        self._message_label.hide()
        self._message = ""
        if position is None or not 0 <= position < len(self._frames):
            position = len(self._frames)
        frame = self._section_widget(section)
        layout_index = (
            self._content_layout.indexOf(self._frames[position])
            if position < len(self._frames)
            else self._content_layout.count() - 1
        )
        self._sections.insert(position, section)
        self._frames.insert(position, frame)
        self._content_layout.insertWidget(layout_index, frame)

    def clear(self) -> None:
        self._sections.clear()
        self._message = ""
        self._message_label.hide()
        for frame in self._frames:
            self._content_layout.removeWidget(frame)
            frame.hide()
            frame.setParent(None)  # gone from findChildren now, not at the next event loop pass
            frame.deleteLater()
        self._frames.clear()

    def sections(self) -> list[Section]:
        return list(self._sections)

    def text(self) -> str:
        """Everything shown, as "label: value" lines under each section title."""
        if self._message:
            return self._message
        lines = []
        for section in self._sections:
            lines.append(section.title)
            for f in section.fields:
                value = f.value or f.hint or "(empty)"
                lines.append(f"{f.label}: {value}" if f.label else value)
        return "\n".join(lines)

    # -- building ----------------------------------------------------------------------------

    def _section_widget(self, section: Section) -> QFrame:
        frame = QFrame(self._content)
        frame.setObjectName("detailSection")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        title = plain_label(section.title, frame)
        title.setObjectName("detailSectionTitle")
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        layout.addWidget(title)
        lines = None  # consecutive unlabelled fields (a list) sit close together
        for f in section.fields:
            if f.label:
                lines = None
                layout.addWidget(self._field_widget(frame, f))
                continue
            if lines is None:
                lines = QVBoxLayout()
                lines.setSpacing(1)
                layout.addLayout(lines)
            lines.addWidget(self._value_widget(frame, f))
        return frame

    def _field_widget(self, parent: QWidget, f: Field) -> QWidget:
        box = QWidget(parent)
        box.setObjectName("detailField")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(2)
        name = plain_label(f.label, box)
        name.setObjectName("detailLabel")
        name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        name.setWordWrap(True)
        small = QFont(name.font())
        small.setPointSizeF(small.pointSizeF() * 0.9)
        name.setFont(small)
        if f.hint and f.value:
            name.setToolTip(plain_tooltip(f.hint))
        name.setMinimumHeight(self._button_height())  # rows line up with or without buttons
        header.addWidget(name, 1)
        role = _ACTIVITY_ROLES.get(f.role) if f.role is not None else None
        if role and f.value:
            what = "e-mail" if role == "email" else "IP"
            button = self._tool_button(
                box,
                "activityButton",
                "Show all activity",
                f"Open a tab with every panel action, API call and login of this {what}",
            )
            button.clicked.connect(lambda _checked=False, r=role, v=f.value: self._on_activity_clicked(r, v))
            header.addWidget(button)
        if f.copyable and f.value:
            copy = self._tool_button(box, "copyButton", "Copy", f"Copy {f.label} to the clipboard")
            copy.clicked.connect(lambda _checked=False, v=f.value: self._on_copy_clicked(v))
            header.addWidget(copy)
        layout.addLayout(header)
        layout.addWidget(self._value_widget(box, f))
        return box

    def _button_height(self) -> int:
        if self._row_height is None:
            self._row_height = self._tool_button(None, "", "Copy", "").sizeHint().height()
        return self._row_height

    @staticmethod
    def _tool_button(parent: QWidget | None, name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton(parent)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(plain_tooltip(tip))  # "Copy <label>": an extra column is named by the data
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        palette = button.palette()  # link-coloured: flat buttons still look clickable
        palette.setColor(QPalette.ColorRole.ButtonText, palette.color(QPalette.ColorRole.Link))
        button.setPalette(palette)
        return button

    def _value_widget(self, parent: QWidget, f: Field) -> QWidget:
        if not f.value:
            empty = plain_label(f.hint or "(empty)", parent)
            empty.setObjectName("detailEmpty")
            empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            font = QFont(empty.font())
            font.setItalic(True)
            empty.setFont(font)
            return empty
        widget: QWidget
        if _is_long(f.value):
            widget, color_role = _ValueText(f.value, parent), QPalette.ColorRole.Text
        else:
            label = plain_label(f.value, parent)
            label.setObjectName("detailValue")
            label.setWordWrap(True)
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
            label.setCursor(Qt.CursorShape.IBeamCursor)
            widget, color_role = label, QPalette.ColorRole.WindowText
        if f.severity in _SEVERITY_COLORS:  # lines of a list in colour only: a column of bold is loud
            self._mark(widget, color_role, f.severity, bold=bool(f.label))
        return widget

    def _mark(self, widget: QWidget, color_role: QPalette.ColorRole, severity: Severity, bold: bool) -> None:
        """Errors and warnings in colour and bold, and said in the tooltip for who cannot see colour."""
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        colors = _SEVERITY_COLORS_DARK if dark else _SEVERITY_COLORS
        palette = widget.palette()
        palette.setColor(color_role, QColor(colors[severity]))
        widget.setPalette(palette)
        if bold:
            font = QFont(widget.font())
            font.setBold(True)
            widget.setFont(font)
        widget.setToolTip(_SEVERITY_WORDS[severity])

    # -- slots ------------------------------------------------------------------------------

    def _on_copy_clicked(self, value: str) -> None:
        QApplication.clipboard().setText(value)

    def _on_activity_clicked(self, role: str, value: str) -> None:
        self.activityRequested.emit(role, value)
