"""Streaming a query's rows out in constant memory: CSV, JSON Lines, Excel, PDF.

:func:`export` is the one entry the CLI and the window share. CSV and JSON
Lines are written here; Excel by ``xlsx``; PDF by the Qt page renderer
(``auditviewer.qt.report.painter``), imported by name only when a PDF is
asked for, so this layer never loads Qt. Writing goes to a temporary file
beside the target, renamed into place only when every row is written: a
cancelled or failed export leaves no half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import importlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from auditviewer.data.cancel import CancelToken
from auditviewer.data.logtypes import Kind
from auditviewer.data.masking import row_masker
from auditviewer.data.query import LogQuery
from auditviewer.data.report import Report, ReportOptions, build_report
from auditviewer.data.timestamps import UTC, to_zone

FORMATS = ("csv", "json", "xlsx", "pdf")
#: Formats written as text, to a stream as well as to a file.
TEXT_FORMATS = ("csv", "json")
#: The module that draws PDF pages (needs Qt's GUI module; never imported by this layer's own imports).
PDF_RENDERER = "auditviewer.qt.report.painter"
Progress = Callable[[int], None]


def _time_text(value: datetime, zone: tzinfo) -> str:
    if zone is UTC:
        return value.isoformat(sep=" ")
    return to_zone(value, zone).isoformat(sep=" ")  # past 9999 in the zone: in UTC, with its +00:00


class _Cells:
    """Rows as cells to write (times as text in ``zone``), counting as they go."""

    def __init__(self, query: LogQuery, zone: tzinfo, token: CancelToken | None, limit: int | None,
                 progress: Progress | None, mask: bool = False) -> None:
        self.count = 0
        self._rows = query.iter_rows(token, limit=limit)
        self._zone = zone
        self._progress = progress
        columns = [query.table.column(name) for name in query.columns]
        self._times = [i for i, column in enumerate(columns) if column.kind is Kind.DATETIME]  # type: ignore[union-attr]
        self._mask = row_masker([c.spec.role for c in columns]) if mask else None  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[Sequence[Any]]:
        zone, times, progress, mask = self._zone, self._times, self._progress, self._mask
        for row in self._rows:
            self.count += 1
            if mask is not None:
                row = mask(row)
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


def write_csv(query: LogQuery, out: IO[str], zone: tzinfo = UTC, token: CancelToken | None = None,
              limit: int | None = None, progress: Progress | None = None, *, mask: bool = False) -> int:
    """CSV with a header row of column names; NULL is an empty cell."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(query.columns)
    cells = _Cells(query, zone, token, limit, progress, mask)
    writer.writerows(cells)
    return cells.count


def write_jsonl(query: LogQuery, out: IO[str], zone: tzinfo = UTC, token: CancelToken | None = None,
                limit: int | None = None, progress: Progress | None = None, *, mask: bool = False) -> int:
    """One JSON object per line, keyed by column name; NULL is null."""
    names = query.columns
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    cells = _Cells(query, zone, token, limit, progress, mask)
    for row in cells:
        out.write(dumps(dict(zip(names, row))))
        out.write("\n")
    return cells.count


WRITERS = {"csv": write_csv, "json": write_jsonl}


def export(query: LogQuery, fmt: str, target: str | os.PathLike[str] | IO[str], zone: tzinfo = UTC,
           token: CancelToken | None = None, limit: int | None = None,
           progress: Progress | None = None, bom: bool = False, *, mask: bool = False,
           options: ReportOptions | None = None, report: Report | None = None) -> int:
    """Write the query's rows to ``target`` in ``fmt`` (one of :data:`FORMATS`). Returns the row count.

    ``target`` is a path, or, for CSV and JSON, an open text stream. ``mask``
    hides personal data in every format. Excel and PDF also say what the rows
    are (title, filters, SHA-256 of the file...): from ``report`` when given,
    else built from ``options`` (title, orientation, sign-off) with ``zone``
    and ``mask``. ``progress`` is called with the rows written so far.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt in TEXT_FORMATS:
        writer = WRITERS[fmt]
        if not isinstance(target, (str, os.PathLike)):
            return writer(query, target, zone, token, limit, progress, mask=mask)
        with atomic_output(Path(target), "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
            return writer(query, out, zone, token, limit, progress, mask=mask)
    if not isinstance(target, (str, os.PathLike)):
        raise ValueError(f"a {fmt} export needs a file to write, not a stream")
    token = token or CancelToken()
    if report is None:
        options = dataclasses.replace(options, zone=zone, mask=mask) if options is not None else ReportOptions(
            zone=zone, mask=mask)
        report = build_report(query, options, token=token, limit=limit)
    if fmt == "xlsx":
        from auditviewer.data.xlsx import write_xlsx

        return write_xlsx(query, target, token=token, progress=progress, report=report)
    renderer = importlib.import_module(PDF_RENDERER)
    renderer.ensure_gui_app()

    def pages_done(page: int, pages: int) -> None:
        if progress is not None:
            progress(report.row_count * page // max(pages, 1))

    renderer.write_pdf(report, target, progress=pages_done, cancelled=lambda: token.cancelled)
    return report.row_count


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it only if the block finishes without error.

    For writers that open files themselves (openpyxl, Qt's PDF writer). The
    file gets the permissions a new file would (or the replaced file's), not
    the owner-only ones of a temporary file.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        _give_mode(temp, path)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` only if the block finishes without error."""
    with atomic_path(path) as temp, open(temp, mode, **kwargs) as out:
        yield out


def _give_mode(temp: Path, target: Path) -> None:
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.chmod(temp, mode)


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would race with other threads)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    return 0o022


def to_text(query: LogQuery, fmt: str = "csv", **kwargs: Any) -> str:
    """The export as a string, for small results (tests, clipboard)."""
    buffer = io.StringIO()
    WRITERS[fmt](query, buffer, **kwargs)  # type: ignore[operator]
    return buffer.getvalue()
