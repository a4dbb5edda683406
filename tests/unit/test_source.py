"""Opening a database: what a user sees for every kind of bad file, and what is discovered."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditviewer.data.errors import FilterError, SchemaError, SourceError
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.logtypes import Kind
from auditviewer.data.query import LogQuery
from auditviewer.data.source import BusinessUnit, open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row, panel_row


def _read_everything(spec: str) -> None:
    """Open and read every row of every log, the way a user scrolling through would."""
    with open_source(spec) as source:
        for table in source.logs.values():
            query = LogQuery(table)
            query.count()
            for _ in query.iter_rows():
                pass


@pytest.fixture
def good_db(sqlite_db: DbFactory) -> Path:
    """A real database a few hundred pages long, to be damaged by the tests."""
    rows = [api_row(i, url=f"/v2/api/item/{i}/" + "x" * 150) for i in range(1, 3001)]
    return Path(sqlite_db.create({"api": rows}))


# -- files that are not (good) databases ----------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    with pytest.raises(SourceError, match=r"nothing-here\.db: no such file"):
        open_source(path)


def test_folder(tmp_path: Path) -> None:
    folder = tmp_path / "exports.db"
    folder.mkdir()
    with pytest.raises(SourceError, match=r"exports\.db is a folder, not a database file"):
        open_source(folder)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("id,date,url\n1,2025-01-01,/\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"notes.txt is not a SQLite database"):
        open_source(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(SourceError, match=r"empty\.db is empty: it is not a database"):
        open_source(path)


def _cut_in_header(data: bytes) -> bytes:
    return data[:50]


def _cut_in_first_page(data: bytes) -> bytes:
    return data[:1000]


def _cut_in_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage_over_schema(data: bytes) -> bytes:
    return data[:100] + b"\xa5" * 3000 + data[3100:]


@pytest.mark.parametrize("damage", [_cut_in_header, _cut_in_first_page, _cut_in_half, _garbage_over_schema])
def test_damaged_file_is_refused_on_open(good_db: Path, damage: Callable[[bytes], bytes]) -> None:
    damaged = good_db.with_name("damaged.db")
    damaged.write_bytes(damage(good_db.read_bytes()))
    with pytest.raises(SourceError, match=r"damaged\.db.*damaged") as caught:
        open_source(damaged)
    assert not isinstance(caught.value, SchemaError)


def test_damage_in_the_middle_is_reported_when_read(good_db: Path) -> None:
    data = good_db.read_bytes()
    middle = len(data) // 2
    damaged = good_db.with_name("damaged.db")
    damaged.write_bytes(data[:middle] + b"\xff" * 8192 + data[middle + 8192 :])
    with pytest.raises(SourceError, match=r"damaged\.db.*the database is damaged"):
        _read_everything(str(damaged))


def test_database_without_log_tables(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    with pytest.raises(
        SchemaError,
        match=r"other.db holds no log tables \(expected at least one of: "
        r"panel_logs, api_logs, sms_logs, user_logins\)",
    ):
        open_source(path)


def test_table_lacking_a_required_column(db: DbFactory) -> None:
    spec = db.create({"api": [api_row(1)], "panel": [panel_row(1)]}, omit={"api": ["status"]})
    with open_source(spec) as source:
        problem = source.problems["api"]
        assert source.display_name in problem
        assert "api_logs" in problem and "status" in problem
        with pytest.raises(SchemaError) as caught:
            source.log("api")
        assert str(caught.value) == problem
        # The other log still opens and reads.
        assert LogQuery(source.log("panel")).count() == 1


def test_problem_names_the_sqlite_file(sqlite_db: DbFactory) -> None:
    spec = sqlite_db.create({"api": [api_row(1)]}, omit={"api": ["remote_ip", "method"]})
    with open_source(spec) as source:
        assert source.problems["api"] == (
            f"{Path(spec).name}: table api_logs lacks the required columns method, remote_ip"
        )
        with pytest.raises(SchemaError, match=Path(spec).name):
            source.log("api")


def test_absent_log_type_names_the_ones_present(sqlite_db: DbFactory) -> None:
    spec = sqlite_db.create({"api": [api_row(1)]})
    with open_source(spec) as source, pytest.raises(SchemaError, match=r"has no sms log \(log types present: api\)"):
        source.log("sms")


# -- what is discovered -----------------------------------------------------------------


def test_names_in_other_case_are_found(db: DbFactory) -> None:
    rows = [panel_row(1, remote_ip="10.0.0.1"), panel_row(2, remote_ip="10.0.0.2")]
    spec = db.create(
        {"panel": rows},
        table_names={"panel": "Panel_Logs"},
        column_names={"panel": {"remote_ip": "Remote_IP", "email": "EMail"}},
    )
    with open_source(spec) as source:
        table = source.log("panel")
        assert table.db_name == "Panel_Logs"
        assert table.column("remote_ip").db_name == "Remote_IP"
        assert not table.column("remote_ip").extra
        query = LogQuery(
            table,
            Filter((parse_condition("remote_ip=10.0.0.2"),)),
            Sort("email", False),
            columns=["id", "remote_ip", "email"],
        )
        assert query.first(10).rows == [(2, "10.0.0.2", "user2@example.com")]


def test_missing_optional_columns_are_fine(db: DbFactory) -> None:
    optional = ["business_unit_id", "api_method_status", "user_agent"]
    spec = db.create({"panel": [panel_row(1)]}, omit={"panel": optional})
    with open_source(spec) as source:
        table = source.log("panel")
        assert source.problems == {}
        assert table.column_names == ["id", "date", "url", "method", "email", "remote_ip"]
        assert LogQuery(table).first(5).rows[0][0] == 1
        with pytest.raises(FilterError, match="valid columns: id, date, url, method, email, remote_ip"):
            LogQuery(table, Filter((parse_condition("user_agent~Firefox"),)))


def test_extra_columns_appear_and_come_back_in_rows(db: DbFactory) -> None:
    rows = [api_row(1, request_id="req-1", bytes_sent=120), api_row(2, request_id=None, bytes_sent=90)]
    spec = db.create({"api": rows}, extra={"api": {"request_id": sa.Text(), "bytes_sent": sa.Integer()}})
    with open_source(spec) as source:
        table = source.log("api")
        extras = {c.name: c for c in table.columns if c.extra}
        assert set(extras) == {"request_id", "bytes_sent"}
        assert extras["request_id"].kind is Kind.TEXT
        assert extras["bytes_sent"].kind is Kind.INT
        assert not any(c.extra for c in table.columns if c.name not in extras)
        query = LogQuery(table, sort=Sort("id", False), columns=["id", "request_id", "bytes_sent"])
        assert query.first(10).rows == [(1, "req-1", 120), (2, None, 90)]
        bigger = LogQuery(table, Filter((parse_condition("bytes_sent>=100"),)), columns=["id"])
        assert bigger.first(10).rows == [(1,)]


def test_business_units_are_discovered(db: DbFactory) -> None:
    rows = [api_row(1, business_unit_id=1), api_row(2, business_unit_id=2), api_row(3, business_unit_id=2)]
    spec = db.create({"api": rows}, business_units=[(2, "South"), (1, "North")])
    with open_source(spec) as source:
        assert source.business_units == [BusinessUnit(1, "North"), BusinessUnit(2, "South")]
        assert source.business_unit_name(2) == "South"
        assert source.business_unit_name(None) == ""
        south = LogQuery(source.log("api"), Filter(business_unit=2), Sort("id", False), columns=["id"])
        assert south.first(10).rows == [(2,), (3,)]


def test_no_business_units_table(sqlite_db: DbFactory) -> None:
    with open_source(sqlite_db.create({"api": [api_row(1)]})) as source:
        assert source.business_units == []


# -- servers that cannot be reached ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://auditor:Sup3r-s3cret@127.0.0.1:1/logs",
        "mysql://auditor:Sup3r-s3cret@127.0.0.1:1/logs",
    ],
)
def test_closed_port_fails_quickly_without_showing_the_password(url: str) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        open_source(url)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "Sup3r-s3cret" not in message
    assert "127.0.0.1:1" in message and "auditor" in message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("oracle://scott:tiger@db/logs", "unsupported database 'oracle'"),
        ("sqlite://", "a sqlite:// URL must name a file"),
        ("postgresql://host:notaport/db", "is not a database URL"),
    ],
)
def test_unusable_urls(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_sqlite_url_opens_the_file(sqlite_db: DbFactory) -> None:
    spec = sqlite_db.create({"api": [api_row(1)]})
    with open_source(f"sqlite:///{spec}") as source:
        assert source.path == Path(spec).resolve()
        assert LogQuery(source.log("api")).count() == 1
