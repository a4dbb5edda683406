"""The detail pane: plain text only, copy buttons, "Show all activity", and how it looks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QToolButton

from auditviewer.data.details import (
    Field,
    LoginContext,
    Section,
    describe_row,
    login_context,
    sections_for_login_context,
)
from auditviewer.data.logtypes import Role, Severity
from auditviewer.data.source import Source, open_source
from auditviewer.qt.widgets.detail_pane import DetailPane
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import child

HTML = "<b>bold</b><script>"
LONG_HTML = "<i>" + "<b>not bold</b> " * 12 + "</i>"
T = datetime(2025, 6, 1, 12, 0, 0)
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"


@pytest.fixture
def pane(qtbot) -> DetailPane:
    widget = DetailPane()
    qtbot.addWidget(widget)
    widget.resize(340, 700)
    return widget


def value_texts(pane: DetailPane) -> list[str]:
    texts = [w.text() for w in pane.findChildren(QLabel, "detailValue")]
    return texts + [w.toPlainText() for w in pane.findChildren(QPlainTextEdit, "detailValue")]


def button(pane: DetailPane, name: str) -> QToolButton:
    buttons = pane.findChildren(QToolButton, name)
    assert len(buttons) == 1, [b.toolTip() for b in buttons]
    return buttons[0]


def test_html_in_values_and_labels_is_shown_as_typed(pane: DetailPane) -> None:
    pane.show_sections([Section(HTML, [Field(HTML, HTML), Field("Long", LONG_HTML), Field("", HTML)])])
    labels = pane.findChildren(QLabel)
    assert labels and all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    assert value_texts(pane).count(HTML) == 2
    assert LONG_HTML in value_texts(pane)
    assert [w.toPlainText() for w in pane.findChildren(QPlainTextEdit)] == [LONG_HTML]
    title = child(pane, QLabel, "detailSectionTitle")
    assert title.text() == HTML
    assert pane.text() == f"{HTML}\n{HTML}: {HTML}\nLong: {LONG_HTML}\n{HTML}"


def test_every_label_is_plain_text_for_a_real_row_and_a_message(pane: DetailPane, source: Source) -> None:
    table = source.log("panel")
    row = dict(
        id=1, date=T, url=HTML, method="GET", email=HTML, remote_ip="10.0.0.1", api_method_status=HTML, user_agent=UA
    )
    pane.show_sections(describe_row(table, row))
    pane.add_section(sections_for_login_context(LoginContext([(T, HTML, HTML)], 1)))
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in pane.findChildren(QLabel))
    pane.show_message(HTML)
    assert pane.text() == HTML
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in pane.findChildren(QLabel))


def test_copy_button_puts_the_value_on_the_clipboard(qtbot, pane: DetailPane) -> None:
    pane.show_sections(
        [Section("S", [Field("Secret", HTML), Field("Not copyable", "x", copyable=False), Field("Empty", "")])]
    )
    QApplication.clipboard().clear()
    qtbot.mouseClick(button(pane, "copyButton"), Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == HTML


def test_activity_button_asks_for_the_timeline_of_the_email_or_ip(qtbot, pane: DetailPane) -> None:
    pane.show_sections(
        [Section("S", [Field("E-mail", "a@example.com", role=Role.EMAIL), Field("Phone", "+48500", role=Role.PHONE)])]
    )
    with qtbot.waitSignal(pane.activityRequested, timeout=1000) as blocker:
        qtbot.mouseClick(button(pane, "activityButton"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["email", "a@example.com"]
    pane.show_sections([Section("S", [Field("Remote IP", "2a02:a31a::5", role=Role.IP)])])
    with qtbot.waitSignal(pane.activityRequested, timeout=1000) as blocker:
        qtbot.mouseClick(button(pane, "activityButton"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["ip", "2a02:a31a::5"]


def test_sections_replace_and_add_and_clear(pane: DetailPane) -> None:
    pane.show_message("Select a row to see its details")
    assert pane.text() == "Select a row to see its details"
    pane.show_sections([Section("First", [Field("A", "1")])])
    pane.show_sections([Section("Second", [Field("B", "2")])])
    assert pane.text() == "Second\nB: 2"
    pane.add_section(Section("Later", [Field("C", "")]))
    assert pane.text() == "Second\nB: 2\nLater\nC: (empty)"
    assert [label.text() for label in pane.findChildren(QLabel, "detailEmpty")] == ["(empty)"]
    assert value_texts(pane) == ["2"]
    pane.clear()
    assert pane.text() == "" and value_texts(pane) == []


def test_errors_and_warnings_are_marked(pane: DetailPane) -> None:
    pane.show_sections(
        [
            Section(
                "S",
                [
                    Field("Outcome", "Failed login", severity=Severity.ERROR),
                    Field("Status", "404 Not Found", severity=Severity.WARNING),
                    Field("Name", "Anna", severity=Severity.OK),
                ],
            )
        ]
    )
    labels = {label.text(): label for label in pane.findChildren(QLabel, "detailValue")}
    normal = labels["Anna"].palette().color(QPalette.ColorRole.WindowText)
    error = labels["Failed login"].palette().color(QPalette.ColorRole.WindowText)
    warning = labels["404 Not Found"].palette().color(QPalette.ColorRole.WindowText)
    assert len({normal.name(), error.name(), warning.name()}) == 3
    assert labels["Failed login"].toolTip() == "Error" and labels["Failed login"].font().bold()


# -- the look ---------------------------------------------------------------------------------


@pytest.fixture
def source(sqlite_db: DbFactory) -> Iterator[Source]:
    logins = [
        dict(
            id=i,
            date=T - timedelta(minutes=7 * (12 - i)),
            name="Anna O'Brien",
            email="anna@example.com",
            login="successful" if i in (3, 6, 9) else "failed",
            remote_ip="83.24.1.2",
            country="Poland",
            state="Mazowieckie",
            city="Warszawa",
            user_agent=UA,
        )
        for i in range(1, 13)
    ]
    panel = [
        dict(
            id=1,
            date=T,
            url="/Lists/Subscribers?search=<script>alert(1)</script>",
            method="POST",
            email="anna@example.com",
            remote_ip="83.24.1.2",
            api_method_status="OK",
            user_agent=UA,
        )
    ]
    src = open_source(sqlite_db.create({"logins": logins, "panel": panel}, business_units=[(1, "Main brand")]))
    yield src
    src.close()


def test_screenshot_of_a_failed_login(qtbot, pane: DetailPane, source: Source) -> None:
    """Saved to /tmp/detail_pane.png for a person to look at."""
    table = source.log("logins")
    row = dict(
        id=12,
        business_unit_id=None,
        date=T,
        name="Anna O'Brien",
        email="anna@example.com",
        login="failed",
        successful_login_date=None,
        last_failed_login_date=T - timedelta(minutes=7),
        country="Poland",
        state="Mazowieckie",
        city="Warszawa",
        remote_ip="83.24.1.2",
        user_agent=UA,
    )
    pane.show_sections(describe_row(table, row))
    pane.add_section(sections_for_login_context(login_context(table, row, limit=6)))
    pane.resize(340, 1500)
    image = pane.grab()
    assert not image.isNull() and image.width() == 340
    image.save("/tmp/detail_pane.png")
    text = pane.text()
    assert "Outcome: Failed login" in text and "Failures in the 24 hours before: 8" in text  # ids 1-11 but 3, 6, 9
    assert "2025-06-01 12:00:00 — failed — 83.24.1.2" in text
