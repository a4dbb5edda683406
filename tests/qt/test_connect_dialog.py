"""The Connect to server dialog: fields, URLs with and without the password, Test connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from sqlalchemy.engine import make_url

from auditviewer.qt.widgets.connect_dialog import ConnectDialog
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.qt.test_navigation import api_rows

SECRET = "pa:ss/w@rd§"


@pytest.fixture
def dialog(qtbot) -> Iterator[ConnectDialog]:
    dlg = ConnectDialog()
    qtbot.addWidget(dlg)
    yield dlg
    dlg.shutdown()


def fill(
    dialog: ConnectDialog,
    qtbot,
    *,
    host: str = "db.example.com",
    database: str = "audit",
    user: str = "viewer",
    password: str = SECRET,
) -> None:
    for edit, text in (
        (dialog.host, host),
        (dialog.database, database),
        (dialog.user, user),
        (dialog.password, password),
    ):
        edit.clear()
        qtbot.keyClicks(edit, text)


def ok_button(dialog: ConnectDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_port_follows_the_server_type_and_schema_is_postgresql_only(qtbot, dialog) -> None:
    dialog.show()
    assert dialog.backend.currentText() == "PostgreSQL"
    assert dialog.port.value() == 5432
    assert dialog.form.isRowVisible(dialog.schema)
    dialog.backend.setCurrentText("MySQL / MariaDB")
    assert dialog.port.value() == 3306
    assert not dialog.form.isRowVisible(dialog.schema)
    dialog.port.setValue(3307)  # a port the user chose stays
    dialog.backend.setCurrentText("PostgreSQL")
    assert dialog.port.value() == 3307


def test_password_is_masked_and_only_in_the_url_to_open(qtbot, dialog) -> None:
    assert dialog.password.echoMode() is QLineEdit.EchoMode.Password
    fill(dialog, qtbot)
    qtbot.keyClicks(dialog.schema, "logs")
    url = make_url(dialog.url())
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql",
        "db.example.com",
        5432,
        "audit",
        "viewer",
        SECRET,
    )
    assert url.query == {"schema": "logs"}
    assert SECRET not in dialog.display_url()
    assert "***" not in dialog.display_url()
    assert make_url(dialog.display_url()).password is None
    assert dialog.display_url() == "postgresql://viewer@db.example.com:5432/audit?schema=logs"


def test_connect_needs_a_host_and_a_database(qtbot, dialog) -> None:
    dialog.database.clear()
    assert not ok_button(dialog).isEnabled()
    assert not dialog.test_button.isEnabled()
    fill(dialog, qtbot)
    assert ok_button(dialog).isEnabled()
    assert dialog.test_button.isEnabled()


def test_fields_are_filled_from_a_remembered_url(qtbot) -> None:
    dlg = ConnectDialog(url="mysql://auditor@10.0.0.5:3310/exports")
    qtbot.addWidget(dlg)
    assert dlg.backend.currentText() == "MySQL / MariaDB"
    assert (dlg.host.text(), dlg.port.value(), dlg.database.text(), dlg.user.text(), dlg.password.text()) == (
        "10.0.0.5",
        3310,
        "exports",
        "auditor",
        "",
    )
    dlg.shutdown()


def test_failed_test_connection_says_why_inline_without_the_password(qtbot, dialog) -> None:
    fill(dialog, qtbot, host="127.0.0.1")
    dialog.port.setValue(1)  # nothing listens there: refused at once
    with qtbot.waitSignal(dialog.testFinished, timeout=15_000) as blocker:
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    ok, text = blocker.args
    assert not ok
    assert text.startswith("Could not connect:")
    assert dialog.result_text() == text
    assert SECRET not in text
    assert dialog.test_button.isEnabled()


def test_accepting_keeps_the_fields_and_ends_the_worker(qtbot, dialog) -> None:
    fill(dialog, qtbot)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert make_url(dialog.url()).password == SECRET


@pytest.mark.server
def test_test_connection_lists_the_logs_found(qtbot, tmp_path) -> None:
    base = server_url("postgresql")
    factory = DbFactory("postgresql", tmp_path, base)
    try:
        spec = factory.create({"api": api_rows(3)}, business_units=[(1, "Main brand")])
        dlg = ConnectDialog(url=spec)
        qtbot.addWidget(dlg)
        with qtbot.waitSignal(dlg.testFinished, timeout=15_000) as blocker:
            dlg.test_connection()
        ok, text = blocker.args
        assert ok, text
        assert "Logs found: API logs" in text and "Business units: 1" in text
        dlg.shutdown()
    finally:
        factory.close()
