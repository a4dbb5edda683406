"""A query's rows as a real Excel workbook, streamed in constant memory.

openpyxl's write-only mode writes each row as it comes. Cells are typed:
dates are Excel dates (in the report's zone, which Excel cannot store, so
the zone is named in the header and on the About sheet), whole numbers are
numbers, text is text (never a formula, even when it starts with "=").
The header row is bold and frozen, with an auto-filter; column widths come
from the header and the first rows. Past Excel's 1,048,576 rows a sheet
ends and the rows go on in a sheet named "Rows 1048576-...".

The file appears only when complete (``outfile.atomic_path``); a cancelled
or failed export leaves neither the target nor openpyxl's temporary files.
A FIFO or device gets the workbook once it is complete.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as openpyxl_writer

from auditviewer.data.cancel import CancelToken
from auditviewer.data.logtypes import Kind
from auditviewer.data.masking import row_masker
from auditviewer.data.outfile import atomic_path
from auditviewer.data.query import LogQuery
from auditviewer.data.report import Report, ReportOptions, build_report
from auditviewer.data.timestamps import UTC, to_zone

log = logging.getLogger(__name__)

#: Rows of a sheet, the header included (Excel's limit; tests make it small).
SHEET_ROWS = 1_048_576
#: Rows read before the first is written, to size the columns.
WIDTH_SAMPLE = 200
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
MIN_WIDTH, MAX_WIDTH = 6, 60  # in characters
# Characters XML 1.0 cannot hold; openpyxl refuses them. Shown as U+FFFD.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")

Progress = Callable[[int], None]


def write_xlsx(
    query: LogQuery,
    path: str | os.PathLike[str],
    zone: tzinfo = UTC,
    token: CancelToken | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    *,
    mask: bool = False,
    report: Report | None = None,
) -> int:
    """Write the query's rows to ``path`` as .xlsx; returns the row count.

    ``report`` (facts for the About sheet) is built if not given: a count and,
    for a SQLite file, its SHA-256.
    """
    token = token or CancelToken()
    if report is None:
        report = build_report(query, ReportOptions(zone=zone, mask=mask), token=token, limit=limit)
    wb = Workbook(write_only=True)
    wb.properties.title = report.title
    wb.properties.creator = "auditviewer"
    try:
        with atomic_path(path, protect=[query.table.source.path]) as temp, open(temp, "wb") as out:
            n = _write_sheets(wb, query, report, token, progress)
            _write_about(wb, report)
            wb.save(out)
    finally:
        _discard_temporary_files(wb)
    return n


def _write_sheets(wb: Workbook, query: LogQuery, report: Report, token: CancelToken, progress: Progress | None) -> int:
    """The rows, typed, on as many sheets as they need; column widths from the first rows."""
    columns = [query.table.column(name) for name in query.columns]
    kinds = [c.kind if c is not None else Kind.TEXT for c in columns]
    labels = [c.label if c is not None else name for c, name in zip(columns, query.columns, strict=True)]
    zone = report.zone
    mask = row_masker([c.role for c in report.columns]) if report.options.mask else None
    # As many rows as the report counted: a log growing meanwhile cannot make the About sheet wrong.
    rows = query.iter_rows(token, limit=report.row_count)
    first = wb.create_sheet(_sheet_name(report.log_label))

    def typed(row: Sequence[Any]) -> list[Any]:
        return _typed(mask(row) if mask else row, zone, first)

    sample = [typed(row) for row in itertools.islice(rows, WIDTH_SAMPLE)]
    sheets = _Sheets(wb, first, labels, _widths(labels, kinds, sample))
    for cells in itertools.chain(sample, map(typed, rows)):
        sheets.append(cells)
        if sheets.count % 10_000 == 0:
            token.raise_if_cancelled()
            if progress is not None:
                progress(sheets.count)
    sheets.finish()
    token.raise_if_cancelled()
    if progress is not None:
        progress(sheets.count)
    return sheets.count


class _Sheets:
    """Rows appended to one sheet after another, each up to Excel's limit, with header, widths and filter."""

    def __init__(self, wb: Workbook, first: Any, labels: list[str], widths: list[float]) -> None:
        self.count = 0  # rows appended, on every sheet
        self._wb, self._labels, self._widths = wb, labels, widths
        self._last_col = get_column_letter(max(len(labels), 1))
        self._done: list[tuple[Any, int, int]] = []  # (sheet, first row number, rows)
        self._ws = self._started(first)
        self._in_sheet = 0

    def append(self, cells: list[Any]) -> None:
        if self._in_sheet == SHEET_ROWS - 1:
            self._close_sheet()
            self._ws = self._started(self._wb.create_sheet(f"Rows {self.count + 1}-"))
            self._in_sheet = 0
        self._ws.append(cells)
        self._in_sheet += 1
        self.count += 1

    def finish(self) -> None:
        """Close the last sheet; with more than one, name every sheet by its rows, now that all are known."""
        self._close_sheet()
        if len(self._done) > 1:
            for sheet, first, n in self._done:
                sheet.title = f"Rows {first}-{first + n - 1}"

    def _started(self, ws: Any) -> Any:
        ws.freeze_panes = "A2"
        for i, width in enumerate(self._widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.append(_header(ws, self._labels))
        return ws

    def _close_sheet(self) -> None:
        self._ws.auto_filter.ref = f"A1:{self._last_col}{self._in_sheet + 1}"
        self._done.append((self._ws, self.count - self._in_sheet + 1, self._in_sheet))


def _header(ws: Any, labels: list[str]) -> list[Cell]:
    bold = Font(bold=True)
    fill = PatternFill("solid", start_color="FFE8ECF1")
    cells = []
    for label in labels:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        cell.fill = fill
        cells.append(cell)
    return cells


def _typed(row: Any, zone: tzinfo, ws: Any) -> list[Any]:
    """Values Excel understands: naive datetimes in ``zone``, numbers, safe text."""
    out: list[Any] = []
    for value in row:
        if isinstance(value, str):
            out.append(_text(value, ws))
        elif isinstance(value, datetime):
            shown = value if zone is UTC else to_zone(value, zone)
            out.append(shown.replace(tzinfo=None))
        else:
            out.append(value)
    return out


def _text(value: str, ws: Any = None) -> Any:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("\ufffd", value)
    if len(value) > MAX_CELL_TEXT:
        value = value[: MAX_CELL_TEXT - 1] + "…"
    if (value.startswith("=") and len(value) > 1) or value in ERROR_CODES:
        # openpyxl would write "=..." as a live formula: data from a browser must stay text.
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _widths(labels: list[str], kinds: list[Kind], sample: list[list[Any]]) -> list[float]:
    widths = []
    for i, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        if kind is Kind.DATETIME:
            longest = 19
        else:
            lengths = sorted(
                len(str(row[i].value if isinstance(row[i], Cell) else row[i])) for row in sample if row[i] is not None
            )
            # The 95th percentile: one freak value should not make a column a screen wide.
            longest = lengths[int(len(lengths) * 0.95)] if lengths else 0
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, len(label) + 3, longest + 2))))
    return widths


def _sheet_name(text: str) -> str:
    name = _SHEET_NAME_BAD.sub(" ", text).strip("' ")[:31]
    return name or "Rows"


def _write_about(wb: Workbook, report: Report) -> None:
    """A last sheet saying what the rows are: the same facts a PDF report prints on its first page."""
    ws = wb.create_sheet("About this report")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 100
    title = WriteOnlyCell(ws, value=_text(report.title, ws))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    ws.append([])
    wrap = Alignment(wrap_text=True, vertical="top")
    for label, text in report.facts():
        key = WriteOnlyCell(ws, value=label)
        key.font = Font(bold=True)
        key.alignment = Alignment(vertical="top")
        value = WriteOnlyCell(ws, value=text)
        value.data_type = "s"
        value.alignment = wrap
        ws.append([key, value])
    if report.options.sign_off:
        ws.append([])
        ws.append(["Sign-off", _text(report.options.sign_off, ws)])


def _discard_temporary_files(wb: Workbook) -> None:
    """openpyxl streams each sheet to a temporary file, removed only by a save or at exit: remove them now."""
    for ws in wb.worksheets:
        rows = getattr(ws, "_rows", None)
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            if rows is not None and not ws.closed:
                rows.close()
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            writer.xf.close()
        out = getattr(writer, "out", None)
        if isinstance(out, str):
            with contextlib.suppress(OSError):
                os.remove(out)
            with contextlib.suppress(ValueError):
                openpyxl_writer.ALL_TEMP_FILES.remove(out)
