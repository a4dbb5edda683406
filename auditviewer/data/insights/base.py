"""What every insight needs: one log narrowed to the period, its SQL pieces, words and numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, KeyedColumnElement

from auditviewer.data.cancel import CancelToken
from auditviewer.data.filters import Condition, condition_clause, parse_condition
from auditviewer.data.insights.model import Params, RowLink
from auditviewer.data.query import LogQuery, bucket_expr
from auditviewer.data.source import LogTable
from auditviewer.data.sqltyping import AnySelect
from auditviewer.data.timeline import data_extent, time_window
from auditviewer.data.timestamps import format_time, get_zone

EPOCH = datetime(1970, 1, 1)
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


class Context:
    """One log of the source, narrowed to the period the overview looks at."""

    def __init__(self, table: LogTable, params: Params, token: CancelToken) -> None:
        self.table = table
        self.params = params
        self.token = token
        self.query = LogQuery(table, params.window_filter)
        self.zone = get_zone(params.zone)
        self._window: tuple[datetime | None, datetime | None] | None = None

    @property
    def key(self) -> str:
        return self.table.log_type.key

    @property
    def dialect(self) -> str:
        return self.table.source.dialect

    def col(self, name: str) -> KeyedColumnElement[Any]:
        return self.table.sa_column(name)

    def has(self, *names: str) -> bool:
        return all(self.table.has(n) for n in names)

    @property
    def time(self) -> KeyedColumnElement[Any]:
        return self.col(self.table.log_type.time_column)

    def scan(self, name: str) -> ColumnElement[Any]:
        """A column to group by in one pass over the table.

        SQLite groups by an indexed column by walking that index and looking up
        every row, which is several times slower than reading the table and
        sorting; an expression (``col || ''``) makes it read the table.
        """
        col = self.col(name)
        if self.dialect == "sqlite":
            return col.op("||", return_type=col.type)(sa.literal_column("''"))
        return col

    def seconds(self, width: float = 1.0) -> ColumnElement[Any]:
        """Whole ``width``-second steps since 1970 (width 3600: the hour), computed in the database."""
        return bucket_expr(self.table, EPOCH, width)

    def clause(self, *conditions: Condition | str) -> list[ColumnElement[Any]]:
        """The period and the given conditions, as SQL."""
        parts = []
        where = self.query.where(self.token)
        if where is not None:
            parts.append(where)
        for condition in conditions:
            parsed = parse_condition(condition) if isinstance(condition, str) else condition
            parts.append(condition_clause(self.table, parsed))
        return parts

    def outcome(self, key: str) -> tuple[str, ...]:
        """The filter-language conditions of one of the log's declared outcomes."""
        for outcome in self.table.log_type.outcomes:
            if outcome.key == key:
                return outcome.where
        raise KeyError(f"{self.table.log_type.label} has no outcome {key!r}")

    def outcome_clause(self, key: str) -> ColumnElement[Any]:
        parts = [condition_clause(self.table, parse_condition(t)) for t in self.outcome(key)]
        return parts[0] if len(parts) == 1 else sa.and_(*parts)

    def select(self, *columns: Any) -> AnySelect:
        return sa.select(*columns).select_from(self.table.table)

    def rows(self, stmt: sa.Executable) -> list[tuple[Any, ...]]:
        self.token.raise_if_cancelled()
        return self.query.run(stmt, lambda r: [tuple(row) for row in r], self.token)

    def scalar(self, stmt: sa.Executable) -> Any:
        self.token.raise_if_cancelled()
        return self.query.run(stmt, lambda r: r.scalar(), self.token)

    # -- the period ---------------------------------------------------------------------

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The period as absolute times for links: both ends, or neither (all of the log)."""
        if self._window is None:
            low, high = time_window(self.query, self.token)
            if low is None and high is None:
                self._window = (None, None)
            else:
                first, last = data_extent(LogQuery(self.table), self.token)
                low = low if low is not None else first
                high = high if high is not None else (last + timedelta(seconds=1) if last else None)
                self._window = (low, high)
        return self._window

    def link(
        self, *conditions: Condition | str, time_from: datetime | None = None, time_to: datetime | None = None
    ) -> RowLink:
        """Rows of this log under ``conditions``, in the given range or else the whole period."""
        if time_from is None and time_to is None:
            time_from, time_to = self.window()
        return RowLink.of(self.key, *conditions, time_from=time_from, time_to=time_to)

    def describe_period(self) -> str:
        low, high = self.window()
        if low is None or high is None:
            return "the whole log"
        return f"{fmt_time(low)} to {fmt_time(high)} UTC"


# -- conditions ------------------------------------------------------------------------


def eq(column: str, value: Any) -> Condition:
    """column=value, or column= (is empty) for NULL and ''."""
    if value is None or value == "":
        return Condition(column, "=", ())
    return Condition(column, "=", (str(value),))


def not_empty(column: str) -> Condition:
    return Condition(column, "=", (), negated=True)


# -- words and numbers ---------------------------------------------------------------------


def fmt_time(value: datetime | None, zone: Any = None) -> str:
    return format_time(value, zone) if zone is not None else format_time(value)


def fmt_int(n: int | float) -> str:
    return f"{int(n):,}"


def pct(part: float, whole: float, digits: int = 1) -> str:
    if not whole:
        return "–"
    return f"{100 * part / whole:.{digits}f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def endpoint(url: str) -> str:
    """A URL without its query and with numeric ids as {id}: /v2/Api/Newsletters/{id}."""
    path = str(url).split("?", 1)[0]
    return _ID_SEGMENT.sub("/{id}", path)


def endpoint_conditions(pattern: str, urls: Sequence[str]) -> list[Condition]:
    """Conditions that find an endpoint's calls: the exact URL, or everything under its fixed prefix."""
    if "{id}" not in pattern and all(u == pattern for u in urls):
        return [Condition("url", "=", (pattern,))]
    prefix = pattern.split("{id}", 1)[0]
    return [Condition("url", "^=", (prefix,))]


def top(counter: dict[Any, float], n: int, key: Callable[[Any], Any] | None = None) -> list[tuple[Any, float]]:
    """The n largest entries, ties broken by the key's text (stable across runs)."""
    return sorted(counter.items(), key=key or (lambda kv: (-kv[1], str(kv[0]))))[:n]
