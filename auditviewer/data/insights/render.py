"""The overview as text (for a terminal) and as JSON-ready data (for scripts)."""

from __future__ import annotations

import shlex
import textwrap
from datetime import datetime, timedelta
from typing import Any

from auditviewer.data.insights.model import Chart, Finding, Overview, RowLink
from auditviewer.data.logtypes import Severity
from auditviewer.data.timestamps import format_time

MARKS = {Severity.ERROR: "[!!]", Severity.WARNING: "[! ]", Severity.OK: "[ok]"}
CELL = 48  # widest cell printed in a text table
WIDTH = 100


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def span_words(span: timedelta) -> str:
    """ "7 days", "36 hours", "90 minutes"."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def link_arguments(link: RowLink) -> str:
    """The ``auditviewer-cli export`` arguments that select the rows behind a finding."""
    parts = ["--log", link.log]
    for condition in link.conditions:
        parts += ["--where", condition]
    if link.time_from is not None:
        parts += ["--from", format_time(link.time_from)]
    if link.time_to is not None:
        parts += ["--to", format_time(link.time_to)]
    return " ".join(shlex.quote(p) for p in parts)


def _cut(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    cells = [tuple(_cut(c) for c in columns)] + [tuple(_cut(c) for c in row) for row in rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in cells) for i in range(len(columns))]
    # An item may have fewer cells than its finding has columns: the missing ones are left blank.
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def render_text(overview: Overview, items: int = 10) -> str:
    """A plain-text report, most severe findings first; at most ``items`` rows per finding."""
    p = overview.params
    period = "the whole of each log"
    if p.last is not None:
        period = f"the last {span_words(p.last)} of each log"
    if p.time_from or p.time_to:
        period = f"from {_time(p.time_from) or 'the start'} to {_time(p.time_to) or 'the end'} UTC"
    lines = [
        f"Overview of {overview.source}: {period}",
        f"Bursts: {p.burst_failures} or more failed logins within {p.burst_minutes} minutes. "
        f"Business hours: {p.describe_business_hours()}.",
        "",
    ]
    for finding in overview.sorted():
        lines += _finding_text(finding, items)
    for problem in overview.problems:
        lines.append(f"not looked at: {problem}")
    return "\n".join(lines).rstrip() + "\n"


def _finding_text(finding: Finding, items: int) -> list[str]:
    lines = [f"{MARKS[finding.severity]} {finding.title}"]
    lines += textwrap.wrap(finding.summary, WIDTH, initial_indent="     ", subsequent_indent="     ")
    if finding.link is not None:
        lines.append(f"     rows: {link_arguments(finding.link)}")
    if finding.items:
        shown = [item.cells for item in finding.items[:items]]
        lines += ["     " + line for line in _table(finding.columns, shown)]
        if len(finding.items) > items:
            lines.append(f"     … and {len(finding.items) - items} more")
    lines.append("")
    return lines


def _link_dict(link: RowLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {
        "log": link.log,
        "conditions": list(link.conditions),
        "from": _time(link.time_from),
        "to": _time(link.time_to),
    }


def _chart_dict(chart: Chart | None) -> dict[str, Any] | None:
    if chart is None:
        return None
    return {
        "kind": chart.kind,
        "title": chart.title,
        "y_label": chart.y_label,
        "stacked": chart.stacked,
        "categories": list(chart.categories),
        "edges": [_time(e) for e in chart.edges],
        "series": [{"label": s.label, "color": s.color, "values": list(s.values)} for s in chart.series],
    }


def to_dict(overview: Overview) -> dict[str, Any]:
    p = overview.params
    return {
        "source": overview.source,
        "generated": _time(overview.generated),
        "params": {
            "burst_failures": p.burst_failures,
            "burst_minutes": p.burst_minutes,
            "business_hours": [p.business_start, p.business_end],
            "business_days": list(p.business_days),
            "zone": p.zone,
            "from": _time(p.time_from),
            "to": _time(p.time_to),
            "last_seconds": int(p.last.total_seconds()) if p.last else None,
        },
        "findings": [
            {
                "kind": f.kind,
                "title": f.title,
                "severity": f.severity.name.lower(),
                "summary": f.summary,
                "log": f.log,
                "rows": _link_dict(f.link),
                "columns": list(f.columns),
                "items": [
                    {"cells": list(i.cells), "severity": i.severity.name.lower(), "rows": _link_dict(i.link)}
                    for i in f.items
                ],
                "chart": _chart_dict(f.chart),
            }
            for f in overview.sorted()
        ],
        "problems": list(overview.problems),
    }
