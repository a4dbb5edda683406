"""Streaming a query's rows out in constant memory: CSV, JSON Lines, Excel, PDF.

:func:`export` is the one entry the CLI and the window share. CSV and JSON
Lines are written here; Excel by ``xlsx``; PDF by the writer the caller hands
in (``auditviewer.qt.report.painter.write_pdf``: pages are drawn with Qt, and
this layer never loads Qt). Files are written through
``outfile``: a temporary file beside the target, renamed into place only when
every row is written (a cancelled or failed export leaves no half-written file
behind); a FIFO or device is written straight through; an output that is the
database being read is refused before anything runs.

CSV cells are the data as it is. ``excel_safe`` is for files meant for a
spreadsheet: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return (which Excel would run as a formula, the "CSV injection" of
OWASP) gets a leading ``'``, so Excel shows it as text. Only text is marked:
numbers (an integer column's -1) are written as they are, as no number can
hold a formula; text that merely looks like a number ("-1", "+48 600...") is
marked like any other text, because telling which text Excel would read as a
number depends on its locale, and a mistake there would be an injection. JSON
is never changed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import IO, Any, Protocol

from auditviewer.data.cancel import CancelToken
from auditviewer.data.logtypes import Kind
from auditviewer.data.masking import row_masker
from auditviewer.data.outfile import atomic_output, check_output
from auditviewer.data.query import LogQuery
from auditviewer.data.report import Report, ReportOptions, build_report
from auditviewer.data.timestamps import UTC, to_zone

FORMATS = ("csv", "json", "xlsx", "pdf")
#: Formats written as text, to a stream as well as to a file.
TEXT_FORMATS = ("csv", "json")
Progress = Callable[[int], None]
#: What a text cell begins with for Excel to take it as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class PdfWriter(Protocol):
    """What draws a report into a PDF file and returns its pages: ``auditviewer.qt.report.painter.write_pdf``.

    It calls ``progress(page, pages)`` as pages are done, stops with QueryCancelled when
    ``cancelled()`` says so, and leaves the file in place only when it is complete.
    """

    def __call__(
        self,
        report: Report,
        path: str | os.PathLike[str],
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> int: ...


def _time_text(value: datetime, zone: tzinfo) -> str:
    if zone is UTC:
        return value.isoformat(sep=" ")
    return to_zone(value, zone).isoformat(sep=" ")  # past 9999 in the zone: in UTC, with its +00:00


class _Cells:
    """Rows as cells to write (times as text in ``zone``), counting as they go."""

    def __init__(
        self,
        query: LogQuery,
        zone: tzinfo,
        token: CancelToken | None,
        limit: int | None,
        progress: Progress | None,
        mask: bool = False,
    ) -> None:
        self.count = 0
        self._rows = query.iter_rows(token, limit=limit)
        self._zone = zone
        self._progress = progress
        columns = [query.table.require_column(name) for name in query.columns]
        self._times = [i for i, column in enumerate(columns) if column.kind is Kind.DATETIME]
        self._mask = row_masker([c.spec.role for c in columns]) if mask else None

    def __iter__(self) -> Iterator[Sequence[Any]]:
        zone, times, progress, mask = self._zone, self._times, self._progress, self._mask
        for fetched in self._rows:
            self.count += 1
            row: Sequence[Any] = mask(fetched) if mask is not None else fetched
            if progress is not None and self.count % 10_000 == 0:
                progress(self.count)
            if times:
                cells = list(row)
                for i in times:
                    value = cells[i]
                    if isinstance(value, datetime):
                        cells[i] = _time_text(value, zone)
                yield cells
            else:
                yield row
        if progress is not None:
            progress(self.count)


def write_csv(
    query: LogQuery,
    out: IO[str],
    zone: tzinfo = UTC,
    token: CancelToken | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    *,
    mask: bool = False,
    excel_safe: bool = False,
) -> int:
    """CSV with a header row of column names; NULL is an empty cell. ``excel_safe``: see the module."""
    writer = csv.writer(out, lineterminator="\r\n")
    cells = _Cells(query, zone, token, limit, progress, mask)
    if excel_safe:
        writer.writerow(excel_safe_row(query.columns))
        writer.writerows(map(excel_safe_row, cells))
    else:
        writer.writerow(query.columns)
        writer.writerows(cells)
    return cells.count


def excel_safe_row(row: Sequence[Any]) -> list[Any]:
    """The row with a ``'`` before each text cell Excel would take for a formula; numbers as they are."""
    return [f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value for value in row]


def write_jsonl(
    query: LogQuery,
    out: IO[str],
    zone: tzinfo = UTC,
    token: CancelToken | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    *,
    mask: bool = False,
    excel_safe: bool = False,
) -> int:
    """One JSON object per line, keyed by column name; NULL is null. Never changed for Excel."""
    names = query.columns
    # A value JSON has no type for (a BLOB where text belongs) is written as the CSV and the table show it.
    dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode
    cells = _Cells(query, zone, token, limit, progress, mask)
    for row in cells:
        out.write(dumps(dict(zip(names, row, strict=True))))
        out.write("\n")
    return cells.count


WRITERS = {"csv": write_csv, "json": write_jsonl}


def export(
    query: LogQuery,
    fmt: str,
    target: str | os.PathLike[str] | IO[str],
    zone: tzinfo = UTC,
    token: CancelToken | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    bom: bool = False,
    *,
    mask: bool = False,
    options: ReportOptions | None = None,
    report: Report | None = None,
    excel_safe: bool = False,
    protect: Iterable[str | os.PathLike[str] | None] = (),
    pdf_writer: PdfWriter | None = None,
) -> int:
    """Write the query's rows to ``target`` in ``fmt`` (one of :data:`FORMATS`). Returns the row count.

    ``target`` is a path, or, for CSV and JSON, an open text stream. ``mask``
    hides personal data in every format. Excel and PDF also say what the rows
    are (title, filters, SHA-256 of the file...): from ``report`` when given,
    else built from ``options`` (title, orientation, sign-off) with ``zone``
    and ``mask``. ``progress`` is called with the rows written so far.
    ``excel_safe`` marks CSV text cells Excel would run as formulas (see the
    module). A file ``target`` is checked before anything runs
    (:func:`outfile.check_output`): never the database the query reads, nor a
    file of ``protect`` (other open sources). A PDF is drawn by ``pdf_writer``
    (:class:`PdfWriter`), which a PDF export must be given.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")
    if isinstance(target, (str, os.PathLike)):
        protect = [*protect, query.table.source.path]
        check_output(target, protect)
    if fmt in TEXT_FORMATS:
        return _export_text(query, fmt, target, zone, token, limit, progress, bom, mask, excel_safe, protect)
    if not isinstance(target, (str, os.PathLike)):
        raise ValueError(f"a {fmt} export needs a file to write, not a stream")
    if fmt == "pdf" and pdf_writer is None:
        raise ValueError("a pdf export needs a pdf_writer (auditviewer.qt.report.painter.write_pdf)")
    token = token or CancelToken()
    if report is None:
        options = (
            dataclasses.replace(options, zone=zone, mask=mask)
            if options is not None
            else ReportOptions(zone=zone, mask=mask)
        )
        report = build_report(query, options, token=token, limit=limit)
    if fmt == "xlsx":
        from auditviewer.data.xlsx import write_xlsx

        return write_xlsx(query, target, token=token, progress=progress, report=report)
    assert pdf_writer is not None  # refused above, before any work
    return _export_pdf(report, target, pdf_writer, token, progress)


def _export_text(
    query: LogQuery,
    fmt: str,
    target: str | os.PathLike[str] | IO[str],
    zone: tzinfo,
    token: CancelToken | None,
    limit: int | None,
    progress: Progress | None,
    bom: bool,
    mask: bool,
    excel_safe: bool,
    protect: Iterable[str | os.PathLike[str] | None],
) -> int:
    """CSV or JSON Lines, to a stream as it is or to a file that appears only when complete."""
    writer = WRITERS[fmt]
    safe = excel_safe and fmt == "csv"
    if not isinstance(target, (str, os.PathLike)):
        return writer(query, target, zone, token, limit, progress, mask=mask, excel_safe=safe)
    with atomic_output(target, "w", protect, encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        return writer(query, out, zone, token, limit, progress, mask=mask, excel_safe=safe)


def _export_pdf(
    report: Report, target: str | os.PathLike[str], draw: PdfWriter, token: CancelToken, progress: Progress | None
) -> int:
    """The report drawn by ``draw``; progress in rows, as pages are done."""
    rows = report.row_count

    def pages_done(page: int, pages: int) -> None:
        if progress is not None:
            progress(rows * page // max(pages, 1))

    draw(report, target, progress=pages_done, cancelled=lambda: token.cancelled)
    return rows


def to_text(query: LogQuery, fmt: str = "csv", **kwargs: Any) -> str:
    """The export as a string, for small results (tests, clipboard)."""
    buffer = io.StringIO()
    WRITERS[fmt](query, buffer, **kwargs)
    return buffer.getvalue()
