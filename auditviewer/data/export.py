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
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from auditviewer.data.cancel import CancelToken
from auditviewer.data.query import LogQuery
from auditviewer.data.timestamps import UTC

FORMATS = ("csv", "json")
Progress = Callable[[int], None]


def _time_text(value: datetime, zone: tzinfo) -> str:
    if zone is UTC:
        return value.isoformat(sep=" ")
    return value.replace(tzinfo=UTC).astimezone(zone).isoformat(sep=" ")


def _cells(query: LogQuery, zone: tzinfo, token: CancelToken | None, limit: int | None,
           progress: Progress | None) -> Iterator[list[Any]]:
    done = 0
    for row in query.iter_rows(token, limit=limit):
        yield [_time_text(v, zone) if isinstance(v, datetime) else v for v in row]
        done += 1
        if progress is not None and done % 10_000 == 0:
            progress(done)
    if progress is not None:
        progress(done)


def write_csv(query: LogQuery, out: IO[str], zone: tzinfo = UTC, token: CancelToken | None = None,
              limit: int | None = None, progress: Progress | None = None) -> int:
    """CSV with a header row of column names; NULL is an empty cell."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(query.columns)
    n = 0
    for cells in _cells(query, zone, token, limit, progress):
        writer.writerow(cells)
        n += 1
    return n


def write_jsonl(query: LogQuery, out: IO[str], zone: tzinfo = UTC, token: CancelToken | None = None,
                limit: int | None = None, progress: Progress | None = None) -> int:
    """One JSON object per line, keyed by column name; NULL is null."""
    names = query.columns
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    n = 0
    for cells in _cells(query, zone, token, limit, progress):
        out.write(dumps(dict(zip(names, cells))))
        out.write("\n")
        n += 1
    return n


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
