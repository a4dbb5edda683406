"""Events per time bucket, stacked by outcome, counted in the database.

A log tab's chart and the overview's rates both come from here. Nothing reads
one row per point: buckets are counted in SQL, and the way of counting is
picked by what the database can do fast.

- ``index``: nothing but time narrows the rows and ``date`` is indexed. Totals
  per bucket are range counts on the date index (no row is read). The rarer
  outcomes (4xx, 5xx) are counted apart and the first, default outcome is the
  total minus them. On SQLite, where every index entry carries the rowid and
  ``id`` is the rowid, those rarer outcomes are counted on their own index
  (``status IN (…) AND id BETWEEN …``) inside each bucket's id range: ids rise
  with time and are numbered consecutively, so a bucket's rows are the ids from
  its first row up to the next bucket's first row (checked: the range must hold
  exactly as many ids as the bucket has rows). Elsewhere, or when that check
  fails, they are one grouped pass restricted to the rare rows, which an index
  on their column serves.
- ``grouped``: anything else (a condition, a search, no index): one pass that
  groups the filtered rows by bucket and outcome (``CASE`` over the outcomes).

Both give the same counts: a row that no other outcome claims belongs to the
first outcome when that one is the log's "all is well" slice (OK severity);
otherwise (the activity timeline) it is counted as "Other".
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import FilterError
from auditviewer.data.filters import Condition, condition_clause, parse_condition
from auditviewer.data.logtypes import Kind, LogType, Outcome, Severity
from auditviewer.data.query import LogQuery, bucket_expr
from auditviewer.data.source import LogTable
from auditviewer.data.sqltyping import AnySelect
from auditviewer.data.timestamps import minus, parse_stored

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)
#: Bucket widths offered, finest first.
WIDTHS: tuple[timedelta, ...] = (MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY, WEEK)
MAX_BUCKETS = 400
#: Weeks are counted from a Monday; 1970-01-05 was one.
_MONDAY = datetime(1970, 1, 5)
_EPOCH = datetime(1970, 1, 1)
_VALUES_BATCH = 250  # buckets per statement: 3 parameters each (old SQLite allows 999), 250 UNION terms (500)
_MAX_VALUES = 64  # distinct values an outcome may take for the id-range counting
OTHER_KEY = "other"
OTHER_COLOR = "#9d9d9d"
ROWS_COLOR = "#4c78a8"


@dataclass(frozen=True)
class Series:
    """One stacked slice of the chart: an outcome's count in every bucket."""

    key: str
    label: str
    color: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Timeline:
    """Buckets [edges[k], edges[k+1]) and the count of each outcome in each."""

    edges: tuple[datetime, ...]
    width: timedelta
    series: tuple[Series, ...]
    #: How it was counted: "index", "index+ids", "grouped" or "empty".
    strategy: str = "grouped"

    @property
    def buckets(self) -> int:
        return max(0, len(self.edges) - 1)

    @property
    def totals(self) -> tuple[int, ...]:
        if not self.series:
            return (0,) * self.buckets
        return tuple(sum(values) for values in zip(*(s.counts for s in self.series), strict=True))

    @property
    def total(self) -> int:
        return sum(self.totals)

    @property
    def is_empty(self) -> bool:
        return self.buckets == 0 or self.total == 0

    def series_by_key(self, key: str) -> Series | None:
        return next((s for s in self.series if s.key == key), None)

    def bucket_at(self, moment: datetime) -> int | None:
        """The bucket holding ``moment``, or None outside the chart."""
        if not self.buckets or moment < self.edges[0] or moment >= self.edges[-1]:
            return None
        return min(int((moment - self.edges[0]) / self.width), self.buckets - 1)

    def regrouped(self, factor: int) -> Timeline:
        """The same counts in buckets ``factor`` times wider (edges stay aligned)."""
        if factor <= 1 or not self.buckets:
            return self
        n = math.ceil(self.buckets / factor)
        edges = tuple(self.edges[0] + self.width * factor * k for k in range(n + 1))
        series = tuple(
            Series(s.key, s.label, s.color, tuple(sum(s.counts[k * factor : (k + 1) * factor]) for k in range(n)))
            for s in self.series
        )
        return Timeline(edges, self.width * factor, series, self.strategy)


# -- buckets --------------------------------------------------------------------------


def choose_width(span: timedelta, max_buckets: int = MAX_BUCKETS) -> timedelta:
    """The finest width that cuts ``span`` into at most ``max_buckets`` buckets.

    With the widths offered, that leaves between about 60 and 400 buckets for
    any span over an hour; a span of more than 400 weeks gets multiples of a week.
    """
    for width in WIDTHS:
        if span <= width * max_buckets:
            return width
    return WEEK * math.ceil(span / (WEEK * max_buckets))


def align(moment: datetime, width: timedelta) -> datetime:
    """The bucket edge at or before ``moment``: whole minutes, hours, UTC days, Mondays."""
    origin = _MONDAY if width >= WEEK else _EPOCH
    return origin + width * math.floor((moment - origin) / width)


def bucket_edges(first: datetime, last: datetime, width: timedelta) -> list[datetime]:
    """Aligned edges from the bucket holding ``first`` to the one holding ``last``, inclusive."""
    edges = [align(first, width)]
    while edges[-1] <= last:
        edges.append(edges[-1] + width)
    return edges


def label_width(width: timedelta) -> str:
    """ "5 minutes", "hour", "day", "2 weeks": how wide one bar is, in words."""
    for unit, size in (("week", WEEK), ("day", DAY), ("hour", HOUR), ("minute", MINUTE)):
        if width >= size and width % size == timedelta(0):
            n = width // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{int(width.total_seconds())} seconds"


# -- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slice:
    outcome: Outcome
    conditions: tuple[Condition, ...]


def _slices(table: LogTable) -> tuple[_Slice | None, list[_Slice]]:
    """The default outcome (or None) and the others, keeping only those the table can evaluate."""
    slices = []
    for outcome in table.log_type.outcomes:
        try:
            conditions = tuple(parse_condition(text) for text in outcome.where)
            for condition in conditions:
                condition_clause(table, condition)  # the table has the columns and the values fit
        except FilterError as exc:
            log.debug("%s: outcome %s left out of charts: %s", table.db_name, outcome.key, exc)
            return None, []
        slices.append(_Slice(outcome, conditions))
    if slices and slices[0].outcome.severity is Severity.OK:
        return slices[0], slices[1:]
    return None, slices


def _clause(table: LogTable, piece: _Slice) -> ColumnElement[Any]:
    parts = [condition_clause(table, c) for c in piece.conditions]
    return parts[0] if len(parts) == 1 else sa.and_(*parts)


def series_keys(log_type: LogType) -> list[tuple[str, str, str]]:
    """(key, label, color) of the series a chart of this log shows, bottom first."""
    outcomes = log_type.outcomes
    keys = [(o.key, o.label, o.color) for o in outcomes]
    if not outcomes:
        return [(OTHER_KEY, "Rows", ROWS_COLOR)]
    if outcomes[0].severity is not Severity.OK:
        keys.append((OTHER_KEY, "Other", OTHER_COLOR))
    return keys


# -- counting ---------------------------------------------------------------------------------


def compute_timeline(
    query: LogQuery,
    token: CancelToken | None = None,
    width: timedelta | None = None,
    max_buckets: int = MAX_BUCKETS,
    extent: tuple[datetime | None, datetime | None] | None = None,
) -> Timeline:
    """Counts of ``query``'s rows per bucket and outcome, from its first row to its last.

    ``width`` fixes the bucket width (else one is chosen for the span);
    ``extent`` gives the first and last time when the caller knows them.
    """
    token = token or CancelToken()
    table = query.table
    default, others = _slices(table)
    # The query's own first and last rows bound every row it selects: the
    # grouped pass then needs no date bounds, which would draw SQLite to the
    # date index even when a condition's own index finds far fewer rows.
    bounded = extent is not None
    first, last = extent if extent is not None else data_extent(query, token)
    if first is None or last is None:
        return Timeline((), width or HOUR, (), "empty")
    width = width or choose_width(last - first, max_buckets)
    edges = bucket_edges(first, last, width)
    if table.time.indexed and not query.filter.narrows_beyond_time and default is not None:
        counts, strategy = _index_counts(query, edges, width, default, others, token)
    else:
        counts, strategy = _grouped_counts(query, edges, width, default, others, token, bounded)
    shown = series_keys(table.log_type) if default or others else [(OTHER_KEY, "Rows", ROWS_COLOR)]
    empty = [0] * (len(edges) - 1)
    series = tuple(Series(key, label, color, tuple(counts.get(key, empty))) for key, label, color in shown)
    return Timeline(tuple(edges), width, series, strategy)


def time_window(query: LogQuery, token: CancelToken | None = None) -> tuple[datetime | None, datetime | None]:
    """The filter's time bounds [from, to), with "the last N days" resolved against the newest row."""
    flt = query.filter
    low = flt.time_from
    if flt.last is not None:
        newest = query.newest(token)
        if newest is not None:
            since = minus(newest, flt.last)
            low = since if low is None else max(low, since)
    return low, flt.time_to


def data_extent(query: LogQuery, token: CancelToken | None = None) -> tuple[datetime | None, datetime | None]:
    """Time of the first and the last row the query selects.

    With nothing but time narrowing, min and max are asked separately: each
    is then one step on the date index (SQLite reads the whole index for a
    ``min(), max()`` pair).
    """
    table = query.table
    time = table.sa_column(table.log_type.time_column)
    where = query.where(token)

    def select(agg: Any) -> AnySelect:
        stmt = sa.select(agg).select_from(table.table)
        return stmt.where(where) if where is not None else stmt

    if query.filter.narrows_beyond_time:
        low, high = query.run(select(sa.func.min(time)).add_columns(sa.func.max(time)), lambda r: r.one(), token)
    else:
        stmt = sa.select(select(sa.func.min(time)).scalar_subquery(), select(sa.func.max(time)).scalar_subquery())
        low, high = query.run(stmt, lambda r: r.one(), token)
    low, high = parse_stored(low), parse_stored(high)
    if not isinstance(low, datetime) or not isinstance(high, datetime):
        return None, None
    return low, high


def _index_counts(
    query: LogQuery, edges: list[datetime], width: timedelta, default: _Slice, others: list[_Slice], token: CancelToken
) -> tuple[dict[str, list[int]], str]:
    counts: dict[str, list[int]] | None = None
    strategy = "index"
    if _rowid_table(query, token):
        totals, bounds = _sqlite_totals(query, edges, token)
        if others:
            counts = _id_range_counts(query, bounds, totals, others, token)
            strategy = "index+ids"
    else:
        totals = [b.count for b in query.histogram(edges[0], edges[-1], width, token)]
    if counts is None:
        counts = {}
        if others:
            strategy = "index"
            if not all(_index_served(query.table, piece) for piece in others):
                return _grouped_counts(query, edges, width, default, others, token)
            counts = _case_counts(
                query, edges, width, None, others, token, restrict=sa.or_(*(_clause(query.table, p) for p in others))
            )
    rest = list(totals)
    for piece in others:
        for k, n in enumerate(counts[piece.outcome.key]):
            rest[k] -= n
    if any(n < 0 for n in rest):
        # Only possible if ids do not rise with time after all: count the plain way.
        log.warning("%s: ids do not follow dates; charting by a grouped pass", query.table.db_name)
        return _grouped_counts(query, edges, width, default, others, token)
    counts[default.outcome.key] = rest
    return counts, strategy


def _grouped_counts(
    query: LogQuery,
    edges: list[datetime],
    width: timedelta,
    default: _Slice | None,
    others: list[_Slice],
    token: CancelToken,
    bounded: bool = True,
) -> tuple[dict[str, list[int]], str]:
    return _case_counts(query, edges, width, default, others, token, bounded=bounded), "grouped"


def _case_counts(
    query: LogQuery,
    edges: list[datetime],
    width: timedelta,
    default: _Slice | None,
    others: list[_Slice],
    token: CancelToken,
    restrict: ColumnElement[Any] | None = None,
    bounded: bool = True,
) -> dict[str, list[int]]:
    """One pass: GROUP BY bucket, outcome. Rows no outcome claims go to the default, else to "other"."""
    table = query.table
    time = table.sa_column(table.log_type.time_column)
    start, end = edges[0], edges[-1]
    bucket = bucket_expr(table, start, width.total_seconds()).label("bucket")
    keys = [default.outcome.key if default else OTHER_KEY] + [p.outcome.key for p in others]
    if others:
        # Most severe first, as outcome_of marks rows; the slices are exclusive anyway.
        whens = [(_clause(table, p), i) for i, p in reversed(list(enumerate(others, start=1)))]
        outcome: ColumnElement[Any] = sa.case(*whens, else_=0)
    else:
        outcome = sa.literal(0)
    parts = [time >= start, time < end] if bounded else []
    where = query.where(token)
    parts += [p for p in (where, restrict) if p is not None]
    stmt = sa.select(bucket, outcome.label("outcome"), sa.func.count()).select_from(table.table)
    if parts:
        stmt = stmt.where(*parts)
    stmt = stmt.group_by(sa.text("1"), sa.text("2"))
    rows = query.run(stmt, lambda r: r.all(), token)
    counts = {key: [0] * (len(edges) - 1) for key in keys}
    for index, slot, n in rows:
        if index is None or slot is None:
            continue
        k = int(index)
        if 0 <= k < len(edges) - 1:
            counts[keys[int(slot)]][k] += int(n)
    return counts


def _index_served(table: LogTable, piece: _Slice) -> bool:
    """Whether an index can find the outcome's rows (a plain comparison on an indexed column)."""
    for condition in piece.conditions:
        column = table.column(condition.column)
        if (
            column is not None
            and column.indexed
            and not condition.negated
            and condition.values
            and condition.op in ("=", ">", ">=", "<", "<=")
        ):
            return True
    return False


# -- SQLite: counting rare outcomes inside each bucket's id range --------------------------------


def _rowid_table(query: LogQuery, token: CancelToken) -> bool:
    """Whether ``id`` is the rowid of a plain SQLite table, so that every index entry carries it."""
    table = query.table
    if table.source.dialect != "sqlite" or not isinstance(table.table, sa.TableClause):
        return False
    id_column = table.id
    if id_column is None or id_column.kind is not Kind.INT:
        return False
    info = sa.text("SELECT name, type, pk FROM pragma_table_info(:name)").bindparams(name=table.db_name)
    rows = query.run(info, lambda r: r.all(), token)
    keys = [(name, str(type_).upper()) for name, type_, pk in rows if pk]
    if keys != [(id_column.db_name, "INTEGER")]:
        return False
    sql = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name").bindparams(name=table.db_name)
    text = query.run(sql, lambda r: r.scalar(), token) or ""
    return "WITHOUT ROWID" not in " ".join(str(text).upper().split())


def _outcome_values(query: LogQuery, piece: _Slice, token: CancelToken) -> tuple[str, list[Any]] | None:
    """The column an outcome looks at and the values it takes there, if few and on an index."""
    names = {c.column for c in piece.conditions}
    if len(names) != 1:
        return None
    column = query.table.column(names.pop())
    if column is None or not column.indexed:
        return None
    expr = query.table.sa_column(column.name)
    stmt = (
        sa.select(expr)
        .select_from(query.table.table)
        .where(_clause(query.table, piece))
        .distinct()
        .limit(_MAX_VALUES + 1)
    )
    values = query.run(stmt, lambda r: [row[0] for row in r], token)
    if len(values) > _MAX_VALUES or any(v is None for v in values):
        return None
    return column.name, values


def _sqlite_totals(query: LogQuery, edges: list[datetime], token: CancelToken) -> tuple[list[int], list[int]]:
    """Rows per bucket (range counts on the date index) and the first id at each edge.

    One statement per batch: a VALUES list of edges, and for each a count and
    a first-row lookup that are each a seek on the date index. The edges are
    clipped to the filter's time range, so "last 7 days" counts exactly.
    """
    table = query.table
    time = table.sa_column(table.log_type.time_column)
    ident = table.sa_column(table.log_type.id_column)
    low, high = time_window(query, token)

    def clip(edge: datetime) -> datetime:
        if low is not None and edge < low:
            return low
        return high if high is not None and edge > high else edge

    clipped = [clip(e) for e in edges]
    rows = [(k, clipped[k], clipped[min(k + 1, len(clipped) - 1)]) for k in range(len(clipped))]
    after_last = sa.select(sa.func.coalesce(sa.func.max(ident), 0) + 1).select_from(table.table).scalar_subquery()
    totals: list[int] = []
    bounds: list[int] = []
    statements: dict[int, AnySelect] = {}  # one per batch size: built once, compiled once

    def statement(size: int) -> AnySelect:
        if size not in statements:
            e = _values_cte("e", size, sa.Integer(), time.type, time.type)
            count = (
                sa.select(sa.func.count())
                .select_from(table.table)
                .where(time >= e.c.lo, time < e.c.hi)
                .scalar_subquery()
            )
            first = (
                sa.select(ident)
                .select_from(table.table)
                .where(time >= e.c.lo)
                .order_by(time, ident)
                .limit(1)
                .scalar_subquery()
            )
            statements[size] = sa.select(e.c.k, count, sa.func.coalesce(first, after_last)).order_by(e.c.k)
        return statements[size]

    for i in range(0, len(rows), _VALUES_BATCH):
        batch = rows[i : i + _VALUES_BATCH]
        stmt = statement(len(batch))
        for _k, n, first_id in query.run(stmt.params(_values_params(batch)), lambda r: r.all(), token):
            totals.append(int(n or 0))
            bounds.append(int(first_id))
    return totals[:-1], bounds


def _id_range_counts(
    query: LogQuery, bounds: list[int], totals: list[int], others: Sequence[_Slice], token: CancelToken
) -> dict[str, list[int]] | None:
    """Rare outcomes per bucket as index seeks: ``col IN (values) AND id >= b[k] AND id < b[k+1]``.

    ``bounds`` are the first ids at the edges. Each bucket's id range must hold
    exactly as many ids as the bucket has rows: then its rows are those ids
    (ids are unique), whatever the order of the rows elsewhere. Otherwise (ids
    with gaps, or out of date order) None says: count another way.
    """
    if any(b > c or c - b != n for (b, c), n in zip(itertools.pairwise(bounds), totals, strict=True)):
        log.info("%s: ids are not consecutive in date order; not counting by id ranges", query.table.db_name)
        return None
    table = query.table
    ident = table.sa_column(table.log_type.id_column)
    wanted = []
    for piece in others:
        found = _outcome_values(query, piece, token)
        if found is None:
            return None
        wanted.append((piece.outcome.key, *found))
    counts = {key: [0] * (len(bounds) - 1) for key, _, _ in wanted}
    ranges = [(k, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1) if bounds[k] < bounds[k + 1]]
    statements: dict[int, AnySelect] = {}

    def statement(size: int) -> AnySelect:
        if size not in statements:
            r = _values_cte("r", size, sa.Integer(), sa.Integer(), sa.Integer())
            columns = [
                sa.select(sa.func.count())
                .select_from(table.table)
                .where(table.sa_column(name).in_(values), ident >= r.c.lo, ident < r.c.hi)
                .scalar_subquery()
                if values
                else sa.literal(0)
                for _key, name, values in wanted
            ]
            statements[size] = sa.select(r.c.k, *columns).order_by(r.c.k)
        return statements[size]

    for i in range(0, len(ranges), _VALUES_BATCH):
        batch = ranges[i : i + _VALUES_BATCH]
        stmt = statement(len(batch))
        for k, *values in query.run(stmt.params(_values_params(batch)), lambda res: res.all(), token):
            for (key, _name, _values), n in zip(wanted, values, strict=True):
                counts[key][int(k)] = int(n or 0)
    return counts


def _values_cte(name: str, rows: int, *types: sa.types.TypeEngine[Any]) -> sa.CTE:
    """``WITH name AS (SELECT :k0 AS k, :lo0 AS lo, :hi0 AS hi UNION ALL ...)``.

    Built from named parameters, not data, so that every batch of one size is
    one cached compiled statement: compiling hundreds of rows anew costs more
    than running the query (and SQLAlchemy does not cache a VALUES list).
    """
    names = ("k", "lo", "hi")
    selects = [
        sa.select(*(sa.bindparam(f"{n}{i}", type_=t).label(n) for n, t in zip(names, types, strict=True)))
        for i in range(rows)
    ]
    return (selects[0] if rows == 1 else sa.union_all(*selects)).cte(name)


def _values_params(rows: Sequence[tuple[Any, Any, Any]]) -> dict[str, Any]:
    return {f"{n}{i}": v for i, row in enumerate(rows) for n, v in zip(("k", "lo", "hi"), row, strict=True)}
