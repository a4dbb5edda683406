"""All activity of an e-mail or IP: one timeline over panel, API and login logs, on every backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditviewer.data.activity import ACTIVITY, activity_table
from auditviewer.data.details import describe_row
from auditviewer.data.errors import SchemaError
from auditviewer.data.filters import Filter, Sort, parse_conditions
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from tests.helpers.dbfactory import DbFactory

T = datetime(2025, 6, 1, 12, 0, 0)
EMAIL, IP, OTHER_IP = "anna@example.com", "83.24.1.2", "1.2.3.4"


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


PANEL = [
    dict(id=1, date=at(0), url="/Dashboard", method="GET", email=EMAIL, remote_ip=IP, api_method_status=None),
    dict(
        id=2,
        date=at(10),
        url="/Lists/Import",
        method="POST",
        email=EMAIL,
        remote_ip=OTHER_IP,
        api_method_status="Error: Validation failed",
    ),
    dict(
        id=3, date=at(20), url="/Dashboard", method="GET", email="bob@example.com", remote_ip=IP, api_method_status=None
    ),
    dict(id=4, date=at(40), url="/Segments", method="GET", email=EMAIL, remote_ip=IP, api_method_status="OK"),
]
API = [
    dict(id=1, date=at(5), url="/v2/Api/Lists", method="GET", status=200, remote_ip=IP),
    dict(id=2, date=at(10), url="/v2/Api/Subscribers", method="POST", status=503, remote_ip=IP),  # same time
    dict(id=3, date=at(15), url="/v2/Api/Subscribers", method="POST", status=201, remote_ip=OTHER_IP),
]
LOGINS = [
    dict(id=1, date=at(-5), name="Anna", email=EMAIL, login="failed", remote_ip=IP),
    dict(id=2, date=at(-4), name="Anna", email=EMAIL, login="successful", remote_ip=IP),
    dict(id=3, date=at(10), name="Bob", email="bob@example.com", login="successful", remote_ip=IP),
    dict(id=4, date=at(50), name="Anna", email=EMAIL, login="successful", remote_ip=OTHER_IP),
]
SMS = [
    dict(
        id=1,
        date=at(1),
        message_id="m1",
        campaign_description="c",
        subscriber_phone="+48500",
        gateway_name="g",
        error=None,
    )
]


@pytest.fixture
def source(db: DbFactory) -> Iterator[Source]:
    src = open_source(
        db.create(
            {"panel": PANEL, "api": API, "logins": LOGINS, "sms": SMS},
            indexes=(("*", "date"), ("*", "email"), ("*", "remote_ip")),
        )
    )
    yield src
    src.close()


def rows(query: LogQuery, n: int = 100) -> list[dict]:
    page = query.first(n)
    return [dict(zip(page.columns, row, strict=True)) for row in page.rows]


def test_activity_of_an_email_merges_panel_and_logins_newest_first(source: Source) -> None:
    table = activity_table(source, "email", EMAIL)
    got = [(r["log"], r["row_id"], r["date"]) for r in rows(LogQuery(table))]
    assert got == [
        ("User logins", 4, at(50)),
        ("Panel logs", 4, at(40)),
        ("Panel logs", 2, at(10)),
        ("Panel logs", 1, at(0)),
        ("User logins", 2, at(-4)),
        ("User logins", 1, at(-5)),
    ]
    assert LogQuery(table).count() == 6


def test_activity_of_an_ip_takes_in_api_calls(source: Source) -> None:
    table = activity_table(source, "ip", IP)
    got = rows(LogQuery(table))
    assert [(r["log"], r["row_id"]) for r in got] == [
        # at(10) ties: the synthetic id (row id * 4 + log number) orders them, 3*4+2 > 2*4+1
        ("Panel logs", 4),
        ("Panel logs", 3),
        ("User logins", 3),
        ("API logs", 2),
        ("API logs", 1),
        ("Panel logs", 1),
        ("User logins", 2),
        ("User logins", 1),
    ]
    assert all(r["remote_ip"] == IP for r in got)
    by_key = {(r["log"], r["row_id"]): r for r in got}
    api = by_key[("API logs", 2)]
    assert (api["email"], api["url"], api["method"], api["outcome"]) == (None, "/v2/Api/Subscribers", "POST", "503")
    assert by_key[("User logins", 1)]["outcome"] == "failed"
    assert by_key[("User logins", 1)]["url"] is None
    assert by_key[("Panel logs", 4)]["outcome"] == "OK"
    assert len({r["id"] for r in got}) == len(got)


def test_paging_with_after_walks_the_whole_timeline(source: Source) -> None:
    query = LogQuery(activity_table(source, "ip", IP))
    everything = query.first(100).rows
    page, walked = query.first(3), []
    while page.rows:
        walked += page.rows
        page = query.after(page.keys[-1], 3)
    assert walked == everything and query.count() == len(everything) == 8
    assert query.last(2).rows == everything[-2:]
    assert query.before(query.last(2).keys[0], 3).rows == everything[-5:-2]


@pytest.mark.parametrize("column", ["log", "outcome", "url", "row_id", "email"])
def test_paging_sorted_by_any_column_sees_every_row_once(source: Source, column: str) -> None:
    for descending in (True, False):
        query = LogQuery(activity_table(source, "ip", IP), sort=Sort(column, descending))
        page, seen = query.first(3), []
        while page.rows:
            seen += [row[0] for row in page.rows]
            page = query.after(page.keys[-1], 3)
        assert sorted(seen) == sorted(r[0] for r in query.first(100).rows) and len(seen) == 8


def test_the_timeline_filters_like_any_log(source: Source) -> None:
    table = activity_table(source, "ip", IP)

    def count(*conditions: str, **kwargs: object) -> int:
        return LogQuery(table, Filter(conditions=parse_conditions(conditions), **kwargs)).count()

    assert count("log=API logs") == 2
    assert count("not log=Panel logs") == 5
    assert count("outcome=failed") == 1
    assert count("email=") == 2  # API calls carry no e-mail
    assert count(search="subscribers") == 1
    assert count(time_from=at(0), time_to=at(40)) == 5
    assert LogQuery(table).facets("log") == [("Panel logs", 3), ("User logins", 3), ("API logs", 2)]


def test_the_date_column_keeps_the_source_timestamp_type(source: Source) -> None:
    table = activity_table(source, "email", EMAIL)
    assert type(table.table.c.date.type) is type(source.log("panel").sa_column("date").type)
    assert table.log_type is ACTIVITY and table.column_names == [c.name for c in ACTIVITY.columns]


def test_an_activity_row_is_described(source: Source) -> None:
    table = activity_table(source, "ip", IP)
    row = next(r for r in rows(LogQuery(table)) if r["log"] == "API logs" and r["row_id"] == 2)
    summary = {f.label: f.value for f in describe_row(table, row)[0].fields}
    assert summary["Status"] == "503 Service Unavailable — the service was unavailable (overloaded or in maintenance)"
    assert summary["Log"] == "API logs" and summary["IP kind"] == "IPv4, public"


def test_a_value_nobody_has_gives_an_empty_timeline(source: Source) -> None:
    assert LogQuery(activity_table(source, "email", "nobody@example.com")).first(10).rows == []


def test_a_source_without_such_logs_is_said_in_words(db: DbFactory) -> None:
    with open_source(db.create({"sms": SMS})) as src, pytest.raises(SchemaError, match="no log with e-mail addresses"):
        activity_table(src, "email", EMAIL)
    with open_source(db.create({"api": API})) as src:
        with pytest.raises(SchemaError, match="no log with e-mail"):
            activity_table(src, "email", EMAIL)
        assert LogQuery(activity_table(src, "ip", IP)).count() == 2
        with pytest.raises(ValueError, match="role must be"):
            activity_table(src, "phone", "+48")


def test_sqlite_logs_with_different_timestamp_forms_still_merge_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE panel_logs (id INTEGER PRIMARY KEY, date TEXT NOT NULL, url TEXT, method TEXT,"
            " email TEXT, remote_ip TEXT)"
        )
        con.execute(
            "CREATE TABLE user_logins (id INTEGER PRIMARY KEY, date TEXT NOT NULL, name TEXT, email TEXT,"
            " login TEXT, remote_ip TEXT)"
        )
        con.executemany(
            "INSERT INTO panel_logs VALUES (?, ?, '/x', 'GET', ?, ?)",
            [(1, "2025-06-01T12:00:00Z", EMAIL, IP), (2, "2025-06-01T12:00:20Z", EMAIL, IP)],
        )
        con.executemany(
            "INSERT INTO user_logins VALUES (?, ?, 'Anna', ?, 'successful', ?)",
            [(1, "2025-06-01 12:00:10", EMAIL, IP), (2, "2025-06-01 12:00:30", EMAIL, IP)],
        )
    con.close()
    with open_source(path) as src:
        query = LogQuery(activity_table(src, "email", EMAIL))
        got = [(r["log"], r["date"]) for r in rows(query)]
        assert got == [
            ("User logins", T + timedelta(seconds=30)),
            ("Panel logs", T + timedelta(seconds=20)),
            ("User logins", T + timedelta(seconds=10)),
            ("Panel logs", T),
        ]
        after = query.after(query.first(1).keys[0], 10)
        assert len(after) == 3
        assert LogQuery(query.table, Filter(time_from=T + timedelta(seconds=15))).count() == 2


def test_tables_and_columns_named_in_another_case_still_merge(db: DbFactory) -> None:
    spec = db.create(
        {"panel": PANEL, "logins": LOGINS},
        table_names={"panel": "Panel_Logs", "logins": "User_Logins"},
        column_names={"panel": {"remote_ip": "Remote_IP", "date": "Date"}, "logins": {"email": "EMail", "id": "ID"}},
    )
    with open_source(spec) as src:
        got = rows(LogQuery(activity_table(src, "ip", IP)))
        assert [(r["log"], r["row_id"]) for r in got] == [
            ("Panel logs", 4),
            ("Panel logs", 3),
            ("User logins", 3),
            ("Panel logs", 1),
            ("User logins", 2),
            ("User logins", 1),
        ]
        assert LogQuery(activity_table(src, "email", EMAIL)).count() == 6
