"""The filter language, shared by the CLI and the window, and the SQL it becomes.

A filter is a list of conditions joined by AND, each of which can be negated
or switched off, plus a time range, a free-text search and a business unit::

    status>=500            method=PUT,DELETE      email~@example.com
    url^=/v2/Api           error=  (empty)        error!=  (not empty)
    not remote_ip=10.0.0.1                        !url~login

Values are bound parameters; column names come only from the discovered
schema. Every condition means the same on SQLite, PostgreSQL and MySQL: a
NULL never equals, contains or compares with anything, and a negated
condition is exactly the rows the plain one leaves out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from auditviewer.data.errors import FilterError
from auditviewer.data.logtypes import Kind
from auditviewer.data.source import Column, LogTable
from auditviewer.data.timestamps import (
    BEGINNING,
    END_OF_TIME,
    UTC,
    Beyond,
    Instant,
    UserTime,
    day_text,
    format_day,
    minus,
    parse_user_range,
    to_zone,
    zone_name,
)

# Operators as typed, longest first so "!=" is not read as "!" then "=".
_OPERATORS = ("!~", "^=", "!=", ">=", "<=", "~", "=", ">", "<")
# Typed operator -> (base operator, negated)
_BASE = {
    "=": ("=", False),
    "!=": ("=", True),
    "~": ("~", False),
    "!~": ("~", True),
    "^=": ("^=", False),
    ">": (">", False),
    ">=": (">=", False),
    "<": ("<", False),
    "<=": ("<=", False),
}
_LIST_OPS = {"=", "~", "^="}
_CONDITION = re.compile(
    r"^\s*(?P<not>not\s+|!(?=[A-Za-z_]))?(?P<col>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL
)
_ESCAPE = "/"
#: What a number column can be compared with: every backend's BIGINT.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
#: Past this many bytes a contains/starts-with value is matched with instr() instead of LIKE on
#: SQLite, whose LIKE refuses patterns over SQLITE_MAX_LIKE_PATTERN_LENGTH (50,000 bytes by default,
#: lower in some builds). Both fold ASCII letters only, so the two forms find the same rows.
LIKE_MAX_BYTES = 1000


@dataclass(frozen=True)
class Condition:
    """One condition. ``op`` is a base operator: = ~ ^= > >= < <=."""

    column: str
    op: str
    values: tuple[str, ...] = ()
    negated: bool = False
    enabled: bool = True

    @property
    def is_empty_check(self) -> bool:
        return self.op == "=" and not self.values

    def text(self) -> str:
        """The condition back in the filter language."""
        values = ",".join(_quote_value(v) for v in self.values)
        if self.negated and self.op == "=":
            return f"{self.column}!={values}"
        if self.negated and self.op == "~":
            return f"{self.column}!~{values}"
        prefix = "not " if self.negated else ""
        return f"{prefix}{self.column}{self.op}{values}"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Filter:
    """Everything that narrows a log: conditions, time range, search, business unit.

    Times are naive UTC. ``time_to`` is exclusive, except at the end of time
    (``datetime.max``, where "up to 9999-12-31" is clamped), which it includes.
    ``last`` is a span back from the newest row of the log, resolved when the
    query runs.
    """

    conditions: tuple[Condition, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    last: timedelta | None = None
    search: str = ""
    business_unit: int | None = None

    @property
    def active_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.enabled)

    @property
    def is_empty(self) -> bool:
        return not (
            self.active_conditions
            or self.time_from
            or self.time_to
            or self.last
            or self.search.strip()
            or self.business_unit is not None
        )

    @property
    def narrows_beyond_time(self) -> bool:
        """Whether anything but the time range narrows the rows."""
        return bool(self.active_conditions or self.search.strip() or self.business_unit is not None)


@dataclass(frozen=True)
class Sort:
    column: str = "date"
    descending: bool = True

    def text(self) -> str:
        return f"{self.column}:{'desc' if self.descending else 'asc'}"

    @classmethod
    def parse(cls, text: str) -> Sort:
        name, _, direction = text.partition(":")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise FilterError(f"sort direction must be asc or desc, not {direction!r}")
        if not name.strip():
            raise FilterError("sort needs a column, e.g. date:desc")
        return cls(name.strip().lower(), direction == "desc")


@dataclass
class _Bound:
    """A condition checked against a table, with typed values."""

    condition: Condition
    column: Column
    values: list[object] = field(default_factory=list)  # a UserTime each for a time column

    @property
    def times(self) -> list[UserTime]:
        """The values of a condition on a time column, each read as a :class:`UserTime`."""
        return [value for value in self.values if isinstance(value, UserTime)]


# -- parsing ------------------------------------------------------------------


def parse_condition(text: str) -> Condition:
    """Parse one condition's syntax; columns and values are checked by :func:`where_clause`."""
    match = _CONDITION.match(text)
    if not match:
        raise FilterError(f"{text!r} is not a condition; write column, operator, value, e.g. status>=500")
    rest = match.group("rest")
    for typed in _OPERATORS:
        if rest.startswith(typed):
            break
    else:
        ops = " ".join(_OPERATORS[::-1])
        raise FilterError(f"{text!r} has no operator; use one of {ops}, e.g. status>=500")
    op, negated = _BASE[typed]
    raw = rest[len(typed) :]
    values = tuple(_split_values(raw)) if raw.strip() else ()
    if not values and op != "=":
        raise FilterError(f"{text!r} needs a value after {typed}")
    if op in ("~", "^=") and "" in values:
        # Every text contains the empty text: the condition would keep (or, negated, drop) every row.
        raise FilterError(
            f"{_shown(text)}: {typed} needs some text to look for, not an empty value; "
            f"to find empty values write {match.group('col').lower()}="
        )
    if len(values) > 1 and op not in _LIST_OPS:
        raise FilterError(f"{text!r}: {typed} takes one value; lists work with =, !=, ~, !~ and ^=")
    if match.group("not"):
        negated = not negated
    return Condition(match.group("col").lower(), op, values, negated)


def _split_values(raw: str) -> list[str]:
    """Split on commas; "double quotes" keep commas and spaces, a backslash escapes one character.

    Spaces around a value are dropped unless quoted or escaped: ``url~" "`` looks for a space.
    """
    if not any(c in raw for c in ',"\\'):
        return [raw.strip()]
    values: list[str] = []
    current: list[tuple[str, bool]] = []  # (character, kept as typed)
    quoted = escaped = False
    for char in raw:
        if escaped:
            current.append((char, True))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            values.append(_trimmed(current))
            current = []
        else:
            current.append((char, quoted))
    if quoted:
        raise FilterError(f"{_shown(raw)!r} has an unclosed double quote")
    values.append(_trimmed(current))
    return values


def _trimmed(chars: list[tuple[str, bool]]) -> str:
    """The value without the unquoted spaces at either end."""
    start, end = 0, len(chars)
    while start < end and chars[start][0].isspace() and not chars[start][1]:
        start += 1
    while end > start and chars[end - 1][0].isspace() and not chars[end - 1][1]:
        end -= 1
    return "".join(char for char, _ in chars[start:end])


def _shown(text: str, limit: int = 80) -> str:
    """A value as quoted in a message: a 60,000-character paste is cut short."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _quote_value(value: str) -> str:
    if any(c in value for c in ',"\\') or value != value.strip():
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def parse_conditions(texts: list[str] | tuple[str, ...]) -> tuple[Condition, ...]:
    return tuple(parse_condition(t) for t in texts)


def split_search_terms(text: str) -> list[str]:
    """Words of a search; "quoted phrases" stay whole."""
    return [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', text) if (a or b)]


# -- checking against a table --------------------------------------------------


def bind(table: LogTable, condition: Condition, zone: tzinfo = UTC) -> _Bound:
    """Check a condition's column and values against ``table``; FilterError says what is valid."""
    column = table.require_column(condition.column)
    bound = _Bound(condition, column)
    for value in condition.values:
        bound.values.append(_typed_value(column, condition, value, zone))
    return bound


def whole_number(text: str, column: str, context: str = "") -> int:
    """``text`` as an integer every backend compares with (a BIGINT); FilterError says why not.

    ``context`` (the condition, say) starts the message about a number out of range.
    """
    value = text.strip()
    if not _WHOLE_NUMBER.fullmatch(value):
        raise FilterError(f"{column} takes whole numbers, e.g. {column}>=500; {_shown(text)!r} is not one")
    digits = value.lstrip("+-").lstrip("0")
    number = int(value) if len(digits) <= 19 else None  # int() of thousands of digits: slow, then refused
    if number is None or not INT_MIN <= number <= INT_MAX:
        limit = f"at least {INT_MIN}" if value.startswith("-") else f"at most {INT_MAX}"
        where = f"{_shown(context)}: " if context else ""
        raise FilterError(f"{where}{_shown(value)} is out of range for a number column ({limit})")
    return number


def _typed_value(column: Column, condition: Condition, value: str, zone: tzinfo) -> object:
    if condition.op in ("~", "^="):
        return value  # substring matches work on the text form of any column
    if column.kind is Kind.INT:
        return whole_number(value, column.name, condition.text())
    if column.kind is Kind.DATETIME:
        try:
            return parse_user_range(value, zone)
        except ValueError as exc:
            raise FilterError(f"{column.name}: {exc}") from None
    choices = column.spec.choices
    if choices:
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
        if condition.op == "=":
            raise FilterError(f"{column.name} is one of {', '.join(choices)}; {value!r} is not")
    return value


# -- SQL -------------------------------------------------------------------------


def like_pattern(value: str, prefix_only: bool = False) -> str:
    escaped = value.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


def _as_text(table: LogTable, column: Column) -> ColumnElement[Any]:
    expr = table.sa_column(column.name)
    if column.kind is Kind.TEXT or (column.kind is Kind.DATETIME and table.source.dialect == "sqlite"):
        return sa.type_coerce(expr, sa.String())
    return sa.cast(expr, sa.String())


def _like(table: LogTable, column: Column, pattern: str) -> ColumnElement[Any]:
    expr = _as_text(table, column)
    if table.source.dialect == "postgresql":
        return expr.ilike(pattern, escape=_ESCAPE)
    # SQLite's LIKE ignores ASCII case; MySQL's follows the column's (case-insensitive) collation.
    return expr.like(pattern, escape=_ESCAPE)


def _contains(table: LogTable, column: Column, value: str, prefix_only: bool = False) -> ColumnElement[Any]:
    """The column's text contains (or starts with) ``value``, ignoring case as the backend's LIKE does."""
    if table.source.dialect == "sqlite" and len(value.encode("utf-8")) > LIKE_MAX_BYTES:
        # SQLite's lower() folds ASCII letters only, as its LIKE does: the same rows, with no length limit.
        position = sa.func.instr(sa.func.lower(_as_text(table, column)), sa.func.lower(sa.literal(value)))
        return position == 1 if prefix_only else position > 0
    return _like(table, column, like_pattern(value, prefix_only))


# -- times, where a typed time may lie beyond either end of the datetime range --------------------


def _compare(expr: ColumnElement[Any], op: str, at: Instant) -> ColumnElement[Any]:
    """``expr op at``; every stored time comes after an instant before year 1 and before one after 9999."""
    if at is Beyond.BEFORE:
        return expr >= BEGINNING if op in (">", ">=") else expr < BEGINNING if op in ("<", "<=") else sa.false()
    if at is Beyond.AFTER:
        return expr <= END_OF_TIME if op in ("<", "<=") else expr > END_OF_TIME if op in (">", ">=") else sa.false()
    if at == END_OF_TIME and op == "<":  # a bound clamped to the end of time includes it
        op = "<="
    return {"=": expr.__eq__, ">": expr.__gt__, ">=": expr.__ge__, "<": expr.__lt__, "<=": expr.__le__}[op](at)


def _time_positive(expr: ColumnElement[Any], op: str, times: list[UserTime]) -> ColumnElement[Any]:
    """A time condition; a date alone stands for its whole day, [start, end)."""
    if op == "=":
        parts = [sa.and_(_compare(expr, ">=", t.start), _compare(expr, "<", t.end)) for t in times if t.whole_day]
        exact = [t.start for t in times if not t.whole_day and isinstance(t.start, datetime)]
        parts += [expr == exact[0]] if len(exact) == 1 else [expr.in_(exact)] if exact else []
        return sa.or_(*parts) if len(parts) > 1 else parts[0] if parts else sa.false()
    at = times[0]
    if op == ">":
        return _compare(expr, ">=", at.end) if at.whole_day else _compare(expr, ">", at.start)
    if op == "<=":
        return _compare(expr, "<", at.end) if at.whole_day else _compare(expr, "<=", at.start)
    return _compare(expr, op, at.start)


def _positive(table: LogTable, bound: _Bound) -> ColumnElement[Any]:
    cond, column = bound.condition, bound.column
    expr = table.sa_column(column.name)
    if cond.is_empty_check:
        if column.kind is Kind.TEXT:
            return sa.or_(expr.is_(None), sa.type_coerce(expr, sa.String()) == "")
        return expr.is_(None)
    if cond.op in ("~", "^="):
        return sa.or_(*(_contains(table, column, str(v), cond.op == "^=") for v in bound.values))
    if column.kind is Kind.DATETIME:
        return _time_positive(expr, cond.op, bound.times)
    values = bound.values
    if cond.op == "=":
        return expr == values[0] if len(values) == 1 else expr.in_(values)
    value = values[0]
    if cond.op == ">":
        return expr > value
    if cond.op == ">=":
        return expr >= value
    if cond.op == "<":
        return expr < value
    if cond.op == "<=":
        return expr <= value
    raise FilterError(f"unknown operator {cond.op!r}")


def condition_clause(table: LogTable, condition: Condition, zone: tzinfo = UTC) -> ColumnElement[Any]:
    bound = bind(table, condition, zone)
    positive = _positive(table, bound)
    if not condition.negated:
        return positive
    if condition.is_empty_check or not bound.column.nullable:
        return sa.not_(positive)
    # NOT (NULL = x) is NULL, which would drop the row: a NULL is "not x".
    return sa.or_(table.sa_column(bound.column.name).is_(None), sa.not_(positive))


def search_clause(table: LogTable, text: str) -> ColumnElement[Any] | None:
    """Every word must appear in some text column (or equal a number column)."""
    terms = split_search_terms(text)
    if not terms:
        return None
    per_term = []
    for term in terms:
        options = [_contains(table, c, term) for c in table.text_columns]
        if re.fullmatch(r"-?\d{1,18}", term):
            options += [table.sa_column(c.name) == int(term) for c in table.columns if c.kind is Kind.INT]
        per_term.append(sa.or_(*options) if options else sa.false())
    return sa.and_(*per_term)


def where_clause(
    table: LogTable, flt: Filter, newest: datetime | None = None, zone: tzinfo = UTC
) -> ColumnElement[Any] | None:
    """The WHERE clause for ``flt`` on ``table``; ``newest`` resolves ``last``."""
    parts: list[ColumnElement[Any]] = []
    time = table.sa_column(table.log_type.time_column)
    time_from = flt.time_from
    if flt.last is not None and newest is not None:
        since = minus(newest, flt.last)
        time_from = since if time_from is None else max(time_from, since)
    if time_from is not None:
        parts.append(time >= time_from)
    if flt.time_to is not None:
        parts.append(_compare(time, "<", flt.time_to))
    if flt.business_unit is not None:
        if not table.has("business_unit_id"):
            raise FilterError(f"{table.log_type.label} has no business units")
        parts.append(table.sa_column("business_unit_id") == flt.business_unit)
    for condition in flt.active_conditions:
        parts.append(condition_clause(table, condition, zone))
    search = search_clause(table, flt.search)
    if search is not None:
        parts.append(search)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else sa.and_(*parts)


def validate(table: LogTable, flt: Filter, sort: Sort | None = None, zone: tzinfo = UTC) -> None:
    """Raise FilterError now, before any query runs, if ``flt`` or ``sort`` do not fit ``table``."""
    for condition in flt.conditions:
        bind(table, condition, zone)
    check_time_range(flt.time_from, flt.time_to, zone)
    if flt.business_unit is not None:
        if not INT_MIN <= flt.business_unit <= INT_MAX:
            raise FilterError(
                f"business unit {_shown(str(flt.business_unit))} is out of range for a number "
                f"column (at most {INT_MAX})"
            )
        if not table.has("business_unit_id"):
            raise FilterError(f"{table.log_type.label} has no business units")
    if sort is not None and table.column(sort.column) is None:
        raise FilterError(f"cannot sort by {sort.column!r}; valid columns: {', '.join(table.column_names)}")


def check_time_range(start: datetime | None, end: datetime | None, zone: tzinfo = UTC) -> None:
    """FilterError for a time range that ends where or before it starts: it could show no row."""
    if start is not None and end is not None and start >= end:
        raise FilterError(
            f"the time range {_time_range_words(start, end, zone)} ({zone_name(zone)}) is empty: "
            f"its start must come before its end"
        )


# -- plain words, for report headers and status lines ---------------------------

_WORDS = {
    "=": "is",
    "~": "contains",
    "^=": "starts with",
    ">": "is more than",
    ">=": "is at least",
    "<": "is less than",
    "<=": "is at most",
}
_NEGATED_WORDS = {"=": "is not", "~": "does not contain", "^=": "does not start with"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _value_words(value: str, condition: Condition, kind: Kind | None) -> str:
    """A value as a reader expects it: numbers and dates bare, text in quotes."""
    if condition.op in ("~", "^="):
        return f'"{value}"'
    if kind in (Kind.INT, Kind.DATETIME) or (kind is None and _NUMBER.match(value)):
        return value
    return f'"{value}"'


def describe_condition(condition: Condition, label: str | None = None, kind: Kind | None = None) -> str:
    name = label or condition.column
    if condition.is_empty_check:
        return f"{name} is {'not ' if condition.negated else ''}empty"
    values = " or ".join(_value_words(v, condition, kind) for v in condition.values)
    if condition.negated and condition.op in _NEGATED_WORDS:
        return f"{name} {_NEGATED_WORDS[condition.op]} {values.replace(' or ', ' nor ')}"
    words = f"{name} {_WORDS[condition.op]} {values}"
    return f"not ({words})" if condition.negated else words


def describe(flt: Filter, table: LogTable | None = None, zone: tzinfo = UTC) -> str:
    """The filter in plain words, e.g. 'Status is at least 500; date from 1 Jun 2025 to 7 Jun 2025 (UTC)'."""
    parts = []
    for condition in flt.active_conditions:
        column = table.column(condition.column) if table else None
        parts.append(describe_condition(condition, column.label if column else None, column.kind if column else None))
    if flt.search.strip():
        parts.append(f'text contains "{flt.search.strip()}"')
    if flt.last is not None:
        parts.append(f"the last {_span(flt.last)} of the log")
    if flt.time_from or flt.time_to:
        parts.append(f"date {_time_range_words(flt.time_from, flt.time_to, zone)} ({zone_name(zone)})")
    if flt.business_unit is not None:
        name = table.source.business_unit_name(flt.business_unit) if table is not None else ""
        unit = f'"{name}"' if name and name != str(flt.business_unit) else str(flt.business_unit)
        parts.append(f"business unit {unit}")
    if not parts:
        return "All rows"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _time_range_words(start: datetime | None, end: datetime | None, zone: tzinfo) -> str:
    """'from 1 Jun 2025 to 7 Jun 2025': an end at midnight names the last whole day it includes."""
    start_text = format_day(start, zone) if start else None
    whole_day_end, end_text = _end_words(end, zone) if end is not None else (False, None)
    if start_text and end_text:
        if whole_day_end and start_text == end_text:
            return f"is {start_text}"
        return f"from {start_text} {'to' if whole_day_end else 'until'} {end_text}"
    if start_text:
        return f"from {start_text}"
    return f"up to {end_text}" if whole_day_end else f"before {end_text}"


def _end_words(end: datetime, zone: tzinfo) -> tuple[bool, str]:
    """Whether an exclusive end is a midnight in ``zone`` (then: the whole day before it, in words), else the end."""
    local_end = to_zone(end, zone)
    if end == END_OF_TIME or (local_end.tzinfo is not zone and zone is not UTC and end.year > 5000):
        # Clamped to the end of time, or past 9999 in the zone: up to the last day there is.
        return True, day_text(END_OF_TIME.date())
    midnight = (local_end.hour, local_end.minute, local_end.second, local_end.microsecond) == (0, 0, 0, 0)
    if midnight and local_end.date() > date.min:
        return True, day_text(local_end.date() - timedelta(days=1))
    return False, format_day(end, zone)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"
