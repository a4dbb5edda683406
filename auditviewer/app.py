"""Starting the program: ``auditviewer [SOURCE ...] [--demo]``.

:func:`create_main_window` (from the main window's module) builds the window
without running the event loop (tests use it); :func:`main` adds the command
line, the application object, logging to a rotating file and the handler for
errors nobody caught.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol, cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QFileOpenEvent, QIcon
from PySide6.QtWidgets import QApplication

from auditviewer import APP_NAME, ORG_NAME, __version__
from auditviewer.data.secrets import RedactingFormatter
from auditviewer.qt.models.settings import Settings, demo_path, log_dir, set_application_names
from auditviewer.qt.widgets.main_window import MainWindow, create_main_window
from auditviewer.qt.widgets.msgbox import show_error
from auditviewer.resources import resource_path

log = logging.getLogger(__name__)

LOG_FILE = "auditviewer.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="View exported audit-log databases (SQLite files or server URLs), read-only."
    )
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="a SQLite file, or a URL such as postgresql://user@host/db?schema=logs",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the demo database (created in your data folder on first use)"
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="check that this installation works (offscreen) and exit 0, or print what failed",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def configure_logging(
    folder: Path | None = None, level: int = logging.INFO, console: bool = True
) -> list[logging.Handler]:
    """Log to a rotating file in the user's data folder, and to stderr when there is one.

    A windowed build has no stderr (``sys.stderr`` is None). Returns the handlers added.
    """
    root = logging.getLogger()
    formatter = RedactingFormatter(LOG_FORMAT)  # no password reaches the log, not even in a traceback
    handlers: list[logging.Handler] = []
    try:
        folder = folder or log_dir()
        file_handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handlers.append(file_handler)
    except OSError as exc:  # a read-only profile must not stop the program
        if sys.stderr is not None:
            sys.stderr.write(f"{APP_NAME}: cannot write the log file: {exc}\n")
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handlers


def _excepthook(
    window: MainWindow | None,
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        log.critical("unexpected error", exc_info=(kind, value, tb))
        if QApplication.instance() is not None:
            show_error(
                window,
                "Unexpected error",
                f"Something went wrong: {value}\n\nThe details are in the log file in "
                f"{log_dir()}. You can keep working; if this repeats, restart {APP_NAME} "
                "and send the log file to support.",
                details,
            )

    return hook


def _run_event_loop(app: QApplication) -> int:
    return app.exec()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version or a usage error, already printed
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2

    if args.selftest:
        from auditviewer import selftest

        handlers = configure_logging(console=False)  # the self-test prints its own lines
        try:
            return selftest.run()
        finally:
            _remove_handlers(handlers)

    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    # macOS hands files opened from Finder over as events, not arguments.
    file_opens = FileOpenEvents(app)
    app.installEventFilter(file_opens)
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    set_application_names()
    handlers = configure_logging()
    log.info("%s %s starting", APP_NAME, __version__)
    try:
        app.setWindowIcon(QIcon(str(resource_path("icons", "app.svg"))))
    except FileNotFoundError as exc:
        log.warning("%s", exc)

    previous_hook = sys.excepthook
    try:
        window = create_main_window(args.sources, Settings())
        file_opens.deliver_to(window)
        sys.excepthook = _excepthook(window)
        window.show()
        if args.demo:
            window.open_demo(demo_path())
        return _run_event_loop(app)
    finally:
        sys.excepthook = previous_hook
        app.removeEventFilter(file_opens)
        log.info("%s exiting", APP_NAME)
        _remove_handlers(handlers)


def _remove_handlers(handlers: list[logging.Handler]) -> None:
    for handler in handlers:
        logging.getLogger().removeHandler(handler)
        handler.close()


class OpensSources(Protocol):
    """What files handed over by the desktop are opened in (the main window)."""

    def open_source(self, spec: str) -> object: ...


class FileOpenEvents(QObject):
    """Opens files handed over by the desktop (macOS Finder) as QFileOpenEvents.

    Events that arrive before the window exists are kept and opened once it does.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window: OpensSources | None = None
        self._pending: list[str] = []

    def deliver_to(self, window: OpensSources) -> None:
        self._window = window
        pending, self._pending = self._pending, []
        for path in pending:
            window.open_source(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen:
            path = event.file() if isinstance(event, QFileOpenEvent) else ""
            if path:
                if self._window is None:
                    self._pending.append(path)
                else:
                    self._window.open_source(path)
                return True
        return super().eventFilter(watched, event)
