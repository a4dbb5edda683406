"""What the overview finds, as plain data: findings, the rows behind them, their charts.

A finding never holds rows. It holds the way to the rows (:class:`RowLink`: a
log, conditions in the filter language and a time range), so the window can
open a log tab on them, the CLI can print the export command, and a report
can quote the filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditviewer.data.filters import Condition, Filter, check_time_range, parse_condition
from auditviewer.data.logtypes import Severity
from auditviewer.data.timestamps import get_zone
from auditviewer.data.views import ConditionState, SavedView

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_BURST_FAILURES = 1_000_000
MAX_BURST_MINUTES = 365 * 24 * 60


@dataclass(frozen=True)
class Params:
    """What the user can adjust: the period looked at, burst and business-hour rules."""

    burst_failures: int = 5
    burst_minutes: int = 10
    business_start: int = 7  # hour of day, inclusive
    business_end: int = 19  # hour of day, exclusive
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    zone: str = "UTC"  # business hours are in this zone (an IANA name, "UTC" or "local")
    time_from: datetime | None = None  # naive UTC
    time_to: datetime | None = None  # exclusive
    last: timedelta | None = None  # back from each log's newest row
    top: int = 10

    def __post_init__(self) -> None:
        if not 2 <= self.burst_failures <= MAX_BURST_FAILURES:
            raise ValueError(f"a burst needs at least 2 failed logins, and at most {MAX_BURST_FAILURES:,}")
        if not 1 <= self.burst_minutes <= MAX_BURST_MINUTES:
            raise ValueError(f"the burst window must be at least 1 minute, and at most {MAX_BURST_MINUTES:,} (a year)")
        if self.time_from is not None and self.time_to is not None:
            check_time_range(self.time_from, self.time_to, get_zone(self.zone))
        if not (0 <= self.business_start < self.business_end <= 24):
            raise ValueError("business hours must be a range of hours within a day, e.g. 7-19")
        if not self.business_days or not all(0 <= d <= 6 for d in self.business_days):
            raise ValueError("business days are numbers 0 (Monday) to 6 (Sunday)")
        if self.top < 1:
            raise ValueError("top must be at least 1")

    @property
    def window_filter(self) -> Filter:
        return Filter(time_from=self.time_from, time_to=self.time_to, last=self.last)

    def describe_business_hours(self) -> str:
        days = sorted(self.business_days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            named = f"{WEEKDAYS[days[0]]}–{WEEKDAYS[days[-1]]}"
        else:
            named = ", ".join(WEEKDAYS[d] for d in days)
        return f"{self.business_start:02d}:00–{self.business_end:02d}:00 {named} ({self.zone})"


@dataclass(frozen=True)
class RowLink:
    """The rows behind a finding: a log, filter-language conditions, a time range [from, to)."""

    log: str
    conditions: tuple[str, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None

    def __post_init__(self) -> None:
        for text in self.conditions:
            parse_condition(text)  # a finding must never link to a filter that does not read

    @classmethod
    def of(
        cls, log: str, *conditions: Condition | str, time_from: datetime | None = None, time_to: datetime | None = None
    ) -> RowLink:
        texts = tuple(c.text() if isinstance(c, Condition) else c for c in conditions)
        return cls(log, texts, time_from, time_to)

    def filter(self) -> Filter:
        return Filter(tuple(parse_condition(t) for t in self.conditions), self.time_from, self.time_to)

    def view(self, name: str) -> SavedView:
        """A saved view that shows these rows (what a log tab applies)."""
        custom = self.time_from is not None and self.time_to is not None
        return SavedView(
            name=name,
            log=self.log,
            conditions=tuple(ConditionState(t) for t in self.conditions),
            time_preset="custom" if custom else "any",
            time_from=self.time_from.isoformat(sep=" ") if custom and self.time_from else None,
            time_to=self.time_to.isoformat(sep=" ") if custom and self.time_to else None,
        )


@dataclass(frozen=True)
class ChartSeries:
    label: str
    values: tuple[float, ...]
    color: str


@dataclass(frozen=True)
class Chart:
    """A chart's data. ``kind``: "bar" (one bar per category), "time" (stacked bars
    over time buckets ``edges``) or "line" (lines over time, one point per bucket)."""

    kind: str
    title: str
    y_label: str
    series: tuple[ChartSeries, ...]
    categories: tuple[str, ...] = ()
    edges: tuple[datetime, ...] = ()
    stacked: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "time", "line"):
            raise ValueError(f"unknown chart kind {self.kind!r}")
        width = len(self.categories) if self.kind == "bar" else max(len(self.edges) - 1, 0)
        for series in self.series:
            if len(series.values) != width:
                raise ValueError(f"{self.title}: series {series.label!r} has {len(series.values)} values, not {width}")


@dataclass(frozen=True)
class Item:
    """One line of a finding's table, with the rows behind it."""

    cells: tuple[str, ...]
    link: RowLink | None = None
    severity: Severity = Severity.OK


@dataclass(frozen=True)
class Finding:
    kind: str
    title: str
    severity: Severity
    summary: str
    log: str
    link: RowLink | None = None
    columns: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    chart: Chart | None = None


@dataclass(frozen=True)
class Overview:
    source: str
    params: Params
    findings: tuple[Finding, ...]
    #: Steps that could not run, with the reason (a log missing a column, a server error).
    problems: tuple[str, ...] = ()
    generated: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def sorted(self) -> tuple[Finding, ...]:
        """Most severe first; the order of the steps otherwise."""
        order = {id(f): i for i, f in enumerate(self.findings)}
        return tuple(sorted(self.findings, key=lambda f: (-int(f.severity), order[id(f)])))
