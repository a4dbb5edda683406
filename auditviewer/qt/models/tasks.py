"""Database work off the GUI thread.

A :class:`TaskRunner` is one lane: a single worker thread that runs tasks in
order, so one lane never holds two queries on a connection at once. Each task
gets a :class:`CancelToken`; its result (or error) comes back to the GUI
thread through a queued signal, and is dropped if the task was cancelled in
the meantime: a superseded result is never shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import QueryCancelled

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Task:
    name: str
    token: CancelToken = field(default_factory=CancelToken)
    started: float = 0.0
    elapsed: float = 0.0
    future: Future | None = None

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


class TaskRunner(QObject):
    """One worker thread; ``submit`` work, get the outcome back on the GUI thread."""

    _delivered = Signal(object)
    #: How many tasks are queued or running, for a busy indicator.
    busyChanged = Signal(int)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(1, thread_name_prefix=f"db-{name}")
        self._pending: set[Task] = set()
        self._delivered.connect(self._on_delivered)

    @property
    def busy(self) -> int:
        return len(self._pending)

    def submit(
        self,
        name: str,
        work: Callable[[CancelToken], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> Task:
        """Run ``work(token)`` on the lane; then ``done(result)`` or ``failed(error)`` on the GUI thread.

        Neither is called for a task that was cancelled.
        """
        task = Task(name)
        if self._executor is None:
            task.cancel()
            return task
        self._pending.add(task)
        self.busyChanged.emit(len(self._pending))

        def run() -> None:
            outcome: tuple[Any, BaseException | None]
            task.started = time.perf_counter()
            try:
                task.token.raise_if_cancelled()
                outcome = (work(task.token), None)
            except QueryCancelled as exc:
                outcome = (None, exc)
            except Exception as exc:  # reported to the GUI thread, which decides what to show
                outcome = (None, exc)
            task.elapsed = time.perf_counter() - task.started
            self._delivered.emit((task, done, failed, outcome))

        task.future = self._executor.submit(run)
        return task

    def _on_delivered(self, payload: tuple) -> None:
        task, done, failed, (result, error) = payload
        self._pending.discard(task)
        self.busyChanged.emit(len(self._pending))
        if task.cancelled or isinstance(error, QueryCancelled):
            return
        if error is not None:
            if failed is not None:
                failed(error)
            else:
                log.error("background task %s failed", task.name, exc_info=error)
            return
        if done is not None:
            done(result)

    def cancel_all(self) -> None:
        for task in list(self._pending):
            task.cancel()

    def shutdown(self) -> None:
        """Cancel everything and wait for the worker thread to end."""
        self.cancel_all()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
