"""Cancelling a running query from another thread.

A :class:`CancelToken` is handed to a query; while the query runs, the token
knows its database connection, and ``cancel()`` interrupts it the way each
backend allows: ``sqlite3.Connection.interrupt()``, a PostgreSQL cancel
request, or ``KILL QUERY`` on a second MySQL connection. A connection that
was cancelled is thrown away rather than returned to the pool, so a late
interrupt can never hit somebody else's query.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from auditviewer.data.errors import QueryCancelled

log = logging.getLogger(__name__)


class CancelToken:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._interrupt: Callable[[], None] | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            interrupt = self._interrupt
        if interrupt is not None:
            interrupt()

    def raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise QueryCancelled("the query was cancelled")

    @contextlib.contextmanager
    def attached(self, conn: sa.Connection) -> Iterator[None]:
        """While inside, ``cancel()`` interrupts whatever ``conn`` is running."""
        interrupt = _interrupter(conn)
        with self._lock:
            if self._cancelled:
                raise QueryCancelled("the query was cancelled")
            self._interrupt = interrupt
        raw = conn.connection.dbapi_connection
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # sqlite3's interrupt() is lost when it lands before the statement's
            # first step; the progress handler sees the flag however late it runs.
            raw.set_progress_handler(lambda: self._cancelled, 10_000)
        try:
            yield
        finally:
            if sqlite:
                with contextlib.suppress(Exception):
                    raw.set_progress_handler(None, 0)
            with self._lock:
                self._interrupt = None
                cancelled = self._cancelled
            if cancelled:
                with contextlib.suppress(Exception):
                    conn.invalidate()


def _interrupter(conn: sa.Connection) -> Callable[[], None]:
    raw = conn.connection.dbapi_connection
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return raw.interrupt  # thread-safe by design
    if dialect == "postgresql":
        cancel = getattr(raw, "cancel_safe", None) or raw.cancel
        return lambda: _in_background(cancel)
    if dialect == "mysql":
        thread_id = raw.thread_id()
        url = conn.engine.url
        return lambda: _in_background(lambda: _mysql_kill(conn.dialect, url, thread_id))
    return lambda: log.warning("cancelling is not supported on %s", dialect)


def _in_background(action: Callable[[], None]) -> None:
    """Run a cancel that needs the network without holding up the caller (the GUI)."""

    def run() -> None:
        try:
            action()
        except Exception:  # the query may have ended already; nothing to cancel
            log.debug("cancel request failed", exc_info=True)

    threading.Thread(target=run, name="cancel-query", daemon=True).start()


def _mysql_kill(dialect: sa.Dialect, url: sa.URL, thread_id: int) -> None:
    import pymysql

    _args, kwargs = dialect.create_connect_args(url)
    kwargs.pop("init_command", None)
    kwargs["connect_timeout"] = 5
    killer = pymysql.connect(**kwargs)
    try:
        with killer.cursor() as cur:
            cur.execute("KILL QUERY %s", (int(thread_id),))
    finally:
        killer.close()
