"""Streaming a query's rows to CSV or JSON Lines in constant memory.

Writing goes to a temporary file beside the target, renamed into place only
when every row is written: a cancelled or failed export leaves no
half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
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
from auditviewer.data.query import LogQuery
from auditviewer.data.timestamps import UTC

FORMATS = ("csv", "json")
Progress = Callable[[int], None]


def _time_text(value: datetime, zone: tzinfo) -> str:
    if zone is UTC:
        return value.isoformat(sep=" ")
    return value.replace(tzinfo=UTC).astimezone(zone).isoformat(sep=" ")


class _Cells:
    """Rows as cells to write (times as text in ``zone``), counting as they go."""

    def __init__(self, query: LogQuery, zone: tzinfo, token: CancelToken | None, limit: int | None,
                 progress: Progress | None) -> None:
        self.count = 0
        self._rows = query.iter_rows(token, limit=limit)
        self._zone = zone
        self._progress = progress
        self._times = [i for i, name in enumerate(query.columns)
                       if query.table.column(name).kind is Kind.DATETIME]  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[Sequence[Any]]:
        zone, times, progress = self._zone, self._times, self._progress
        for row in self._rows:
            self.count += 1
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
              limit: int | None = None, progress: Progress | None = None) -> int:
    """CSV with a header row of column names; NULL is an empty cell."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(query.columns)
    cells = _Cells(query, zone, token, limit, progress)
    writer.writerows(cells)
    return cells.count


def write_jsonl(query: LogQuery, out: IO[str], zone: tzinfo = UTC, token: CancelToken | None = None,
                limit: int | None = None, progress: Progress | None = None) -> int:
    """One JSON object per line, keyed by column name; NULL is null."""
    names = query.columns
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    cells = _Cells(query, zone, token, limit, progress)
    for row in cells:
        out.write(dumps(dict(zip(names, row))))
        out.write("\n")
    return cells.count


WRITERS = {"csv": write_csv, "json": write_jsonl}


def export(query: LogQuery, fmt: str, target: str | os.PathLike[str] | IO[str], zone: tzinfo = UTC,
           token: CancelToken | None = None, limit: int | None = None,
           progress: Progress | None = None, bom: bool = False) -> int:
    """Write the query's rows to ``target`` (a path, or an open text stream). Returns the row count."""
    writer = WRITERS[fmt]
    if not isinstance(target, (str, os.PathLike)):
        return writer(query, target, zone, token, limit, progress)
    with atomic_output(Path(target), "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        return writer(query, out, zone, token, limit, progress)


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` only if the block finishes without error."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with open(fd, mode, **kwargs) as out:
            yield out
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def to_text(query: LogQuery, fmt: str = "csv", **kwargs: Any) -> str:
    """The export as a string, for small results (tests, clipboard)."""
    buffer = io.StringIO()
    WRITERS[fmt](query, buffer, **kwargs)
    return buffer.getvalue()
