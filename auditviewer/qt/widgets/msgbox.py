"""The one way the window tells a user that something went wrong, or asks yes or no.

Every user-facing error goes through :func:`show_error`: it hides any password
the texts may quote, logs the details and shows a plain-text message box
without blocking (``open()``, never ``exec()``), so no code path, and no test,
waits on a modal loop. Tests read what was shown from :data:`shown`, or
replace :data:`hook`. A question (:func:`ask`) waits for its answer; tests
answer through :data:`ask_hook`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from auditviewer.data.secrets import redact
from auditviewer.qt.models.plaintext import window_title

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownMessage:
    title: str
    message: str
    details: str | None


#: The latest messages shown, oldest first (bounded: the program may run for days).
shown: deque[ShownMessage] = deque(maxlen=100)

#: When set, called instead of showing a box (the message is still logged and recorded).
hook: Callable[[QWidget | None, ShownMessage], None] | None = None

#: When set, :func:`ask` hands it the question box instead of running it, and returns its answer.
ask_hook: Callable[[QMessageBox], bool] | None = None


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> QMessageBox | None:
    """Log the error and show it in a non-blocking, plain-text message box.

    ``message`` says what happened and what to do; ``details`` (a traceback or
    the driver's full text) goes to the log and behind "Show Details...".
    """
    title, message = redact(title), redact(message)
    details = redact(details) if details else details
    entry = ShownMessage(title, message, details)
    shown.append(entry)
    if details:
        log.error("%s: %s\n%s", title, message, details)
    else:
        log.error("%s: %s", title, message)
    if hook is not None:
        hook(parent, entry)
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, window_title(title), message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote data and file names: never markup
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if details:
        box.setDetailedText(details)
    box.open()
    return box


def ask(parent: QWidget | None, title: str, question: str) -> bool:
    """Ask a yes/no question in a plain-text box (it may quote a view's or a file's name); True for Yes."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        window_title(title),
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setObjectName("questionBox")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    try:
        if ask_hook is not None:
            return ask_hook(box)
        return box.exec() == QMessageBox.StandardButton.Yes
    finally:
        box.deleteLater()
