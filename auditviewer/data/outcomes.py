"""Which outcome (and so which severity) a row has, decided in Python.

The table marks rows that are already loaded, so it evaluates the log type's
outcome conditions on the row's values instead of asking the database. The
conditions are the same filter-language text the charts send to SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from auditviewer.data.filters import Condition, parse_condition
from auditviewer.data.logtypes import LogType, Outcome, Severity


@cache
def _parsed(outcome: Outcome) -> tuple[Condition, ...]:
    return tuple(parse_condition(text) for text in outcome.where)


def _compare(value: Any, op: str, wanted: str) -> bool:
    if value is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            target: Any = float(wanted)
        except ValueError:
            return False
        value = float(value)
    else:
        value, target = str(value), wanted
        if op == "=":
            return bool(value.lower() == target.lower())
    return bool(
        {
            "=": value == target,
            ">": value > target,
            ">=": value >= target,
            "<": value < target,
            "<=": value <= target,
        }.get(op, False)
    )


def matches(condition: Condition, row: Mapping[str, Any]) -> bool:
    value = row.get(condition.column)
    if condition.is_empty_check:
        result = value is None or value == ""
    elif condition.op == "~":
        result = value is not None and any(v.lower() in str(value).lower() for v in condition.values)
    elif condition.op == "^=":
        result = value is not None and any(str(value).lower().startswith(v.lower()) for v in condition.values)
    else:
        result = any(_compare(value, condition.op, v) for v in condition.values)
    return not result if condition.negated else result


def outcome_of(log_type: LogType, row: Mapping[str, Any]) -> Outcome | None:
    for outcome in reversed(log_type.outcomes):  # most severe first
        conditions = _parsed(outcome)
        if all(c.column in row for c in conditions) and all(matches(c, row) for c in conditions):
            return outcome
    return None


def severity_of(log_type: LogType, row: Mapping[str, Any]) -> Severity:
    outcome = outcome_of(log_type, row)
    return outcome.severity if outcome else Severity.OK
