"""The demo database: what someone opening it in the viewer would see."""

from __future__ import annotations

import ipaddress
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditviewer.data import demo
from auditviewer.data.logtypes import LOG_TYPES

ROWS = 2_000
TABLES = ("business_units", *tuple(lt.table for lt in LOG_TYPES))
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _connect(path: Path) -> closing[sqlite3.Connection]:
    """Read-only, as the viewer opens it; closed on leaving the with block."""
    return closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))


def _dump(path: Path) -> dict[str, list[tuple]]:
    with _connect(path) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.create_demo(tmp_path_factory.mktemp("demo") / "small.db", rows=ROWS)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough for rates to be stable: 50k API calls, 10k SMS."""
    return demo.create_demo(tmp_path_factory.mktemp("demo") / "medium.db", rows=50_000, seed=7)


@pytest.fixture()
def con(small: Path) -> Iterator[sqlite3.Connection]:
    with _connect(small) as connection:
        yield connection


def test_every_log_type_has_its_declared_columns(con: sqlite3.Connection) -> None:
    for lt in LOG_TYPES:
        info = {row[1]: row for row in con.execute(f"PRAGMA table_info({lt.table})")}
        assert set(info) == {c.name for c in lt.columns}, lt.table
        for name in lt.required_columns:
            if name != "id":
                assert info[name][3] == 1, f"{lt.table}.{name} should be NOT NULL"
        assert con.execute(f"SELECT count(*) FROM {lt.table}").fetchone()[0] > 0
    units = con.execute("SELECT id, name FROM business_units").fetchall()
    assert 3 <= len(units) <= 4 and all(name for _, name in units)


def test_indexes_exist_for_the_usual_filters(con: sqlite3.Connection) -> None:
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    for lt in LOG_TYPES:
        assert f"idx_{lt.table}_date" in names
    assert {
        "idx_panel_logs_email",
        "idx_user_logins_remote_ip",
        "idx_api_logs_status",
        "idx_sms_logs_gateway_name",
    } <= names
    plan = " ".join(
        str(r) for r in con.execute("EXPLAIN QUERY PLAN SELECT * FROM api_logs WHERE date >= '2025-01-01 00:00:00'")
    )
    assert "idx_api_logs_date" in plan


def test_row_counts_follow_the_documented_proportions(con: sqlite3.Connection, tmp_path: Path) -> None:
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES[1:]}
    assert counts == {"panel_logs": ROWS // 2, "api_logs": ROWS, "sms_logs": ROWS // 5, "user_logins": ROWS // 20}
    tiny = _dump(demo.create_demo(tmp_path / "tiny.db", rows=10))
    assert len(tiny["api_logs"]) == 10
    assert all(len(tiny[t]) >= 50 for t in ("panel_logs", "sms_logs", "user_logins"))


def test_same_seed_gives_the_same_data_and_another_seed_does_not(small: Path, tmp_path: Path) -> None:
    again = _dump(demo.create_demo(tmp_path / "again.db", rows=ROWS))
    other = _dump(demo.create_demo(tmp_path / "other.db", rows=ROWS, seed=2))
    first = _dump(small)
    assert again == first
    for table in TABLES[1:]:
        assert other[table] != first[table], table


def test_dates_are_utc_text_in_the_last_year_and_ids_follow_time(con: sqlite3.Connection) -> None:
    end = datetime(2025, 6, 30, 23, 59, 59)
    for lt in LOG_TYPES:
        rows = con.execute(f"SELECT id, date, typeof(date) FROM {lt.table} ORDER BY id").fetchall()
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert {r[2] for r in rows} == {"text"}
        assert all(DATE_RE.fullmatch(r[1]) for r in rows), lt.table
        dates = [datetime.strptime(r[1], "%Y-%m-%d %H:%M:%S") for r in rows]
        assert dates == sorted(dates), f"{lt.table}: id 1 must be the oldest row"
        assert end - timedelta(days=366) <= dates[0] and dates[-1] <= end


def test_traffic_follows_office_hours_and_weekdays(medium: Path) -> None:
    with _connect(medium) as con:
        by_hour = dict(con.execute("SELECT substr(date, 12, 2), count(*) FROM panel_logs GROUP BY 1"))
        weekend = con.execute("SELECT avg(strftime('%w', date) IN ('0', '6')) FROM panel_logs").fetchone()[0]
    assert by_hour["10"] > 5 * by_hour["02"]
    assert 0.01 < weekend < 0.2


def test_login_dates_are_consistent(con: sqlite3.Connection) -> None:
    rows = con.execute(
        "SELECT email, date, login, successful_login_date, last_failed_login_date FROM user_logins ORDER BY id"
    ).fetchall()
    last_failed: dict[str, str] = {}
    for email, date, login, ok_date, failed_date in rows:
        assert login in ("successful", "failed")
        assert ok_date == (date if login == "successful" else None)
        assert failed_date == last_failed.get(email)
        if login == "failed":
            last_failed[email] = date
    share_ok = sum(r[2] == "successful" for r in rows) / len(rows)
    assert 0.6 < share_ok < 0.98


def test_planted_failed_login_bursts_are_there(con: sqlite3.Connection) -> None:
    failures: dict[str, list[datetime]] = {}
    for email, date in con.execute("SELECT email, date FROM user_logins WHERE login = 'failed' ORDER BY id"):
        failures.setdefault(email, []).append(datetime.fromisoformat(date))
    window = timedelta(minutes=10)
    assert any(times[i + 4] - times[i] <= window for times in failures.values() for i in range(len(times) - 4))
    # one foreign IP trying many accounts
    ips = con.execute(
        "SELECT remote_ip, count(DISTINCT email) FROM user_logins "
        "WHERE login = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    assert ips[1] >= 5


def test_api_error_rates_are_plausible(medium: Path) -> None:
    with _connect(medium) as con:
        share_4xx, share_5xx = con.execute(
            "SELECT avg(status BETWEEN 400 AND 499), avg(status >= 500) FROM api_logs"
        ).fetchone()
        worst_hour = con.execute(
            "SELECT sum(status >= 500) FROM api_logs GROUP BY substr(date, 1, 13) ORDER BY 1 DESC LIMIT 1"
        ).fetchone()[0]
    assert 0.001 < share_5xx < 0.05
    assert 0.02 < share_4xx < 0.08
    assert worst_hour >= 6, "a planted outage hour should stand out (~6 calls an hour, 0.7% 5xx)"


def test_sms_errors_are_rare_and_one_gateway_is_worse(medium: Path) -> None:
    with _connect(medium) as con:
        total_error = con.execute("SELECT avg(error IS NOT NULL) FROM sms_logs").fetchone()[0]
        by_gateway = con.execute(
            "SELECT gateway_name, avg(error IS NOT NULL) FROM sms_logs GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        ids = con.execute("SELECT count(DISTINCT message_id), count(*) FROM sms_logs").fetchone()
    assert 0.01 < total_error < 0.06
    assert 4 <= len(by_gateway) <= 6
    assert by_gateway[0][1] > 2.5 * by_gateway[1][1]
    assert ids[0] == ids[1], "message ids are unique"


def test_ip_addresses_are_valid_and_users_recur(con: sqlite3.Connection) -> None:
    for table in ("panel_logs", "api_logs", "user_logins"):
        for (ip,) in con.execute(f"SELECT DISTINCT remote_ip FROM {table}"):
            ipaddress.ip_address(ip)
    users = con.execute("SELECT count(DISTINCT email) FROM panel_logs").fetchone()[0]
    assert 20 <= users <= 50
    versions = {ipaddress.ip_address(ip).version for (ip,) in con.execute("SELECT DISTINCT remote_ip FROM user_logins")}
    assert versions == {4, 6}


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("panel_logs", "url", demo.SCRIPT_URL),
        ("panel_logs", "url", demo.LONG_URL),
        ("panel_logs", "user_agent", demo.HOSTILE_UA),
        ("sms_logs", "campaign_description", "Zażółć gęślą jaźń 🎉 – konkurs wakacyjny"),
        ("user_logins", "name", "Siobhan O'Brien"),
    ],
)
def test_hostile_values_are_stored_verbatim(con: sqlite3.Connection, table: str, column: str, value: str) -> None:
    stored = con.execute(f"SELECT CAST({column} AS BLOB) FROM {table} WHERE {column} = ? LIMIT 1", (value,)).fetchone()
    assert stored is not None and stored[0] == value.encode("utf-8")


def test_hostile_values_are_what_they_claim() -> None:
    assert "<script>alert(1)</script>" in demo.SCRIPT_URL
    assert len(demo.LONG_URL) >= 2_900
    assert all(s in demo.HOSTILE_UA for s in ('"', "'", "<b>"))


def test_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.db"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="already exists"):
        demo.create_demo(target, rows=100)
    assert target.read_bytes() == b"precious"
    demo.create_demo(target, rows=100, overwrite=True)
    assert len(_dump(target)["api_logs"]) == 100


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    demo.create_demo(tmp_path / "p.db", rows=ROWS, progress=lambda done, total: calls.append((done, total)))
    total = sum(demo.table_sizes(ROWS).values())
    assert calls and calls[-1] == (total, total)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_chunked_writing_keeps_every_row_and_planted_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real demos are written in many chunks; a tiny chunk size exercises the seams."""
    monkeypatch.setattr(demo, "CHUNK", 128)
    calls: list[int] = []
    path = demo.create_demo(tmp_path / "chunks.db", rows=ROWS, progress=lambda done, total: calls.append(done))
    assert len(calls) > 20
    tables = _dump(path)
    for table, size in demo.table_sizes(ROWS).items():
        rows = tables[table]
        assert [r[0] for r in rows] == list(range(1, size + 1))
        assert [r[2] for r in rows] == sorted(r[2] for r in rows)
    urls = {r[3] for r in tables["panel_logs"]}
    assert {demo.SCRIPT_URL, demo.LONG_URL} <= urls
    assert demo.HOSTILE_UA in {r[8] for r in tables["panel_logs"]}


@pytest.mark.parametrize("after", [0, 2])
def test_cancelling_leaves_no_file(tmp_path: Path, after: int) -> None:
    checks = iter(range(1000))
    with pytest.raises(demo.DemoCancelled):
        demo.create_demo(tmp_path / "c.db", rows=ROWS, cancelled=lambda: next(checks) >= after)
    assert list(tmp_path.iterdir()) == []


def test_cancelling_while_indexing_leaves_no_file(tmp_path: Path) -> None:
    calls = iter(range(1000))
    inserts = 4  # one chunk per table at this size; the checks after that come between indexes
    with pytest.raises(demo.DemoCancelled):
        demo.create_demo(tmp_path / "c.db", rows=ROWS, cancelled=lambda: next(calls) >= inserts + 3)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_run_leaves_no_file(tmp_path: Path) -> None:
    def explode(done: int, total: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        demo.create_demo(tmp_path / "f.db", rows=ROWS, progress=explode)
    assert list(tmp_path.iterdir()) == []
