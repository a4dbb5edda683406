"""The latest of a series of background computations: a chart, a facet list, an overview.

Each ``run`` supersedes the one before: its task is cancelled (the query
interrupted) and, should its result still arrive, it is dropped by its
generation number. Only the newest result or error reaches the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError
from auditviewer.qt.models.tasks import Task, TaskRunner

log = logging.getLogger(__name__)


class LatestResult(QObject):
    """Runs work on a lane; emits ``ready`` with the newest result only."""

    ready = Signal(object)
    #: A message for the user (the details are logged).
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._generation = 0
        self._task: Task | None = None

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def busy(self) -> bool:
        return self._task is not None

    def run(self, name: str, work: Callable[[CancelToken], Any]) -> int:
        """Start ``work``, cancelling what ran before; returns the new generation."""
        self.cancel(emit=False)
        self._generation += 1
        generation = self._generation
        self._task = self._runner.submit(
            name,
            work,
            done=lambda result: self._on_done(generation, result),
            failed=lambda exc: self._on_failed(generation, exc),
        )
        self.busyChanged.emit(True)
        return generation

    def cancel(self, emit: bool = True) -> None:
        """Stop the running work; its result, if any, will be dropped."""
        self._generation += 1
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if emit:
                self.busyChanged.emit(False)

    def _on_done(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return
        self._task = None
        self.busyChanged.emit(False)
        self.ready.emit(result)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._task = None
        self.busyChanged.emit(False)
        if isinstance(exc, AuditViewerError):
            message = str(exc)
        else:
            log.error("background work failed", exc_info=exc)
            message = f"{type(exc).__name__}: {exc}"
        self.failed.emit(message)
