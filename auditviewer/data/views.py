"""Saved views: a tab's filters, sort and columns under a name, as JSON.

A view holds conditions as filter-language text, so a view file is readable,
portable between sources and checked against the log when it is applied.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from auditviewer.data.filters import Condition, Filter, Sort, parse_condition
from auditviewer.data.timestamps import parse_duration

FORMAT_VERSION = 1
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
            time_from=datetime.fromisoformat(self.time_from) if self.time_preset == "custom" and self.time_from else None,
            time_to=datetime.fromisoformat(self.time_to) if self.time_preset == "custom" and self.time_to else None,
            last=parse_duration(span) if span else None,
            search=self.search,
            business_unit=self.business_unit,
        )

    @property
    def sort_order(self) -> Sort:
        return Sort.parse(self.sort)

    def renamed(self, name: str) -> "SavedView":
        return replace(self, name=name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["conditions"] = [asdict(c) for c in self.conditions]
        data["columns"] = list(self.columns)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SavedView":
        if not isinstance(data, dict) or "name" not in data or "log" not in data:
            raise ValueError("a saved view needs at least a name and a log")
        conditions = tuple(
            ConditionState(str(c["text"]), bool(c.get("enabled", True))) if isinstance(c, dict)
            else ConditionState(str(c))
            for c in data.get("conditions", ())
        )
        for state in conditions:
            parse_condition(state.text)  # fail now, with the filter language's message
        bu = data.get("business_unit")
        return cls(
            name=str(data["name"]), log=str(data["log"]), conditions=conditions,
            search=str(data.get("search", "")), time_preset=str(data.get("time_preset", "any")),
            time_from=data.get("time_from"), time_to=data.get("time_to"),
            sort=str(data.get("sort", "date:desc")),
            columns=tuple(str(c) for c in data.get("columns", ())),
            business_unit=int(bu) if bu is not None else None,
        )


@dataclass
class ViewFile:
    views: list[SavedView] = field(default_factory=list)

    def dumps(self) -> str:
        return json.dumps({"auditviewer_views": FORMAT_VERSION, "views": [v.to_dict() for v in self.views]},
                          indent=2, ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> "ViewFile":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a views file: {exc}") from None
        if isinstance(data, dict) and "views" in data:
            items = data["views"]
        elif isinstance(data, list):
            items = data
        else:
            raise ValueError("not a views file: expected a list of views")
        return cls([SavedView.from_dict(item) for item in items])
