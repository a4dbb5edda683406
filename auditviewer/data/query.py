"""Queries over one log: pages by keyset, counts, histograms, facets, streams.

Nothing here scans with OFFSET to reach a far row: the first page, the last
page (the same sort reversed) and the neighbours of any row already seen (a
keyset on the sort column and ``id``) all start from an index. Counting runs
apart from fetching rows, and every call takes a :class:`CancelToken`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import FilterError, QueryCancelled, SourceError
from auditviewer.data.filters import INT_MAX, Filter, Sort, validate, where_clause
from auditviewer.data.source import LogTable, describe_db_error
from auditviewer.data.sqltyping import AnyResult, AnySelect
from auditviewer.data.timestamps import UTC, parse_stored

log = logging.getLogger(__name__)
T = TypeVar("T")

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    """Rows in sort order, with the keyset key of each row."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    keys: list[Key]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    count: int


@dataclass(frozen=True)
class _SortPart:
    expr: ColumnElement[Any]
    descending: bool


class LogQuery:
    """A filter and a sort over one log table. Cheap to make; runs nothing until asked."""

    def __init__(
        self,
        table: LogTable,
        flt: Filter | None = None,
        sort: Sort | None = None,
        columns: Sequence[str] | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        self.table = table
        self.filter = flt or Filter()
        self.sort = sort or Sort(table.log_type.time_column, True)
        self.zone = zone
        validate(table, self.filter, self.sort, zone)
        names = list(columns) if columns else table.column_names
        self.columns = tuple(table.require_column(n).name for n in names)
        self._where: ColumnElement[Any] | None = None
        self._where_ready = False
        self._parts = self._sort_parts()

    # -- plumbing ---------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        return self.table.source.engine

    def run(self, stmt: sa.Executable, fetch: Callable[[AnyResult], T], token: CancelToken | None = None) -> T:
        """Run ``stmt`` (any statement about this log) and return what ``fetch`` makes of its result.

        ``token`` cancels it from another thread. Errors come back as the rest of
        the program knows them: :class:`QueryCancelled` or :class:`SourceError`.
        """
        token = token or CancelToken()
        with self._connection(token) as conn:
            return fetch(conn.execute(stmt))

    @contextlib.contextmanager
    def _connection(self, token: CancelToken) -> Iterator[sa.Connection]:
        """A connection that ``token`` can interrupt; the one place a driver's error is translated."""
        token.raise_if_cancelled()
        try:
            with self.engine.connect() as conn, token.attached(conn):
                yield conn
        except sa.exc.DBAPIError as exc:
            if token.cancelled:
                raise QueryCancelled("the query was cancelled") from exc
            raise SourceError(f"{self.table.source.display_name}: {describe_db_error(exc)}") from exc

    def where(self, token: CancelToken | None = None) -> ColumnElement[Any] | None:
        """The WHERE clause; resolves "last N days" against the newest row once."""
        if not self._where_ready:
            newest = self.newest(token) if self.filter.last is not None else None
            self._where = where_clause(self.table, self.filter, newest, self.zone)
            self._where_ready = True
        return self._where

    def newest(self, token: CancelToken | None = None) -> datetime | None:
        time = self.table.sa_column(self.table.log_type.time_column)
        value = self.run(sa.select(sa.func.max(time)), lambda r: r.scalar(), token)
        value = parse_stored(value)
        return value if isinstance(value, datetime) else None

    def _sort_parts(self) -> list[_SortPart]:
        column = self.table.column(self.sort.column)
        assert column is not None
        id_name = self.table.log_type.id_column
        desc = self.sort.descending
        parts: list[_SortPart] = []
        if column.name != id_name:
            raw = self.table.raw_column(column.name)
            if column.nullable:
                # NULLs last when ascending, first when descending, on every backend.
                # Also when the column is indexed: _past needs this flag to step over NULL keys.
                parts.append(_SortPart(sa.case((raw.is_(None), 1), else_=0), desc))
            parts.append(_SortPart(raw, desc))
        id_raw = self.table.raw_column(id_name)
        tiebreak = self.table.tiebreak
        if tiebreak is not None and self.table.id.nullable:  # id is no key here: NULL ids step like NULL dates
            parts.append(_SortPart(sa.case((id_raw.is_(None), 1), else_=0), desc))
        parts.append(_SortPart(id_raw, desc))
        if tiebreak is not None:
            parts.append(_SortPart(sa.literal_column(tiebreak), desc))
        return parts

    def _select(self, token: CancelToken | None, reverse: bool = False, keys: bool = True) -> AnySelect:
        cols = [self.table.sa_column(n).label(n) for n in self.columns]
        if keys:
            cols += [p.expr.label(f"_k{i}") for i, p in enumerate(self._parts)]
        stmt = self._narrowed(sa.select(*cols).select_from(self.table.table), token)
        order = []
        for part in self._parts:
            descending = part.descending != reverse
            order.append(part.expr.desc() if descending else part.expr.asc())
        return stmt.order_by(*order)

    def _page(self, stmt: AnySelect, token: CancelToken | None, reverse: bool = False) -> Page:
        width = len(self.columns)

        def fetch(result: AnyResult) -> Page:
            rows, keys = [], []
            for row in result:
                rows.append(tuple(row[:width]))
                keys.append(tuple(row[width:]))
            if reverse:
                rows.reverse()
                keys.reverse()
            return Page(self.columns, rows, keys)

        return self.run(stmt, fetch, token)

    def _past(self, key: Key, reverse: bool) -> ColumnElement[Any]:
        """Rows strictly after ``key`` in sort order (before it when ``reverse``)."""
        parts = list(zip(self._parts, key, strict=True))
        # A NULL sort value: the NULL flag before it already ties, so compare on the rest.
        parts = [(p, v) for p, v in parts if v is not None]
        options: list[ColumnElement[bool]] = []
        equal: list[ColumnElement[bool]] = []
        for part, value in parts:
            forward = part.descending == reverse  # ascending in the walking direction
            options.append(sa.and_(*equal, part.expr > value if forward else part.expr < value))
            equal.append(part.expr == value)
        clause = sa.or_(*options)
        lead, value = parts[0]
        if len(parts) > 1 and not isinstance(lead.expr, sa.Case):
            # The leading bound alone lets an index on the sort column find the start.
            forward = lead.descending == reverse
            clause = sa.and_(lead.expr >= value if forward else lead.expr <= value, clause)
        return clause

    # -- pages --------------------------------------------------------------------

    def statement(
        self, n: int, *, reverse: bool = False, past: Key | None = None, token: CancelToken | None = None
    ) -> AnySelect:
        """The SELECT of a page of ``n`` rows: the first ones, or the first past the row whose key is ``past``.

        ``reverse`` walks from the end (``past``: rows before that row), newest
        first for a log sorted oldest first. :meth:`first`, :meth:`last`,
        :meth:`after` and :meth:`before` run it; it is public so the SQL can be
        shown or timed as it is (benchmarks).
        """
        stmt = self._select(token, reverse=reverse)
        if past is not None:
            stmt = stmt.where(self._past(past, reverse=reverse))
        return stmt.limit(n)

    def first(self, n: int, token: CancelToken | None = None) -> Page:
        return self._page(self.statement(n, token=token), token)

    def last(self, n: int, token: CancelToken | None = None) -> Page:
        return self._page(self.statement(n, reverse=True, token=token), token, reverse=True)

    def after(self, key: Key, n: int, token: CancelToken | None = None, skip: int = 0) -> Page:
        stmt = self.statement(n, past=key, token=token)
        return self._page(stmt.offset(skip) if skip else stmt, token)

    def before(self, key: Key, n: int, token: CancelToken | None = None, skip: int = 0) -> Page:
        stmt = self.statement(n, reverse=True, past=key, token=token)
        return self._page(stmt.offset(skip) if skip else stmt, token, reverse=True)

    def at(
        self,
        offset: int,
        n: int,
        token: CancelToken | None = None,
        anchor: tuple[int, Key] | None = None,
        total: int | None = None,
    ) -> Page:
        """Rows from position ``offset``, walking from the nearest known place.

        ``anchor`` is a row already seen (its position and key); ``total`` lets
        a position near the end walk back from the last row instead.
        """
        offset = max(0, offset)
        candidates: list[tuple[int, str]] = [(offset, "start")]
        # An anchor inside the wanted rows cannot serve: walking from it skips it.
        if anchor is not None and not offset <= anchor[0] < offset + n:
            distance = offset - anchor[0]
            candidates.append((abs(distance) + (n if distance < 0 else 0), "anchor"))
        if total is not None:
            candidates.append((max(0, total - offset - n), "end"))
        _, origin = min(candidates)
        if origin == "anchor":
            assert anchor is not None
            position, key = anchor
            if offset > position:
                return self.after(key, n, token, skip=offset - position - 1)
            # Walk back: the rows offset..offset+n-1 end (position - offset - n) rows before the anchor.
            return self.before(key, n, token, skip=position - offset - n)
        if origin == "end":
            assert total is not None
            count = min(n, total - offset)
            stmt = self._select(token, reverse=True).limit(count)
            skip = total - offset - count
            return self._page(stmt.offset(skip) if skip else stmt, token, reverse=True)
        stmt = self._select(token).limit(n)
        return self._page(stmt.offset(offset) if offset else stmt, token)

    def key_samples(self, step: int, token: CancelToken | None = None) -> list[Key]:
        """Keys of the rows at positions step-1, 2*step-1, ... for jumping into the middle."""
        order = [p.expr.desc() if p.descending else p.expr.asc() for p in self._parts]
        keys = [p.expr.label(f"_k{i}") for i, p in enumerate(self._parts)]
        inner = sa.select(*keys, sa.func.row_number().over(order_by=order).label("_rn")).select_from(self.table.table)
        sub = self._narrowed(inner, token).subquery()
        stmt = (
            sa.select(*[sub.c[f"_k{i}"] for i in range(len(self._parts))])
            .where(sub.c["_rn"] % step == 0)
            .order_by(sub.c["_rn"])
        )
        return self.run(stmt, lambda r: [tuple(row) for row in r], token)

    # -- counts ---------------------------------------------------------------------

    def _narrowed(self, stmt: AnySelect, token: CancelToken | None) -> AnySelect:
        """``stmt`` with the filter's WHERE clause, if there is one."""
        where = self.where(token)
        return stmt.where(where) if where is not None else stmt

    def count(self, token: CancelToken | None = None) -> int:
        """The exact number of rows; can take seconds on a big table, so run it apart."""
        stmt = self._narrowed(sa.select(sa.func.count()).select_from(self.table.table), token)
        return int(self.run(stmt, lambda r: r.scalar() or 0, token))

    def count_capped(self, cap: int, token: CancelToken | None = None) -> tuple[int, bool]:
        """Count up to ``cap`` rows: (count, exact). Cheap, for the first moment."""
        ids = sa.select(sa.literal(1).label("one")).select_from(self.table.table)
        sub = self._narrowed(ids, token).limit(cap + 1).subquery()
        n = int(self.run(sa.select(sa.func.count()).select_from(sub), lambda r: r.scalar() or 0, token))
        return (cap, False) if n > cap else (n, True)

    def time_range(self, token: CancelToken | None = None) -> tuple[datetime | None, datetime | None]:
        """Oldest and newest time of the filtered rows."""
        time = self.table.sa_column(self.table.log_type.time_column)
        # Two subqueries: SQLite answers a lone min() or max() from the index ends,
        # but reads the whole index for min() and max() in one SELECT.
        ends = [
            self._narrowed(sa.select(func(time)).select_from(self.table.table), token).scalar_subquery()
            for func in (sa.func.min, sa.func.max)
        ]
        low, high = self.run(sa.select(*ends), lambda r: r.one(), token)
        low, high = parse_stored(low), parse_stored(high)
        return (low if isinstance(low, datetime) else None, high if isinstance(high, datetime) else None)

    # -- charts and facets ------------------------------------------------------------

    def histogram(
        self,
        start: datetime,
        end: datetime,
        width: timedelta,
        token: CancelToken | None = None,
        extra: ColumnElement[Any] | None = None,
    ) -> list[Bucket]:
        """Rows per time bucket [start + k*width, start + (k+1)*width) up to ``end``.

        With the time column indexed and nothing but time narrowing the rows,
        each bucket is a range count on the index: no row is read. Otherwise
        one pass groups the filtered rows by bucket. ``extra`` narrows further
        (a chart's stacking slice).
        """
        edges = []
        edge = start
        while edge < end:
            edges.append(edge)
            edge += width
        edges.append(edge)
        time_col = self.table.time
        where = self.where(token)
        if extra is not None:
            where = extra if where is None else sa.and_(where, extra)
        if time_col.indexed and not self.filter.narrows_beyond_time and extra is None:
            counts = self._range_counts(edges, where, token)
        else:
            counts = self._grouped_counts(edges, width, where, token)
        return [Bucket(a, b, c) for (a, b), c in zip(itertools.pairwise(edges), counts, strict=True)]

    def _range_counts(
        self, edges: list[datetime], where: ColumnElement[Any] | None, token: CancelToken | None
    ) -> list[int]:
        time = self.table.sa_column(self.table.log_type.time_column)
        counts: list[int] = []
        batch = 64  # scalar subqueries per statement: one round trip per batch
        bounds = list(itertools.pairwise(edges))
        for i in range(0, len(bounds), batch):
            subqueries = []
            for low, high in bounds[i : i + batch]:
                cond = sa.and_(time >= low, time < high)
                if where is not None:
                    cond = sa.and_(cond, where)
                subqueries.append(
                    sa.select(sa.func.count()).select_from(self.table.table).where(cond).scalar_subquery()
                )
            row = self.run(sa.select(*subqueries), lambda r: r.one(), token)
            counts.extend(int(c or 0) for c in row)
        return counts

    def _grouped_counts(
        self, edges: list[datetime], width: timedelta, where: ColumnElement[Any] | None, token: CancelToken | None
    ) -> list[int]:
        time = self.table.sa_column(self.table.log_type.time_column)
        start, end = edges[0], edges[-1]
        bucket = bucket_expr(self.table, start, width.total_seconds()).label("bucket")
        cond = sa.and_(time >= start, time < end)
        if where is not None:
            cond = sa.and_(cond, where)
        stmt = sa.select(bucket, sa.func.count()).select_from(self.table.table).where(cond).group_by(sa.text("1"))
        rows = self.run(stmt, lambda r: r.all(), token)
        counts = [0] * (len(edges) - 1)
        for index, count in rows:
            if index is None:
                continue
            i = int(index)
            if 0 <= i < len(counts):
                counts[i] += int(count)
        return counts

    def facets(self, column: str, limit: int = 10, token: CancelToken | None = None) -> list[tuple[Any, int]]:
        """The most frequent values of ``column`` under the filter, with their counts."""
        expr = self.table.sa_column(self.table.require_column(column).name)
        n = sa.func.count().label("n")
        stmt = self._narrowed(sa.select(expr, n).select_from(self.table.table), token)
        stmt = stmt.group_by(expr).order_by(n.desc(), expr).limit(limit)
        return self.run(stmt, lambda r: [(v, int(c)) for v, c in r], token)

    # -- streaming ----------------------------------------------------------------------

    def iter_rows(
        self, token: CancelToken | None = None, limit: int | None = None, batch: int = 5000
    ) -> Iterator[tuple[Any, ...]]:
        """Every filtered row in sort order, fetched in batches: memory stays flat."""
        if limit is not None and not 0 <= limit <= INT_MAX:
            raise FilterError(f"a row limit is zero or more, at most {INT_MAX}; {limit} is not")
        token = token or CancelToken()
        stmt = self._select(token, keys=False)
        if limit is not None:
            stmt = stmt.limit(limit)
        # The result is closed however the loop ends (done, cancelled, abandoned):
        # an open server-side cursor would otherwise outlive the stream.
        with (
            self._connection(token) as conn,
            conn.execution_options(stream_results=True, yield_per=batch).execute(stmt) as result,
        ):
            raw_cursor = result.cursor
            try:
                # A server's cancel may land after the rows left are already
                # fetched: check the token too, so a cancel always stops the stream.
                for partition in result.partitions():
                    token.raise_if_cancelled()
                    yield from partition
                token.raise_if_cancelled()
            finally:
                # After a cancel the result cannot always close its server-side
                # cursor itself; close the driver's cursor before the connection goes.
                if raw_cursor is not None:
                    with contextlib.suppress(Exception):
                        raw_cursor.close()


def bucket_expr(table: LogTable, start: datetime, seconds: float) -> ColumnElement[Any]:
    """The 0-based number of the ``seconds``-wide bucket from ``start`` that each row's time falls in.

    Computed in the database, on the time as stored.
    """
    dialect = table.source.dialect
    time = table.raw_column(table.log_type.time_column)
    if dialect == "sqlite":
        epoch = sa.func.strftime("%s", time)
        origin = int(start.replace(tzinfo=UTC).timestamp())
        return sa.cast((sa.cast(epoch, sa.Integer) - origin) / int(seconds), sa.Integer)
    if dialect == "postgresql":
        start_bind = sa.bindparam("bucket_start", start, type_=sa.DateTime())
        return sa.func.floor(sa.extract("epoch", time - start_bind) / seconds)
    # MySQL: TIMESTAMPDIFF in seconds, the session time zone being UTC.
    start_bind = sa.bindparam("bucket_start", start, type_=sa.DateTime())
    return sa.func.floor(sa.func.timestampdiff(sa.text("SECOND"), start_bind, time) / seconds)
