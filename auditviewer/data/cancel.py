"""Cancelling a running query from another thread.

A :class:`CancelToken` is handed to a query; while the query runs, the token
knows its database connection, and ``cancel()`` interrupts it the way each
backend allows: ``sqlite3.Connection.interrupt()``, a PostgreSQL cancel
request, or ``KILL QUERY`` on a second MySQL connection. A connection that
was cancelled is thrown away rather than returned to the pool, so a late
interrupt can never hit somebody else's query.

A server ignores a cancel request that arrives before the statement it is
meant for, so on a server the request is sent again, less and less often,
for as long as the connection is still busy with the cancelled query.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Protocol, cast

import sqlalchemy as sa

from auditviewer.data.errors import QueryCancelled

log = logging.getLogger(__name__)


class _SqliteConnection(Protocol):
    """What is used of a sqlite3 connection."""

    def interrupt(self) -> None: ...
    def set_progress_handler(self, handler: Callable[[], object] | None, n: int, /) -> None: ...


class _PostgresConnection(Protocol):
    """What is used of a psycopg connection (psycopg 3.2 adds ``cancel_safe``)."""

    def cancel(self) -> None: ...


class _MysqlConnection(Protocol):
    """What is used of a PyMySQL connection."""

    def thread_id(self) -> int: ...


#: Waits between repeated cancel requests to a server, then every last one until the query ends.
RESEND_AFTER_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)


class CancelToken:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._interrupt: Callable[[], None] | None = None
        self._detached: threading.Event | None = None  # set when the attached query has ended

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            interrupt, detached = self._interrupt, self._detached
        if interrupt is None:
            return
        if detached is None:
            interrupt()  # SQLite: instant and thread-safe
        else:
            _in_background(lambda: _until_detached(interrupt, detached))

    def raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise QueryCancelled("the query was cancelled")

    @contextlib.contextmanager
    def attached(self, conn: sa.Connection) -> Iterator[None]:
        """While inside, ``cancel()`` interrupts whatever ``conn`` is running."""
        interrupt = _interrupter(conn)
        raw = cast(_SqliteConnection, conn.connection.dbapi_connection)  # used on SQLite only
        sqlite = conn.dialect.name == "sqlite"
        detached = None if sqlite else threading.Event()
        with self._lock:
            if self._cancelled:
                raise QueryCancelled("the query was cancelled")
            self._interrupt = interrupt
            self._detached = detached
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
                self._detached = None
                cancelled = self._cancelled
            if detached is not None:
                detached.set()
            if cancelled:
                with contextlib.suppress(Exception):
                    conn.invalidate()


def _interrupter(conn: sa.Connection) -> Callable[[], None]:
    """One interrupt of what ``conn`` runs now. On a server it needs the network: call it off the GUI thread."""
    raw = conn.connection.dbapi_connection
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return cast(_SqliteConnection, raw).interrupt  # thread-safe by design
    if dialect == "postgresql":
        cancel: Callable[[], None] = getattr(raw, "cancel_safe", None) or cast(_PostgresConnection, raw).cancel
        return cancel
    if dialect == "mysql":
        thread_id = cast(_MysqlConnection, raw).thread_id()
        url = conn.engine.url
        return lambda: _mysql_kill(conn.dialect, url, thread_id)
    return lambda: log.warning("cancelling is not supported on %s", dialect)


def _until_detached(interrupt: Callable[[], None], detached: threading.Event) -> None:
    """Send ``interrupt`` until the query ends: a request that overtook its statement is lost."""
    waits = iter(RESEND_AFTER_S)
    wait = 0.0
    while not detached.is_set():
        try:
            interrupt()
        except Exception:  # the query may have ended already; nothing to cancel
            log.debug("cancel request failed", exc_info=True)
        wait = next(waits, wait)
        if detached.wait(wait):
            return


def _in_background(action: Callable[[], None]) -> None:
    """Run a cancel that needs the network without holding up the caller (the GUI)."""

    threading.Thread(target=action, name="cancel-query", daemon=True).start()


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
