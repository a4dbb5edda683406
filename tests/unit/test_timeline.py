"""The timeline's buckets and stacked counts equal a plain SQL count, whichever way they were counted."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from auditviewer.data.activity import activity_table
from auditviewer.data.cancel import CancelToken
from auditviewer.data.demo import create_demo
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.filters import Filter, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from auditviewer.data.timeline import (
    DAY,
    HOUR,
    MINUTE,
    WEEK,
    Timeline,
    align,
    bucket_edges,
    choose_width,
    compute_timeline,
    label_width,
)
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import BASE, api_row, sms_row

# API rows over about three days, 797 seconds apart: 4xx and 5xx in bursts, a few
# 3xx, and rows right on hour edges at the end. Ids rise with time, as exported.
STATUSES = [200, 201, 204, 302, 404, 200, 500, 200, 429, 503, 200, 200, 401]
API = [
    api_row(
        i,
        date=BASE + timedelta(seconds=i * 797),
        status=STATUSES[(i * 7) % len(STATUSES)],
        method=("GET", "POST", "PUT", "DELETE")[i % 4],
        remote_ip=f"192.0.2.{i % 9}",
    )
    for i in range(1, 331)
]
API += [api_row(331 + k, date=BASE + timedelta(hours=74 + k), status=(200, 500, 404)[k % 3]) for k in range(5)]

#: The outcomes as a person would write them in SQL, to check the chart against.
API_SQL = {"ok": "status < 400", "4xx": "status >= 400 AND status < 500", "5xx": "status >= 500"}


def _bound(db: DbFactory, moment: datetime) -> Any:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if db.backend == "sqlite" else moment


def plain_counts(
    db: DbFactory,
    table: LogTable,
    tl: Timeline,
    outcome_sql: dict[str, str],
    where: str = "1 = 1",
    params: dict[str, Any] | None = None,
) -> dict[str, list[int]]:
    """Per bucket and outcome: SELECT count(*) ... WHERE date >= :lo AND date < :hi AND <outcome>."""
    name = table.table.fullname if hasattr(table.table, "fullname") else table.db_name
    counts: dict[str, list[int]] = {}
    with table.source.engine.connect() as conn:
        for key, sql in outcome_sql.items():
            text = sa.text(f"SELECT count(*) FROM {name} WHERE date >= :lo AND date < :hi AND ({sql}) AND ({where})")
            counts[key] = [
                conn.execute(text, {"lo": _bound(db, a), "hi": _bound(db, b), **(params or {})}).scalar()
                for a, b in itertools.pairwise(tl.edges)
            ]
    return counts


def chart_counts(tl: Timeline) -> dict[str, list[int]]:
    return {s.key: list(s.counts) for s in tl.series}


# -- bucket widths and edges --------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (timedelta(minutes=30), MINUTE),
        (timedelta(hours=1), MINUTE),
        (timedelta(hours=24), 5 * MINUTE),
        (timedelta(days=3), 15 * MINUTE),
        (timedelta(days=7), HOUR),
        (timedelta(days=30), 6 * HOUR),
        (timedelta(days=365), DAY),
        (timedelta(days=2000), WEEK),
        (timedelta(days=7 * 1000), 3 * WEEK),
    ],
)
def test_width_fits_the_span(span: timedelta, width: timedelta) -> None:
    assert choose_width(span) == width
    if span >= timedelta(hours=1):
        assert 60 <= len(bucket_edges(BASE, BASE + span, width)) - 1 <= 401


def test_edges_are_aligned_and_cover_first_and_last() -> None:
    first, last = datetime(2025, 3, 5, 13, 47, 12), datetime(2025, 3, 9, 8, 3, 0)
    edges = bucket_edges(first, last, HOUR)
    assert edges[0] == datetime(2025, 3, 5, 13) and edges[-1] == datetime(2025, 3, 9, 9)
    assert all(b - a == HOUR for a, b in itertools.pairwise(edges))
    assert align(first, DAY) == datetime(2025, 3, 5)
    assert align(first, WEEK) == datetime(2025, 3, 3) and align(first, WEEK).weekday() == 0
    assert align(first, 15 * MINUTE) == datetime(2025, 3, 5, 13, 45)
    # A row exactly on an edge opens the next bucket.
    assert bucket_edges(first, datetime(2025, 3, 5, 15), HOUR)[-1] == datetime(2025, 3, 5, 16)
    assert [label_width(w) for w in (MINUTE, 5 * MINUTE, HOUR, 6 * HOUR, DAY, WEEK, 3 * WEEK)] == [
        "minute",
        "5 minutes",
        "hour",
        "6 hours",
        "day",
        "week",
        "3 weeks",
    ]


# -- counts on every backend ----------------------------------------------------------------


@pytest.fixture
def api_table(db: DbFactory):
    spec = db.create({"api": API}, indexes=[("*", "date"), ("*", "status")])
    with open_source(spec) as source:
        yield source.log("api")


def test_all_rows_come_from_the_date_index_and_equal_plain_counts(db: DbFactory, api_table: LogTable) -> None:
    tl = compute_timeline(LogQuery(api_table))
    assert tl.strategy == ("index+ids" if db.backend == "sqlite" else "index")
    assert tl.width == 15 * MINUTE and tl.edges[0] == BASE
    assert [s.key for s in tl.series] == ["ok", "4xx", "5xx"]
    assert [s.color for s in tl.series] == ["#54a24b", "#eeca3b", "#e45756"]
    assert chart_counts(tl) == plain_counts(db, api_table, tl, API_SQL)
    assert tl.total == len(API)


@pytest.mark.parametrize(
    ("condition", "where", "params"),
    [
        ("status>=500", "status >= 500", {}),
        ("method=PUT,DELETE", "method IN ('PUT', 'DELETE')", {}),
        ("remote_ip=192.0.2.4", "remote_ip = :ip", {"ip": "192.0.2.4"}),
    ],
)
def test_a_condition_is_one_grouped_pass_equal_to_plain_counts(
    db: DbFactory, api_table: LogTable, condition: str, where: str, params: dict[str, Any]
) -> None:
    tl = compute_timeline(LogQuery(api_table, Filter((parse_condition(condition),))))
    assert tl.strategy == "grouped"
    assert chart_counts(tl) == plain_counts(db, api_table, tl, API_SQL, where, params)
    assert tl.total > 0


def test_a_time_range_cuts_the_first_and_last_bucket_exactly(db: DbFactory, api_table: LogTable) -> None:
    start, end = BASE + timedelta(hours=5, minutes=7, seconds=3), BASE + timedelta(hours=30, minutes=52)
    tl = compute_timeline(LogQuery(api_table, Filter(time_from=start, time_to=end)))
    assert tl.strategy.startswith("index") and tl.width == 5 * MINUTE
    inside = [r["date"] for r in API if start <= r["date"] < end]
    assert tl.edges[0] <= min(inside) < tl.edges[0] + 5 * MINUTE and tl.edges[-1] > max(inside)
    where = "date >= :start AND date < :end"
    params = {"start": _bound(db, start), "end": _bound(db, end)}
    assert chart_counts(tl) == plain_counts(db, api_table, tl, API_SQL, where, params)


def test_last_span_counts_back_from_the_newest_row(db: DbFactory, api_table: LogTable) -> None:
    newest = max(r["date"] for r in API)
    tl = compute_timeline(LogQuery(api_table, Filter(last=timedelta(hours=6))))
    params = {"start": _bound(db, newest - timedelta(hours=6))}
    assert chart_counts(tl) == plain_counts(db, api_table, tl, API_SQL, "date >= :start", params)
    assert tl.total == sum(1 for r in API if r["date"] >= newest - timedelta(hours=6))


def test_a_fixed_width_and_regrouping_keep_the_counts(api_table: LogTable) -> None:
    hourly = compute_timeline(LogQuery(api_table), width=HOUR)
    daily = compute_timeline(LogQuery(api_table), width=DAY)
    assert hourly.width == HOUR and hourly.edges[0] == BASE
    assert chart_counts(hourly.regrouped(24)) == chart_counts(daily)
    assert hourly.regrouped(24).edges == daily.edges[: len(hourly.regrouped(24).edges)]
    assert hourly.bucket_at(BASE + timedelta(hours=2, minutes=59)) == 2
    assert hourly.bucket_at(BASE - timedelta(seconds=1)) is None


def test_without_a_date_index_the_counts_are_the_same(db: DbFactory) -> None:
    with open_source(db.create({"api": API}, indexes=[])) as source:
        table = source.log("api")
        tl = compute_timeline(LogQuery(table))
        assert tl.strategy == "grouped"
        assert chart_counts(tl) == plain_counts(db, table, tl, API_SQL)


def test_logins_and_sms_stack_their_own_outcomes(db: DbFactory) -> None:
    sms = [
        sms_row(i, date=BASE + timedelta(minutes=i * 13), error=(None, "", "Gateway timeout", None)[i % 4])
        for i in range(1, 120)
    ]
    logins = [
        dict(
            id=i,
            date=BASE + timedelta(minutes=i * 29),
            name="Anna",
            email="anna@example.com",
            login=("successful", "failed", "successful")[i % 3],
            remote_ip="198.51.100.7",
        )
        for i in range(1, 91)
    ]
    with open_source(db.create({"sms": sms, "logins": logins}, indexes=[("*", "date")])) as source:
        tl = compute_timeline(LogQuery(source.log("sms")))
        assert [s.label for s in tl.series] == ["Sent", "Error"]
        sql = {"sent": "error IS NULL OR error = ''", "error": "error IS NOT NULL AND error <> ''"}
        assert chart_counts(tl) == plain_counts(db, source.log("sms"), tl, sql)
        tl = compute_timeline(LogQuery(source.log("logins")))
        assert [s.label for s in tl.series] == ["Successful", "Failed"]
        sql = {"successful": "login = 'successful'", "failed": "login <> 'successful'"}
        assert chart_counts(tl) == plain_counts(db, source.log("logins"), tl, sql)


@pytest.mark.parametrize("ids", ["falling", "late inserts", "gaps"])
def test_ids_that_are_not_consecutive_in_date_order_are_still_counted_exactly(sqlite_db: DbFactory, ids: str) -> None:
    if ids == "falling":
        rows = [dict(row, id=1000 - row["id"]) for row in API]
    elif ids == "late inserts":  # rows numbered after the others but dated among them
        rows = API + [api_row(900 + k, date=BASE + timedelta(hours=3, minutes=k), status=503) for k in range(4)]
    else:  # an export of one business unit: ids rise with time, with holes
        rows = [dict(row, id=row["id"] * 3) for row in API]
    with open_source(sqlite_db.create({"api": rows}, indexes=[("*", "date"), ("*", "status")])) as source:
        table = source.log("api")
        for width in (None, HOUR, DAY):
            tl = compute_timeline(LogQuery(table), width=width)
            assert tl.strategy == "index"  # the id ranges were refused; the rare rows were grouped instead
            assert chart_counts(tl) == plain_counts(sqlite_db, table, tl, API_SQL)


def test_an_empty_result_is_an_empty_timeline(api_table: LogTable) -> None:
    tl = compute_timeline(LogQuery(api_table, Filter((parse_condition("status=999"),))))
    assert tl.is_empty and tl.buckets == 0 and tl.strategy == "empty"


def test_the_activity_timeline_shows_what_no_outcome_claims_as_other(sqlite_db: DbFactory) -> None:
    rows = [api_row(i, status=(200, 404, 500)[i % 3], remote_ip="198.51.100.1") for i in range(1, 31)]
    with open_source(sqlite_db.create({"api": rows})) as source:
        tl = compute_timeline(LogQuery(activity_table(source, "ip", "198.51.100.1")))
        totals = {s.key: sum(s.counts) for s in tl.series}
        assert totals == {"api_4xx": 10, "panel_error": 0, "api_5xx": 10, "login_failed": 0, "other": 10}
        assert tl.series[-1].label == "Other"


def test_a_cancelled_token_stops_it(api_table: LogTable) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(QueryCancelled):
        compute_timeline(LogQuery(api_table), token)


def test_demo_database_all_logs(tmp_path: Path) -> None:
    path = create_demo(tmp_path / "demo.db", rows=4000, seed=5)
    with open_source(path) as source:
        for key, table in source.logs.items():
            tl = compute_timeline(LogQuery(table))
            assert tl.total == LogQuery(table).count(), key
            assert tl.width == DAY and tl.buckets <= 366
        api = compute_timeline(LogQuery(source.log("api")))
        assert api.strategy == "index+ids"
        five = api.series_by_key("5xx")
        assert (
            five is not None
            and sum(five.counts) == LogQuery(source.log("api"), Filter((parse_condition("status>=500"),))).count()
        )
