"""Saved views: a tab's filters, sort and columns under a name, as JSON.

A view holds conditions as filter-language text, so a view file is readable,
portable between sources and checked against the log when it is applied.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from auditviewer.data.errors import FilterError
from auditviewer.data.filters import INT_MAX, INT_MIN, Condition, Filter, Sort, parse_condition
from auditviewer.data.logtypes import LOG_TYPES
from auditviewer.data.timestamps import parse_duration

FORMAT_VERSION = 1
#: A views file is read whole and checked before anything is saved: these bound the work.
MAX_FILE_BYTES = 10_000_000
MAX_VIEWS = 10_000
#: Quick time ranges offered in the filter bar: key -> (label, span text for parse_duration).
TIME_PRESETS: dict[str, tuple[str, str | None]] = {
    "any": ("Any time", None),
    "1h": ("Last hour", "1h"),
    "24h": ("Last 24 hours", "24h"),
    "7d": ("Last 7 days", "7d"),
    "30d": ("Last 30 days", "30d"),
    "custom": ("Custom range…", None),
}


@dataclass(frozen=True)
class ConditionState:
    text: str
    enabled: bool = True


@dataclass(frozen=True)
class SavedView:
    name: str
    log: str
    conditions: tuple[ConditionState, ...] = ()
    search: str = ""
    time_preset: str = "any"
    time_from: str | None = None  # ISO, UTC, for the custom range
    time_to: str | None = None
    sort: str = "date:desc"
    columns: tuple[str, ...] = ()  # visible columns in order; empty means the log's defaults
    business_unit: int | None = None

    def to_filter(self) -> Filter:
        conditions: list[Condition] = []
        for state in self.conditions:
            cond = parse_condition(state.text)
            conditions.append(replace(cond, enabled=state.enabled))
        span = TIME_PRESETS.get(self.time_preset, ("", None))[1]
        return Filter(
            conditions=tuple(conditions),
            time_from=datetime.fromisoformat(self.time_from)
            if self.time_preset == "custom" and self.time_from
            else None,
            time_to=datetime.fromisoformat(self.time_to) if self.time_preset == "custom" and self.time_to else None,
            last=parse_duration(span) if span else None,
            search=self.search,
            business_unit=self.business_unit,
        )

    @property
    def sort_order(self) -> Sort:
        return Sort.parse(self.sort)

    def renamed(self, name: str) -> SavedView:
        return replace(self, name=name)

    @property
    def content(self) -> tuple[Any, ...]:
        """Everything but the name: what makes two views show the same rows the same way."""
        return (
            self.log,
            self.conditions,
            self.search,
            self.time_preset,
            self.time_from,
            self.time_to,
            self.sort,
            self.columns,
            self.business_unit,
        )

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value, a second's work for 10,000 views.
        return {
            "name": self.name,
            "log": self.log,
            "conditions": [{"text": c.text, "enabled": c.enabled} for c in self.conditions],
            "search": self.search,
            "time_preset": self.time_preset,
            "time_from": self.time_from,
            "time_to": self.time_to,
            "sort": self.sort,
            "columns": list(self.columns),
            "business_unit": self.business_unit,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SavedView:
        """A view from its JSON form; ValueError says what is wrong, in words."""
        return _view(data)


@dataclass
class ViewFile:
    views: list[SavedView] = field(default_factory=list)

    def dumps(self) -> str:
        return json.dumps(
            {"auditviewer_views": FORMAT_VERSION, "views": [v.to_dict() for v in self.views]},
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ViewFile:
        """Read and check a views file whole; ValueError (for the user) if any of it is wrong."""
        target = Path(path)
        try:
            if not target.is_file():  # a folder, or a device or pipe that might never end
                raise ValueError("it is not a file")
            with target.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ValueError(f"it cannot be read: {exc.strerror or exc}") from exc
        if len(data) > MAX_FILE_BYTES:
            size = target.stat().st_size
            raise ValueError(
                f"the file is {size / 1e6:,.1f} MB; a views file is at most {MAX_FILE_BYTES // 1_000_000} MB"
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("not a views file: it is not UTF-8 text") from None
        return cls.loads(text)

    @classmethod
    def loads(cls, text: str) -> ViewFile:
        """Every view checked before any is returned: the first wrong one is named by number and name."""
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a views file: {exc}") from None
        except RecursionError:
            raise ValueError("not a views file: its lists or objects are nested too deeply") from None
        if isinstance(data, dict) and "views" in data:
            version = data.get("auditviewer_views", FORMAT_VERSION)
            if version != FORMAT_VERSION or isinstance(version, bool):
                raise ValueError(f"the file is in views format {version!r}; this version reads format {FORMAT_VERSION}")
            items = data["views"]
        else:
            items = data
        if not isinstance(items, list):
            raise ValueError("not a views file: expected a list of views")
        if len(items) > MAX_VIEWS:
            raise ValueError(f"the file holds {len(items):,} views; at most {MAX_VIEWS:,} can be imported at once")
        views: list[SavedView] = []
        first_of: dict[str, int] = {}
        for number, item in enumerate(items, start=1):
            where = f"view {number}"
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                where += f" ({_quoted(item['name'])})"
            view = _view(item, where)
            if view.name in first_of:
                raise ValueError(
                    f"{where} has the same name as view {first_of[view.name]}; "
                    f"each view in a file needs a name of its own"
                )
            first_of[view.name] = number
            views.append(view)
        return cls(views)


# -- checking a view, field by field ------------------------------------------------------------


def _no_constant(name: str) -> None:
    raise ValueError(f"not a views file: it holds {name}, which is not a JSON number")


def _quoted(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _kind(value: Any) -> str:
    """What a JSON value is, in words: "a number", "a list", "text"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {_quoted(value)}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def _text(
    data: dict[str, Any], key: str, where: str, default: str | None = None, *, required: bool = False
) -> str | None:
    value = data.get(key, default)
    if key not in data and required:
        raise ValueError(f"{where} has no {key!r}")
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be text, not {_kind(value)}")
    return value


def _view(data: Any, where: str = "a saved view") -> SavedView:
    """A view read from JSON, each field checked in turn; ValueError names ``where`` and the field."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object with a name and a log, not {_kind(data)}")
    name = _text(data, "name", where, required=True) or ""
    if not name.strip():
        raise ValueError(f"{where} has an empty name")
    log = _log_key(data, where)
    conditions = _conditions(data.get("conditions", []), where)
    preset = _text(data, "time_preset", where, "any") or "any"
    if preset not in TIME_PRESETS:
        raise ValueError(f"{where}: time_preset {_quoted(preset)} is not one of {', '.join(TIME_PRESETS)}")
    # A custom range that ends before it starts is kept: the tab says so when the view is opened.
    time_from, time_to = (_iso_time(data, key, where) for key in ("time_from", "time_to"))
    return SavedView(
        name=name,
        log=log,
        conditions=conditions,
        time_preset=preset,
        time_from=time_from,
        time_to=time_to,
        sort=_sort(data, where),
        columns=_column_names(data, where),
        business_unit=_business_unit(data, where),
        search=_text(data, "search", where, "") or "",
    )


def _log_key(data: dict[str, Any], where: str) -> str:
    log = _text(data, "log", where, required=True) or ""
    keys = [lt.key for lt in LOG_TYPES]
    if log not in keys:
        raise ValueError(f"{where} is for the log {_quoted(log)}, which is not one of {', '.join(keys)}")
    return log


def _sort(data: dict[str, Any], where: str) -> str:
    sort = _text(data, "sort", where, "date:desc") or "date:desc"
    try:
        Sort.parse(sort)
    except FilterError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return sort


def _column_names(data: dict[str, Any], where: str) -> tuple[str, ...]:
    columns = data.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ValueError(f"{where}: columns must be a list of column names, not {_kind(columns)}")
    return tuple(columns)


def _business_unit(data: dict[str, Any], where: str) -> int | None:
    unit = data.get("business_unit")
    if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool) or not INT_MIN <= unit <= INT_MAX):
        raise ValueError(f"{where}: business_unit must be a whole number (a business unit's id), not {_kind(unit)}")
    return unit


def _conditions(items: Any, where: str) -> tuple[ConditionState, ...]:
    if not isinstance(items, list):
        raise ValueError(f"{where}: conditions must be a list of filter conditions, not {_kind(items)}")
    states = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            state = ConditionState(item)
        elif isinstance(item, dict):
            text = _text(item, "text", f"{where}, condition {number},", required=True)
            enabled = item.get("enabled", True)
            if not isinstance(enabled, bool):
                raise ValueError(f"{where}, condition {number}: enabled must be true or false, not {_kind(enabled)}")
            state = ConditionState(text or "", enabled)
        else:
            raise ValueError(
                f"{where}, condition {number}: a condition is filter text such as status>=500, not {_kind(item)}"
            )
        try:
            parse_condition(state.text)  # fail now, with the filter language's message
        except FilterError as exc:
            raise ValueError(f"{where}, condition {number}: {exc}") from None
        states.append(state)
    return tuple(states)


def _iso_time(data: dict[str, Any], key: str, where: str) -> str | None:
    text = _text(data, key, where)
    if text is None:
        return None
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {key} {_quoted(text)} is not a date and time such as 2025-06-01T00:00:00") from None
    return text
