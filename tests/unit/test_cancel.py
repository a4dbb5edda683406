"""Cancelling a running query: it stops at once, and the source keeps working."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.filters import Filter
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row

# Each runs for half a minute or more on this machine when left alone. The MariaDB one
# uses its SEQUENCE engine (seq_1_to_N tables); MySQL proper has no such tables.
HEAVY = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
    "SELECT count(*) FROM c",
    "postgresql": "SELECT count(*) FROM (SELECT generate_series(1, 2000000000)) AS heavy",
    "mysql": "SELECT sum(a.seq * b.seq) FROM seq_1_to_100000 AS a, seq_1_to_10000 AS b",
}
MEDIUM = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*) FROM c",
    "postgresql": "SELECT count(*) FROM generate_series(1, 100000)",
    "mysql": "SELECT count(*) FROM seq_1_to_100000",
}
PROMPT_S = 2  # a cancelled query must end within this


@pytest.fixture
def source(db: DbFactory) -> Iterator[Source]:
    with open_source(db.create({"api": [api_row(i) for i in range(1, 6)]})) as src:
        yield src


def _statements_started(source: Source, marker: str) -> threading.Event:
    """An event set when a statement containing ``marker`` is sent to the database."""
    started = threading.Event()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if marker in statement:
            started.set()

    sa.event.listen(source.engine, "before_cursor_execute", before)
    return started


def _run_in_thread(query: LogQuery, statement: str, token: CancelToken) -> tuple[threading.Thread, dict]:
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = query.run(sa.text(statement), lambda r: r.scalar(), token)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="heavy-query", daemon=True)
    thread.start()
    return thread, outcome


def test_cancel_interrupts_a_running_query(source: Source) -> None:
    statement = HEAVY[source.dialect]
    started = _statements_started(source, statement[:20])
    query = LogQuery(source.log("api"))
    token = CancelToken()
    thread, outcome = _run_in_thread(query, statement, token)
    assert started.wait(10), "the heavy query never started"

    cancelled_at = time.monotonic()
    token.cancel()
    thread.join(PROMPT_S)
    assert not thread.is_alive(), f"the query still ran {PROMPT_S} s after cancel()"
    assert time.monotonic() - cancelled_at < PROMPT_S
    assert isinstance(outcome.get("error"), QueryCancelled), outcome
    # The source still answers, on a fresh connection.
    assert query.count() == 5
    assert LogQuery(source.log("api")).first(2).rows


def test_cancel_as_the_statement_is_sent_still_stops_it(source: Source) -> None:
    """A cancel that lands before the database starts the statement must not be lost.

    SQLite's interrupt() is forgotten when nothing runs yet; a PostgreSQL cancel
    request or a MySQL KILL QUERY that reaches the server before the statement
    does is ignored by the server. Either way the query must still stop.
    """
    token = CancelToken()
    statement = HEAVY[source.dialect]

    def cancel_now(_conn: Any, _cursor: Any, sent: str, *_args: Any) -> None:
        if sent == statement:
            token.cancel()  # the interrupt leaves while nothing runs yet

    sa.event.listen(source.engine, "before_cursor_execute", cancel_now)
    query = LogQuery(source.log("api"))
    thread, outcome = _run_in_thread(query, statement, token)
    thread.join(PROMPT_S)
    assert not thread.is_alive(), "the cancel was lost: the query runs on"
    assert isinstance(outcome.get("error"), QueryCancelled), outcome
    sa.event.remove(source.engine, "before_cursor_execute", cancel_now)
    assert query.count() == 5


def test_cancelled_token_stops_before_anything_runs(source: Source) -> None:
    sent: list[str] = []
    sa.event.listen(source.engine, "before_cursor_execute", lambda _c, _cu, stmt, *_a: sent.append(stmt))
    query = LogQuery(source.log("api"), Filter(search="item"))
    token = CancelToken()
    token.cancel()
    assert token.cancelled
    for call in (
        lambda: query.count(token),
        lambda: query.first(10, token),
        lambda: query.facets("status", token=token),
        lambda: list(query.iter_rows(token)),
        lambda: query.key_samples(2, token),
    ):
        with pytest.raises(QueryCancelled, match="the query was cancelled"):
            call()
    assert sent == []
    # Another token is not affected.
    assert query.count(CancelToken()) == 5


def test_a_late_cancel_disturbs_nothing(source: Source) -> None:
    """Cancelling a token whose query has ended must not touch the pooled connection's next query."""
    query = LogQuery(source.log("api"))
    token = CancelToken()
    assert query.count(token) == 5
    token.cancel()  # nothing runs now: nothing to interrupt, nothing raised
    medium = sa.text(MEDIUM[source.dialect])  # long enough for SQLite's progress checks to run many times
    for _ in range(2):
        with source.engine.connect() as conn:  # code that reads without a token
            assert conn.execute(medium).scalar() == 100_000
        assert query.run(medium, lambda r: r.scalar()) == 100_000
    assert query.first(10).rows == query.first(10, CancelToken()).rows
