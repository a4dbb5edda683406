"""The viewer never writes: the file, its time stamp and its folder stay exactly as they were."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditviewer.data.export import export
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import BASE, api_row

ROWS = [api_row(i, status=(200, 404, 500)[i % 3], method=("GET", "POST")[i % 2]) for i in range(1, 301)]


def _snapshot(path: Path) -> tuple[str, int, list[str]]:
    return (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns,
            sorted(os.listdir(path.parent)))


def _use_everything(spec: str | Path, out_dir: Path) -> None:
    """What a session does: open, page, count, chart, facet, export, close."""
    with open_source(spec) as source:
        table = source.log("api")
        for flt in (Filter(), Filter((parse_condition("status>=400"),), search="item")):
            query = LogQuery(table, flt)
            page = query.first(20)
            query.after(page.keys[-1], 20)
            query.last(20)
            query.at(150, 10, total=query.count())
            query.count_capped(50)
            query.key_samples(25)
            query.time_range()
            query.histogram(BASE, BASE + timedelta(hours=6), timedelta(hours=1))
            query.facets("status")
            export(query, "csv", out_dir / "out.csv")
            export(query, "json", out_dir / "out.jsonl")
        LogQuery(table, sort=Sort("url", False)).first(5)


def _assert_untouched(db_path: Path, out_dir: Path) -> None:
    before = _snapshot(db_path)
    _use_everything(db_path, out_dir)
    assert _snapshot(db_path) == before
    for suffix in ("-journal", "-wal", "-shm"):
        assert not db_path.with_name(db_path.name + suffix).exists()


def test_rollback_journal_database_is_untouched(sqlite_db: DbFactory, tmp_path: Path) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS}))
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    _assert_untouched(db_path, out_dir)


def test_wal_database_is_untouched(sqlite_db: DbFactory, tmp_path: Path) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS}))
    writer = sqlite3.connect(db_path)
    assert writer.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    writer.close()
    assert not db_path.with_name(db_path.name + "-wal").exists()
    assert db_path.read_bytes()[18:20] == b"\x02\x02"  # the header says WAL
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    _assert_untouched(db_path, out_dir)


def test_wal_database_with_a_live_writer_shows_its_latest_rows(sqlite_db: DbFactory) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS[:10]}))
    writer = sqlite3.connect(db_path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("INSERT INTO api_logs (id, date, url, method, status, remote_ip) "
                       "VALUES (11, '2025-01-02 00:00:00', '/new', 'PUT', 201, '10.0.0.9')")
        writer.commit()
        before = _snapshot(db_path)
        with open_source(db_path) as source:
            query = LogQuery(source.log("api"), columns=["id", "url"])
            assert query.count() == 11
            assert query.first(1).rows == [(11, "/new")]
        assert _snapshot(db_path) == before
    finally:
        writer.close()


@pytest.mark.parametrize("wal", [False, True], ids=["journal", "wal"])
def test_sqlite_refuses_writes_even_with_query_only_switched_off(sqlite_db: DbFactory, wal: bool) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS[:3]}))
    if wal:
        writer = sqlite3.connect(db_path)
        writer.execute("PRAGMA journal_mode=WAL")
        writer.close()
    before = _snapshot(db_path)
    with open_source(db_path) as source, source.engine.connect() as conn:
        with pytest.raises(sa.exc.OperationalError, match="readonly|read-only|query_only"):
            conn.execute(sa.text("DELETE FROM api_logs"))
        conn.rollback()
        # Even with the first guard off, the file is opened read-only.
        conn.exec_driver_sql("PRAGMA query_only = OFF")
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("DELETE FROM api_logs"))
    assert _snapshot(db_path) == before


def test_writes_through_the_viewer_fail_on_every_backend(db: DbFactory) -> None:
    spec = db.create({"api": ROWS[:3]})
    with open_source(spec) as source:
        name = f'"{source.schema}".api_logs' if source.schema else "api_logs"
        statements = [
            f"INSERT INTO {name} (id, date, url, method, status, remote_ip) "
            "VALUES (99, '2025-01-01 00:00:00', '/x', 'GET', 200, '10.0.0.1')",
            f"UPDATE {name} SET status = 0",
            f"DELETE FROM {name}",
        ]
        for statement in statements:
            with source.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="(?i)read.?only"):
                conn.execute(sa.text(statement))
                conn.commit()
        query = LogQuery(source.log("api"), sort=Sort("id", False), columns=["id", "status"])
        assert query.first(10).rows == [(r["id"], r["status"]) for r in ROWS[:3]]
