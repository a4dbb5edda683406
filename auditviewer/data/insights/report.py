"""The overview as a printable report, for the reports' page renderer (``auditviewer.qt.report``).

The renderer draws a :class:`~auditviewer.data.report.Report`: header facts,
one picture, then one line per row. An overview becomes such a report whose
rows are its findings, most severe first: a line with the title and the
first words of what was found, the rest of it wrapped on the lines below,
then one line per item, each with the filter (in plain words) that shows its
rows in the window.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditviewer.data.filters import describe
from auditviewer.data.insights.model import Overview, Params, RowLink
from auditviewer.data.insights.render import span_words
from auditviewer.data.logtypes import Kind, Role, Severity
from auditviewer.data.report import Report, ReportColumn, ReportOptions
from auditviewer.data.source import Source
from auditviewer.data.timestamps import UTC, zone_name

WORDS = {Severity.ERROR: "Look now", Severity.WARNING: "Check", Severity.OK: "Fine"}
LINE = 80  # characters of "what was found" per printed line (the column is about that wide)
ITEMS = 8  # items printed per finding
COLUMNS = [
    ReportColumn("severity", "", Kind.TEXT, Role.PLAIN),
    ReportColumn("finding", "Finding", Kind.TEXT, Role.PLAIN),
    ReportColumn("found", "What was found", Kind.TEXT, Role.PLAIN),
    ReportColumn("rows", "Rows behind it", Kind.TEXT, Role.PLAIN),
]


@dataclass
class OverviewReport(Report):
    """A Report whose rows are prepared lines rather than a query's rows."""

    lines: list[list[str]] = field(default_factory=list)
    overview_facts: list[tuple[str, str]] = field(default_factory=list)

    def rows(self, limit: int | None = None) -> Iterator[list[str]]:
        yield from (self.lines if limit is None else self.lines[:limit])

    def facts(self) -> list[tuple[str, str]]:
        return list(self.overview_facts)


def _rows_words(source: Source, link: RowLink | None) -> str:
    if link is None:
        return ""
    table = source.logs.get(link.log)
    label = table.log_type.label if table is not None else link.log
    return f"{label}: {describe(link.filter(), table)}"


def overview_lines(overview: Overview, source: Source, items: int = ITEMS) -> list[list[str]]:
    lines: list[list[str]] = []
    for finding in overview.sorted():
        found = textwrap.wrap(finding.summary, LINE) or [""]
        lines.append([WORDS[finding.severity], finding.title, found[0], _rows_words(source, finding.link)])
        lines += [["", "", more, ""] for more in found[1:]]
        for item in finding.items[:items]:
            cells = " · ".join(c for c in item.cells if c)
            lines.append(["", "", f"• {cells}", _rows_words(source, item.link)])
        if len(finding.items) > items:
            lines.append(["", "", f"… and {len(finding.items) - items} more in the window's overview", ""])
    return lines


def overview_report(
    overview: Overview,
    source: Source,
    *,
    title: str | None = None,
    sha256: str | None = None,
    chart_png: bytes | None = None,
    sign_off: str | None = None,
    **extra: Any,
) -> OverviewReport:
    """The report of an overview; ``sha256`` ties it to the SQLite file it was computed from."""
    lines = overview_lines(overview, source)
    period = _period_words(overview.params)
    options = ReportOptions(
        title=title or f"Overview of {source.display_name}",
        orientation="landscape",
        sign_off=sign_off,
        include_chart=chart_png is not None,
    )
    return OverviewReport(
        title=options.title or "",
        log_label="Overview",
        business_unit=None,
        source_name=source.display_name,
        filters=period,
        sort="Most severe first",
        zone_name=zone_name(UTC),
        generated=datetime.now(UTC),
        row_count=len(lines),
        sha256=sha256,
        columns=list(COLUMNS),
        options=options,
        chart_png=chart_png,
        lines=lines,
        overview_facts=_facts(overview, source, period, sha256),
        **extra,
    )


def _period_words(p: Params) -> str:
    if p.time_from or p.time_to:
        return describe(p.window_filter).removeprefix("Date ")
    if p.last is not None:
        return f"the last {span_words(p.last)} of each log"
    return "the whole of each log"


def _facts(overview: Overview, source: Source, period: str, sha256: str | None) -> list[tuple[str, str]]:
    """The report's header: where, when, how many findings of each kind, and by which rules."""
    p = overview.params
    counts = {s: sum(1 for f in overview.findings if f.severity is s) for s in Severity}
    facts = [
        ("Source", source.display_name),
        ("Period", period),
        (
            "Findings",
            f"{counts[Severity.ERROR]} to look at now, {counts[Severity.WARNING]} to check, {counts[Severity.OK]} fine",
        ),
        (
            "Rules",
            f"a burst is {p.burst_failures} or more failed logins within {p.burst_minutes} minutes; "
            f"business hours {p.describe_business_hours()}",
        ),
        (
            "SHA-256",
            sha256 or ("not applicable (a server database, not a file)" if source.path is None else "not computed"),
        ),
        ("Generated", f"{datetime.now(UTC):%Y-%m-%d %H:%M} (UTC)"),
    ]
    if overview.problems:
        facts.append(("Not looked at", "; ".join(overview.problems)))
    return facts
