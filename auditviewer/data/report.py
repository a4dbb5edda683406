"""What a printed or exported report says, apart from how it is drawn.

A :class:`Report` is the header facts (title, source, filters in plain words,
sort, time zone, when it was made, row count, the SHA-256 of the SQLite file
that ties the report to its evidence) and a stream of rows already turned
into the text a reader sees: times in the report's zone, personal data masked
when asked. The PDF/print renderer (``auditviewer.qt.report``) and the Excel
writer read it; neither formats a value itself, so every format says the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from auditviewer import __version__
from auditviewer.data.cancel import CancelToken
from auditviewer.data.filters import Filter, describe
from auditviewer.data.logtypes import Kind, Role
from auditviewer.data.masking import mask_text, mask_value, row_masker
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Column
from auditviewer.data.timestamps import UTC, day_text, format_time, zone_name

log = logging.getLogger(__name__)

ORIENTATIONS = ("auto", "landscape", "portrait")
#: Rows read to size columns: enough to see typical widths, few enough to be instant.
SAMPLE_ROWS = 200
HASH_CHUNK = 4 << 20

#: (stage, done, total): what build_report is doing, e.g. ("Fingerprinting the database", 1.2e9, 3.4e9)
StageProgress = Callable[[str, int, int], None]


@dataclass
class ReportOptions:
    """What the user chose in the report dialog, or on the command line."""

    title: str | None = None
    mask: bool = False
    orientation: str = "auto"  # auto | landscape | portrait
    sign_off: str | None = None
    include_chart: bool = False
    zone: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.orientation not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {', '.join(ORIENTATIONS)}, not {self.orientation!r}")


@dataclass(frozen=True)
class ReportColumn:
    name: str
    label: str
    kind: Kind
    role: Role


@dataclass
class Report:
    """Facts and rows of one report. Make with :func:`build_report`; ``rows()`` may be read more than once."""

    title: str
    log_label: str
    business_unit: str | None
    source_name: str
    filters: str
    sort: str
    zone_name: str
    generated: datetime  # aware, in the report's zone
    row_count: int
    sha256: str | None  # None for a server database
    columns: list[ReportColumn]
    options: ReportOptions
    #: A picture of the tab's events-over-time chart (PNG), when the user asked for it.
    chart_png: bytes | None = None
    query: LogQuery | None = field(default=None, repr=False)
    token: CancelToken | None = field(default=None, repr=False)

    @property
    def zone(self) -> tzinfo:
        return self.options.zone

    @property
    def generated_text(self) -> str:
        return f"{day_text(self.generated.date())} {self.generated:%H:%M} ({self.zone_name})"

    def facts(self) -> list[tuple[str, str]]:
        """The header facts in reading order, as (label, text): page 1 of a PDF, the About sheet of a workbook."""
        facts = [
            ("Log", self.log_label + (f" — business unit {self.business_unit}" if self.business_unit else "")),
            ("Filters", self.filters),
            ("Sorted by", self.sort),
            ("Rows", f"{self.row_count:,}"),
            ("Times in", self.zone_name),
            ("Source", self.source_name),
            ("SHA-256", self.sha256 or "not applicable (a server database, not a file)"),
            ("Generated", f"{self.generated_text} by auditviewer {__version__}"),
        ]
        if self.options.mask:
            facts.append(("Personal data", "partly hidden (e-mail addresses, phone numbers, IP addresses, names)"))
        return facts

    def rows(self, limit: int | None = None) -> Iterator[list[str]]:
        """Every row of the report, in order, each cell as the text a reader sees ("" for NULL).

        Reads at most ``row_count`` rows, so a log that grows while the report
        is drawn cannot make the pages disagree with "Page X of Y".
        """
        if self.query is None:
            return
        n = self.row_count if limit is None else min(limit, self.row_count)
        if n <= 0:
            return
        cells = self.formatter()
        for row in self.query.iter_rows(self.token, limit=n):
            yield cells(row)

    def sample(self, n: int = SAMPLE_ROWS) -> list[list[str]]:
        """The first ``n`` rows, to size columns by."""
        return list(self.rows(limit=n))

    def formatter(self) -> Callable[[tuple[Any, ...]], list[str]]:
        """A function turning a query row into the report's cell texts."""
        zone = self.zone
        mask = row_masker([c.role for c in self.columns]) if self.options.mask else None

        def text(value: Any) -> str:
            if value is None:
                return ""
            if isinstance(value, datetime):
                return format_time(value, zone)
            return value if isinstance(value, str) else str(value)

        def cells(row: tuple[Any, ...]) -> list[str]:
            values = mask(row) if mask is not None else row
            return [text(v) for v in values]

        return cells


def build_report(
    query: LogQuery,
    options: ReportOptions,
    *,
    business_unit_name: str | None = None,
    token: CancelToken | None = None,
    limit: int | None = None,
    progress: StageProgress | None = None,
    chart_png: bytes | None = None,
) -> Report:
    """Count the rows and fingerprint the file: both can take seconds, so call this off the GUI thread."""
    token = token or CancelToken()
    table = query.table
    source = table.source
    zone = options.zone
    if business_unit_name is None and query.filter.business_unit is not None:
        business_unit_name = source.business_unit_name(query.filter.business_unit)
    label = table.log_type.label
    title = _title(options, label, business_unit_name)
    shown_filter = query.filter
    if options.mask:  # the words about the rows must not give away what the rows hide
        title = mask_text(title)
        shown_filter = masked_filter(query)
    if progress is not None:
        progress("Counting the rows", 0, 0)
    count = query.count(token)
    if limit is not None:
        count = min(count, max(limit, 0))
    digest = _source_sha256(query, token, progress)
    return Report(
        title=title,
        log_label=label,
        business_unit=business_unit_name,
        source_name=source.display_name,
        filters=describe(shown_filter, table, zone),
        sort=describe_sort(query),
        zone_name=zone_name(zone),
        generated=datetime.now(zone),
        row_count=count,
        sha256=digest,
        columns=[_report_column(table.require_column(name)) for name in query.columns],
        options=options,
        chart_png=chart_png if options.include_chart else None,
        query=query,
        token=token,
    )


def _title(options: ReportOptions, label: str, business_unit_name: str | None) -> str:
    """The title asked for, else the log's name and the business unit's."""
    if options.title and options.title.strip():
        return options.title.strip()
    return f"{label} — {business_unit_name}" if business_unit_name else label


def _source_sha256(query: LogQuery, token: CancelToken, progress: StageProgress | None) -> str | None:
    """The SHA-256 of the SQLite file the query reads; None for a server database."""
    path = query.table.source.path
    if path is None:
        return None

    def hashed(done: int, total: int) -> None:
        if progress is not None:
            progress("Computing the SHA-256 of the database file", done, total)

    return file_sha256(path, token, hashed)


def _report_column(column: Column) -> ReportColumn:
    return ReportColumn(column.name, column.label, column.kind, column.spec.role)


def masked_filter(query: LogQuery) -> Filter:
    """The query's filter with its values masked as their columns are: for describing it, never for SQL."""
    conditions = []
    for condition in query.filter.conditions:
        column = query.table.column(condition.column)
        role = column.spec.role if column is not None else Role.PLAIN
        values = tuple(mask_value(v, role) if role is not Role.PLAIN else mask_text(v) for v in condition.values)
        conditions.append(dataclasses.replace(condition, values=values))
    return dataclasses.replace(query.filter, conditions=tuple(conditions), search=mask_text(query.filter.search))


def describe_sort(query: LogQuery) -> str:
    """'Date, newest first'."""
    column = query.table.column(query.sort.column)
    label = column.label if column is not None else query.sort.column
    kind = column.kind if column is not None else Kind.TEXT
    words = {
        Kind.DATETIME: ("oldest first", "newest first"),
        Kind.INT: ("smallest first", "largest first"),
        Kind.TEXT: ("A to Z", "Z to A"),
    }[kind]
    return f"{label}, {words[query.sort.descending]}"


# -- the file's fingerprint ----------------------------------------------------------------------

_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(
    path: str | os.PathLike[str], token: CancelToken | None = None, progress: Callable[[int, int], None] | None = None
) -> str:
    """The SHA-256 of a file, read in chunks (a 3 GB export takes seconds), remembered while unchanged."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        known = _hash_cache.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    done = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            if token is not None:
                token.raise_if_cancelled()
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, stat.st_size)
    text = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = text
    log.debug("sha-256 of %s: %s", path, text)
    return text
