"""Connecting to a PostgreSQL or MySQL/MariaDB server that holds exported logs.

The password lives only in the password field and in the URL handed to the
caller for opening; :meth:`ConnectDialog.display_url` is what may be shown or
remembered. "Test connection" opens the source on a background lane, so a
server that does not answer never freezes the window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from auditviewer.data.cancel import CancelToken
from auditviewer.data.secrets import redact
from auditviewer.data.source import open_source
from auditviewer.qt.models.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

#: Combo label -> (URL scheme, default port)
BACKENDS: dict[str, tuple[str, int]] = {
    "PostgreSQL": ("postgresql", 5432),
    "MySQL / MariaDB": ("mysql", 3306),
}
_SCHEMES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL / MariaDB",
    "mariadb": "MySQL / MariaDB",
}
_OK_STYLE = "color: #1a7f37;"
_ERROR_STYLE = "color: #b42318;"


class ConnectDialog(QDialog):
    """Asks for a server and a database; ``url()`` is what to open once accepted."""

    #: A connection test ended: (succeeded, the message shown).
    testFinished = Signal(bool, str)

    def __init__(self, parent: QWidget | None = None, url: str | None = None, runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect to server")
        self._own_runner = runner is None
        self._runner = runner if runner is not None else TaskRunner("connect-test", self)
        self._test: Task | None = None
        self._build_fields()
        self.test_button = QPushButton("&Test connection", self)
        self.test_button.setObjectName("testButton")
        self.test_result = QLabel(self)
        self.test_result.setObjectName("testResultLabel")
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self._lay_out()
        self.setMinimumWidth(440)

        self.backend.currentTextChanged.connect(self._on_backend_changed)
        self.host.textChanged.connect(self._on_field_changed)
        self.database.textChanged.connect(self._on_field_changed)
        self.test_button.clicked.connect(self._on_test_clicked)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        if url:
            self.set_url(url)
        self._on_backend_changed(self.backend.currentText())
        self._on_field_changed()

    def _build_fields(self) -> None:
        """Server type, host, port, database, schema, user, password."""
        self.backend = QComboBox(self)
        self.backend.setObjectName("backendCombo")
        self.backend.addItems(list(BACKENDS))
        self.host = QLineEdit("localhost", self)
        self.host.setObjectName("hostEdit")
        self.port = QSpinBox(self)
        self.port.setObjectName("portSpin")
        self.port.setRange(1, 65535)
        self.port.setValue(BACKENDS["PostgreSQL"][1])
        self.database = QLineEdit(self)
        self.database.setObjectName("databaseEdit")
        self.database.setPlaceholderText("the database holding the log tables")
        self.schema = QLineEdit(self)
        self.schema.setObjectName("schemaEdit")
        self.schema.setPlaceholderText("optional; public when empty")
        self.user = QLineEdit(self)
        self.user.setObjectName("userEdit")
        self.password = QLineEdit(self)
        self.password.setObjectName("passwordEdit")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)

    def _lay_out(self) -> None:
        self.form = QFormLayout()
        self.form.addRow("&Server type:", self.backend)
        self.form.addRow("&Host:", self.host)
        self.form.addRow("&Port:", self.port)
        self.form.addRow("&Database:", self.database)
        self.form.addRow("S&chema:", self.schema)
        self.form.addRow("&User:", self.user)
        self.form.addRow("Pass&word:", self.password)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(test_row)
        layout.addWidget(self.test_result)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    # -- the URL -------------------------------------------------------------------------------

    def _url(self, with_password: bool) -> URL:
        scheme, _port = BACKENDS[self.backend.currentText()]
        query = {}
        if scheme == "postgresql" and self.schema.text().strip():
            query["schema"] = self.schema.text().strip()
        password = self.password.text() if with_password and self.password.text() else None
        return URL.create(
            scheme,
            username=self.user.text().strip() or None,
            password=password,
            host=self.host.text().strip() or None,
            port=self.port.value(),
            database=self.database.text().strip() or None,
            query=query,
        )

    def url(self) -> str:
        """The URL to open, password included: hand it to open_source, never to a log or a setting."""
        return self._url(True).render_as_string(hide_password=False)

    def display_url(self) -> str:
        """The URL without the password, fit to show and remember."""
        return self._url(False).render_as_string(hide_password=False)

    def set_url(self, url: str) -> None:
        """Fill the fields from a URL (e.g. a recent source)."""
        try:
            parsed = make_url(url)
        except Exception:
            log.warning("cannot read a server URL to fill the connect dialog")
            return
        label = _SCHEMES.get(parsed.get_backend_name())
        if label is None:
            return
        self.backend.setCurrentText(label)
        self.host.setText(parsed.host or "localhost")
        self.port.setValue(parsed.port or BACKENDS[label][1])
        self.database.setText(parsed.database or "")
        schema = parsed.query.get("schema", "")
        self.schema.setText(schema[-1] if isinstance(schema, tuple) else schema)
        self.user.setText(parsed.username or "")
        self.password.setText(parsed.password or "")
        (self.password if parsed.username else self.user).setFocus()

    # -- testing --------------------------------------------------------------------------------

    def result_text(self) -> str:
        return self.test_result.text()

    def test_connection(self) -> None:
        """Open the source on the background lane and say what was found."""
        if self._test is not None:
            self._test.cancel()
        url = self.url()
        self._show_result("Connecting…", "")
        self.test_button.setEnabled(False)

        def work(_token: CancelToken) -> str:
            source = open_source(url)
            try:
                found = ", ".join(t.log_type.label for t in source.logs.values())
                text = f"Connected to {source.display_name}. Logs found: {found}."
                if source.business_units:
                    text += f" Business units: {len(source.business_units)}."
                if source.problems:
                    text += " Cannot be shown: " + "; ".join(source.problems.values())
                return text
            finally:
                source.close()

        self._test = self._runner.submit(
            "test connection",
            work,
            done=self._on_test_succeeded,
            failed=lambda e: self._on_test_failed(redact(str(e), url)),
        )

    def _on_test_succeeded(self, text: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self._show_result(text, _OK_STYLE)
        self.testFinished.emit(True, text)

    def _on_test_failed(self, message: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        text = f"Could not connect: {message}"
        self._show_result(text, _ERROR_STYLE)
        self.testFinished.emit(False, text)

    def _show_result(self, text: str, style: str) -> None:
        self.test_result.setStyleSheet(style)
        self.test_result.setText(text)

    # -- slots -------------------------------------------------------------------------------------

    def _on_backend_changed(self, label: str) -> None:
        scheme, port = BACKENDS[label]
        defaults = {p for _s, p in BACKENDS.values()}
        if self.port.value() in defaults:
            self.port.setValue(port)
        self.form.setRowVisible(self.schema, scheme == "postgresql")

    def _on_field_changed(self, *_args: object) -> None:
        ready = bool(self.host.text().strip() and self.database.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)
        self.test_button.setEnabled(ready and self._test is None)

    def _on_test_clicked(self) -> None:
        self.test_connection()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def shutdown(self) -> None:
        """Drop a running test; end the dialog's own worker thread if it has one."""
        if self._test is not None:
            self._test.cancel()
            self._test = None
        if self._own_runner:
            self._runner.shutdown()
