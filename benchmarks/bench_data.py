"""Data-layer timings on a big demo database, each beside raw sqlite3 running the same SQL.

    python benchmarks/bench_data.py [--rows 10000000] [--db benchmarks/data/demo-10000000.db]

The database is generated on first use (about three minutes for ten million
API rows) and never committed. Every figure is the best of a few runs, after
one warm-up, so it measures the query rather than the disk cache.
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditviewer.data.demo import create_demo
from auditviewer.data.export import write_csv
from auditviewer.data.filters import Filter, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source


def best(fn: Callable[[], T], runs: int = 3) -> tuple[float, T]:
    """The fastest of ``runs`` timed calls (after one untimed warm-up), and what the last returned."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def raw_sql(engine: sa.Engine, stmt: sa.Executable) -> str:
    return str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))


def raw_time(path: Path, sql: str | list[tuple[str, tuple]]) -> float:
    """The same SQL (one statement, or the statements an operation sent) run by raw sqlite3."""
    statements = [(sql, ())] if isinstance(sql, str) else sql
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        seconds, _ = best(lambda: [conn.execute(s, p).fetchall() for s, p in statements])
    finally:
        conn.close()
    return seconds


def sent_sql(engine: sa.Engine, action: Callable[[], object]) -> list[tuple[str, tuple]]:
    """Every statement (with its parameters) that ``action`` sends to the database."""
    sent: list[tuple[str, tuple]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, tuple(parameters or ())))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return sent


def ensure_db(path: Path, rows: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {path} with {rows:,} API rows…", flush=True)
    start = time.perf_counter()
    create_demo(path, rows=rows)
    print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """The arguments every benchmark takes: the demo database's size, or a database of one's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=10_000_000, help="API rows of the generated demo database")
    parser.add_argument("--db", type=Path, default=None, help="use this database instead")
    return parser


def database(args: argparse.Namespace) -> Path:
    """The database to measure, generated first when it is the demo and missing."""
    path = args.db or ROOT / "benchmarks" / "data" / f"demo-{args.rows}.db"
    ensure_db(path, args.rows)
    return path


def main() -> int:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = database(args)
    source = open_source(path)
    table = source.log("api")
    engine = source.engine
    print(f"\n{path.name}: api_logs, {LogQuery(table).count():,} rows\n")
    print(f"{'operation':44} {'auditviewer':>12} {'raw sqlite3':>12}")

    def report(name: str, seconds: float, sql: str | list[tuple[str, tuple]] | None) -> None:
        raw = f"{raw_time(path, sql) * 1000:10.1f} ms" if sql else " " * 13
        print(f"{name:44} {seconds * 1000:9.1f} ms {raw}", flush=True)

    plain = LogQuery(table)
    seconds, _ = best(lambda: plain.first(100))
    report("first page (100 rows, newest first)", seconds, raw_sql(engine, plain.statement(100)))
    seconds, _ = best(lambda: plain.last(100))
    report("last page (jump to end)", seconds, raw_sql(engine, plain.statement(100, reverse=True)))
    first = plain.first(100)
    seconds, _ = best(lambda: plain.after(first.keys[-1], 100))
    report(
        "next page by keyset",
        seconds,
        raw_sql(engine, plain.statement(100, past=first.keys[-1])),
    )

    indexed = LogQuery(table, Filter(conditions=(parse_condition("status>=500"),)))
    seconds, _ = best(lambda: indexed.first(100))
    report("indexed filter status>=500: first page", seconds, raw_sql(engine, indexed.statement(100)))
    seconds, n = best(lambda: indexed.count())
    count_sql = raw_sql(engine, sa.select(sa.func.count()).select_from(table.table).where(indexed.where()))
    report(f"indexed filter: count ({n:,})", seconds, count_sql)

    search = LogQuery(table, Filter(search="Transactionals"))
    seconds, _ = best(lambda: search.first(100), runs=1)
    report("substring search: first page", seconds, raw_sql(engine, search.statement(100)))
    seconds, n = best(lambda: search.count(), runs=1)
    report(
        f"substring search: count ({n:,})",
        seconds,
        raw_sql(engine, sa.select(sa.func.count()).select_from(table.table).where(search.where())),
    )

    low, high = plain.time_range()
    assert low and high
    start = low.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (high - start).days + 1
    end = start + timedelta(days=days)
    seconds, buckets = best(lambda: plain.histogram(start, end, timedelta(days=1)))
    report(
        f"histogram, {len(buckets)} daily range counts",
        seconds,
        sent_sql(engine, lambda: plain.histogram(start, end, timedelta(days=1))),
    )
    seconds, buckets = best(lambda: indexed.histogram(start, end, timedelta(days=1)))
    report(
        f"histogram of status>=500 ({len(buckets)} buckets)",
        seconds,
        sent_sql(engine, lambda: indexed.histogram(start, end, timedelta(days=1))),
    )
    from auditviewer.data.timeline import compute_timeline

    for name, q in (("all rows", plain), ("status>=500", indexed)):
        seconds, line = best(lambda q=q: compute_timeline(q))
        report(
            f"timeline by outcome, {name} ({line.buckets} bars)",
            seconds,
            sent_sql(engine, lambda q=q: compute_timeline(q)),
        )

    sink = io.StringIO()
    limit = args.export_rows

    def export() -> int:
        sink.seek(0)
        sink.truncate()
        return write_csv(plain, sink, limit=limit)

    seconds, n = best(export, runs=1)
    print(f"\nCSV export of {n:,} rows: {seconds:.2f} s, {n / seconds:,.0f} rows/s")
    source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
