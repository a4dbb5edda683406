"""Opening sources: files now, servers and the demo database in the background.

Server connections and the demo database are made on background lanes behind a
progress dialog with Cancel; an opened source goes into the window's
:class:`~auditviewer.qt.models.open_sources.OpenSources`, which keeps and closes it.
This module also keeps File > Open Recent and reads dropped files.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QProgressDialog

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError, QueryCancelled, SchemaError
from auditviewer.data.secrets import is_url, mask_url, redact, source_key
from auditviewer.data.source import Source, open_source
from auditviewer.data.sqlitefile import How, plan_open
from auditviewer.qt.models.open_sources import OpenSources
from auditviewer.qt.models.plaintext import button_text, plain_tooltip
from auditviewer.qt.models.settings import Settings, demo_path
from auditviewer.qt.models.tasks import TaskRunner
from auditviewer.qt.widgets.connect_dialog import ConnectDialog
from auditviewer.qt.widgets.msgbox import show_error

log = logging.getLogger(__name__)

FILE_FILTER = "Log databases (*.db *.sqlite *.sqlite3 *.db3);;All files (*)"
#: A file needing a private copy at least this big opens in the background, behind a progress dialog.
BACKGROUND_COPY_BYTES = 32 * 1024 * 1024


def _open_hint(exc: BaseException, server: bool) -> str:
    """What the user can do about a source that would not open."""
    text = str(exc)
    if isinstance(exc, SchemaError):
        return (
            "Open a database exported from the Auditing section: it holds tables such as "
            "panel_logs, api_logs, sms_logs or user_logins."
        )
    if server:
        return (
            "Check the host, port, database, user and password, and that the server accepts "
            "connections from this computer."
        )
    if "no such file" in text:
        return "The file may have been moved or deleted; choose it again with File > Open."
    if "damaged" in text:
        return "Ask for a fresh export of the logs: this copy is incomplete or corrupted."
    return (
        "Choose the database file exported from the Auditing section, or use File > Connect to "
        "server for logs kept on PostgreSQL or MySQL."
    )


def _is_server(spec: str) -> bool:
    return is_url(spec) and not spec.lower().startswith("sqlite")


def _needs_a_big_copy(spec: str) -> bool:
    """Whether the file can only be read right through a private copy (sqlitefile.py), and a big one."""
    if is_url(spec):
        return False
    path = Path(spec)
    try:
        return plan_open(path).how is How.SNAPSHOT and path.stat().st_size >= BACKGROUND_COPY_BYTES
    except (AuditViewerError, OSError):
        return False  # opened the ordinary way, which says what is wrong


def display(spec: str) -> str:
    """How a source is named in messages: the file name, or the URL without password."""
    if is_url(spec):
        return mask_url(spec)
    return Path(spec).name or spec


def local_files(urls: list[Any]) -> list[str]:
    """The local files among dropped URLs."""
    return [url.toLocalFile() for url in urls if url.isLocalFile() and url.toLocalFile()]


class _Opening:
    """A server connection being made in the background."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.abandoned = False
        self.result: Source | None = None
        self.lock = threading.Lock()
        self.dialog: QProgressDialog | None = None


class SourceOpener(QObject):
    """Opens sources into ``sources``, which then owns them; owns the opening and demo lanes."""

    _demoProgress = Signal(int, int)

    def __init__(self, window: QMainWindow, sources: OpenSources, settings: Settings, recent_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window  # parent of the dialogs; its status bar tells how opening went
        self.sources = sources
        self.settings = settings
        self.recent_menu = recent_menu
        #: The connect dialog while it is shown.
        self.connect_dialog: ConnectDialog | None = None
        self._openings: list[_Opening] = []
        self.runner = TaskRunner("open", window)
        self._demo_runner: TaskRunner | None = None
        self._demo_cancel = threading.Event()
        self._demo_dialog: QProgressDialog | None = None
        self._demoProgress.connect(self._on_demo_progress)

    # -- opening ----------------------------------------------------------------------------------

    def open_source(self, spec: str | os.PathLike[str]) -> Source | None:
        """Open a SQLite file (now) or a server URL (in the background; returns None).

        A source that fails to open is reported through the error box, naming it.
        """
        spec = os.fspath(spec)
        if _is_server(spec):
            self._open_in_background(spec)
            return None
        already = self.sources.get(source_key(spec))
        if already is not None:
            self.sources.select(already.key)
            return already
        if _needs_a_big_copy(spec):  # minutes, maybe: not on the GUI thread
            self._open_in_background(spec)
            return None
        try:
            source = open_source(spec)
        except Exception as exc:
            self._report_open_failure(spec, exc)
            return None
        existing = self.sources.get(source.key)
        if existing is not None:  # the same file by another name (a sqlite:// URL)
            source.close()
            self.sources.select(source.key)
            return existing
        return self._adopt(source, spec)

    def _adopt(self, source: Source, spec: str) -> Source:
        """Remember an opened source in File > Open Recent, then hand it to the window's list."""
        self.settings.add_recent_source(spec)
        self.rebuild_recent_menu()
        if source.path is not None:
            self.settings.set_last_folder(str(source.path.parent))
        return self.sources.add(source)

    def choose_files(self) -> None:
        """Ask for database files and open each."""
        paths, _ = QFileDialog.getOpenFileNames(
            self.window, "Open log database", self.settings.last_folder(), FILE_FILTER
        )
        for path in paths:
            self.open_source(path)

    def _report_open_failure(self, spec: str, exc: BaseException) -> None:
        server = _is_server(spec)
        name = display(spec)
        details = None
        if isinstance(exc, AuditViewerError):
            message = redact(str(exc), spec)
        else:  # a bug or a driver surprise: say so, keep the traceback for the log
            message = f"{name} could not be opened: {redact(str(exc) or type(exc).__name__, spec)}"
            details = redact("".join(traceback.format_exception(exc)), spec)
        message += "\n\n" + _open_hint(exc, server)
        settings = self.settings
        if not server and "no such file" in str(exc) and source_key(spec) in settings.recent_sources():
            settings.remove_recent_source(spec)
            self.rebuild_recent_menu()
            message += " It has been removed from File > Open Recent."
        show_error(self.window, f"Cannot open {name}", message, details)

    def _open_in_background(self, spec: str) -> None:
        opening = _Opening(spec)
        name = display(spec)
        # The dialog's label guesses rich text as a tooltip does: the URL is the user's text, shown as such.
        dialog = QProgressDialog(plain_tooltip(f"Connecting to {name}…"), "Cancel", 0, 0, self.window)
        dialog.setObjectName("connectProgress")
        dialog.setWindowTitle("Connecting")
        if not _is_server(spec):  # a file that needs a private copy first
            dialog.setWindowTitle("Opening")
            dialog.setLabelText(plain_tooltip(f"Opening {name}: making a private copy to read it safely…"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda: self._abandon(opening))
        opening.dialog = dialog
        self._openings.append(opening)

        def work(_token: CancelToken) -> Source:
            source = open_source(spec)
            with opening.lock:
                if opening.abandoned:
                    source.close()
                    raise QueryCancelled("connecting was cancelled")
                opening.result = source
            return source

        self.runner.submit(
            f"open {name}",
            work,
            done=lambda source: self._on_opened(opening, source),
            failed=lambda exc: self._on_open_failed(opening, exc),
        )

    def _abandon(self, opening: _Opening) -> None:
        with opening.lock:
            opening.abandoned = True
            source, opening.result = opening.result, None
        if source is not None:
            source.close()
        self._end_opening(opening)
        self.window.statusBar().showMessage(f"Stopped connecting to {display(opening.spec)}", 5000)

    def _end_opening(self, opening: _Opening) -> None:
        if opening in self._openings:
            self._openings.remove(opening)
        if opening.dialog is not None:
            opening.dialog.canceled.disconnect()
            opening.dialog.close()
            opening.dialog.deleteLater()
            opening.dialog = None

    def _on_opened(self, opening: _Opening, source: Source) -> None:
        with opening.lock:
            abandoned, opening.result = opening.abandoned, None
        self._end_opening(opening)
        if abandoned:
            source.close()
            return
        if source.key in self.sources:
            source.close()
            self.sources.select(source.key)
            return
        self._adopt(source, opening.spec)

    def _on_open_failed(self, opening: _Opening, exc: BaseException) -> None:
        abandoned = opening.abandoned
        self._end_opening(opening)
        if not abandoned:
            self._report_open_failure(opening.spec, exc)

    def opening(self) -> bool:
        """Whether a server connection is still being made."""
        return bool(self._openings)

    # -- servers and recent sources ----------------------------------------------------------------

    def connect_to_server(self, url: str | None = None) -> ConnectDialog:
        """Show the connect dialog (not blocking); accepting it opens the server source."""
        if url is None:
            url = next((s for s in self.settings.recent_sources() if _is_server(s)), None)
        dialog = ConnectDialog(self.window, url, runner=self.runner)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_connect_accepted)
        self.connect_dialog = dialog
        dialog.open()
        return dialog

    def _on_connect_accepted(self) -> None:
        dialog, self.connect_dialog = self.connect_dialog, None
        if dialog is not None:
            self.open_source(dialog.url())

    def open_recent(self, spec: str) -> None:
        if _is_server(spec):
            self.connect_to_server(spec)  # the password was not kept: ask for it
        else:
            self.open_source(spec)

    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_sources()
        for n, spec in enumerate(recent, start=1):
            if is_url(spec):
                spec = label = mask_url(spec)  # stored masked; a list written by an older version may not be
            else:
                path = Path(spec)
                label = f"{path.name}  ({path.parent})"
            prefix = f"&{n % 10} " if n <= 10 else ""
            action = menu.addAction(prefix + button_text(label))
            action.setToolTip(plain_tooltip(spec))
            action.setData(spec)
            action.triggered.connect(self._on_recent_triggered)
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list", self._on_clear_recent_triggered)
        else:
            menu.addAction("No recent sources").setEnabled(False)

    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_recent(str(action.data()))

    def _on_clear_recent_triggered(self) -> None:
        self.settings.clear_recent_sources()
        self.rebuild_recent_menu()

    # -- the demo database ----------------------------------------------------------------------------

    def open_demo(self, path: str | os.PathLike[str] | None = None, rows: int = 200_000) -> None:
        """Open the demo database, creating it first (in the background, with Cancel) if missing."""
        from auditviewer.data.demo import DemoCancelled, create_demo

        window = self.window
        target = Path(path) if path is not None else demo_path()
        if target.exists():
            self.open_source(target)
            return
        if self._demo_runner is not None:
            return  # already being made
        self._demo_cancel.clear()
        dialog = QProgressDialog("Creating the demo database…", "Cancel", 0, 0, window)
        dialog.setObjectName("demoProgress")
        dialog.setWindowTitle("Demo database")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self._on_demo_canceled)
        self._demo_dialog = dialog
        dialog.show()
        self._demo_runner = TaskRunner("demo", window)

        def work(_token: CancelToken) -> Path:
            return create_demo(target, rows=rows, progress=self._demoProgress.emit, cancelled=self._demo_cancel.is_set)

        def failed(exc: BaseException) -> None:
            self._end_demo()
            if isinstance(exc, DemoCancelled):
                window.statusBar().showMessage("Creating the demo database was cancelled", 5000)
                return
            show_error(
                window,
                "Cannot create the demo database",
                f"{exc}\n\nCheck that {target.parent} is writable and has free space.",
                "".join(traceback.format_exception(exc)),
            )

        def done(created: Path) -> None:
            self._end_demo()
            self.open_source(created)

        self._demo_runner.submit("create demo", work, done=done, failed=failed)

    def demo_running(self) -> bool:
        return self._demo_runner is not None

    def _on_demo_progress(self, done: int, total: int) -> None:
        if self._demo_dialog is not None and not self._demo_cancel.is_set():
            self._demo_dialog.setMaximum(total)
            self._demo_dialog.setValue(min(done, total))

    def _on_demo_canceled(self) -> None:
        self._demo_cancel.set()
        if self._demo_dialog is not None:
            self._demo_dialog.setLabelText("Cancelling…")

    def _end_demo(self) -> None:
        runner, self._demo_runner = self._demo_runner, None
        if runner is not None:
            runner.shutdown()  # the task has ended: this only joins the thread
            runner.deleteLater()
        if self._demo_dialog is not None:
            self._demo_dialog.canceled.disconnect()
            self._demo_dialog.close()
            self._demo_dialog.deleteLater()
            self._demo_dialog = None

    # -- shutdown -------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the demo and opening lanes; close whatever they opened too late."""
        self._demo_cancel.set()
        if self._demo_runner is not None:
            self._demo_runner.shutdown()
        for opening in list(self._openings):
            with opening.lock:
                opening.abandoned = True
        self.runner.shutdown()
        for opening in self._openings:
            if opening.result is not None:
                opening.result.close()
        self._openings.clear()
