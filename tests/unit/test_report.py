"""What a report says: its facts in plain words, its rows as a reader sees them, on every backend."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditviewer.data import report as report_module
from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.export import to_text
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.logtypes import Kind, Role
from auditviewer.data.query import LogQuery
from auditviewer.data.report import ReportOptions, build_report, describe_sort, file_sha256
from auditviewer.data.source import LogTable, open_source
from auditviewer.data.timestamps import UTC, get_zone
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row, panel_row

JUNE = datetime(2025, 6, 1)
API_ROWS = [
    api_row(i, date=JUNE + timedelta(hours=3 * i), status=(200, 404, 500, 503)[i % 4], business_unit_id=1 + i % 2)
    for i in range(1, 81)
]
UNITS = [(1, "Main brand"), (2, "Outlet store")]


@pytest.fixture
def api(db: DbFactory) -> Iterator[LogTable]:
    with open_source(db.create({"api": API_ROWS}, business_units=UNITS)) as source:
        yield source.log("api")


def errors_in_first_week(table: LogTable, **kwargs) -> LogQuery:
    flt = Filter((parse_condition("status>=500"),), time_from=JUNE, time_to=JUNE + timedelta(days=7))
    return LogQuery(table, flt, **kwargs)


def test_the_facts_say_what_the_rows_are_in_plain_words(api: LogTable) -> None:
    query = errors_in_first_week(api)
    report = build_report(query, ReportOptions())
    assert report.title == "API logs"
    assert report.filters == "Status is at least 500; date from 1 Jun 2025 to 7 Jun 2025 (UTC)"
    assert report.sort == "Date, newest first"
    assert (
        report.row_count
        == query.count()
        == sum(1 for r in API_ROWS if r["status"] >= 500 and r["date"] < JUNE + timedelta(days=7))
    )
    assert report.zone_name == "UTC"
    assert report.generated.tzinfo is not None
    assert [c.name for c in report.columns] == list(query.columns)
    assert report.columns[2].label == "Date" and report.columns[2].kind is Kind.DATETIME
    assert report.columns[-1].role is Role.IP
    facts = dict(report.facts())
    assert facts["Filters"] == report.filters and facts["Rows"] == f"{report.row_count:,}"
    assert "Personal data" not in facts
    if api.source.path is not None:
        assert report.sha256 == hashlib.sha256(api.source.path.read_bytes()).hexdigest()
        assert facts["SHA-256"] == report.sha256
    else:  # a server schema is no file to fingerprint
        assert report.sha256 is None and "server database" in facts["SHA-256"]


def test_the_title_names_the_business_unit_unless_given(api: LogTable) -> None:
    unit = LogQuery(api, Filter(business_unit=2))
    report = build_report(unit, ReportOptions())
    assert report.title == "API logs — Outlet store"
    assert report.filters == 'Business unit "Outlet store"'
    assert build_report(unit, ReportOptions(title="  June review  ")).title == "June review"
    assert build_report(unit, ReportOptions(), business_unit_name="Outlet").title == "API logs — Outlet"


def test_rows_are_the_query_rows_as_text_in_the_zone(api: LogTable) -> None:
    warsaw = get_zone("Europe/Warsaw")
    query = errors_in_first_week(api, sort=Sort("id", False), columns=["id", "date", "status", "url"])
    report = build_report(query, ReportOptions(zone=warsaw))
    rows = list(report.rows())
    expected = [r for r in API_ROWS if r["status"] >= 500 and r["date"] < JUNE + timedelta(days=7)]
    assert [row[0] for row in rows] == [str(r["id"]) for r in expected]
    first = expected[0]
    local = first["date"].replace(tzinfo=UTC).astimezone(warsaw)
    assert rows[0] == [str(first["id"]), local.strftime("%Y-%m-%d %H:%M:%S"), str(first["status"]), first["url"]]
    assert report.zone_name == "Europe/Warsaw" and report.filters.endswith("(Europe/Warsaw)")
    assert report.sample(2) == rows[:2]
    assert list(report.rows(limit=3)) == rows[:3]


def test_rows_match_the_csv_export(api: LogTable) -> None:
    query = LogQuery(api, sort=Sort("status", True), columns=["status", "id", "url", "method"])
    report = build_report(query, ReportOptions())
    parsed = list(csv.reader(io.StringIO(to_text(query, "csv"), newline="")))
    assert parsed[1:] == list(report.rows())
    assert describe_sort(query) == "Status, largest first"


def test_masking_and_limits(sqlite_db: DbFactory) -> None:
    rows = [
        panel_row(i, email=f"person{i}@example.com", remote_ip="83.24.1.2", api_method_status=None)
        for i in range(1, 11)
    ]
    with open_source(sqlite_db.create({"panel": rows})) as source:
        query = LogQuery(
            source.log("panel"), sort=Sort("id", False), columns=["id", "email", "remote_ip", "api_method_status"]
        )
        report = build_report(query, ReportOptions(mask=True), limit=4)
        assert report.row_count == 4
        assert list(report.rows()) == [[str(i), "pe***@example.com", "83.24.*.*", ""] for i in range(1, 5)]
        assert dict(report.facts())["Personal data"].startswith("partly hidden")
        # The words about the rows do not give away what the rows hide.
        who = LogQuery(
            source.log("panel"),
            Filter(
                (parse_condition("email=person3@example.com"), parse_condition("remote_ip=83.24.1.2")), search="person3"
            ),
        )
        masked = build_report(who, ReportOptions(mask=True, title="All activity of person3@example.com"))
        assert masked.title == "All activity of pe***@example.com"
        assert masked.filters == ('E-mail is "pe***@example.com"; Remote IP is "83.24.*.*"; text contains "person3"')
        assert list(masked.rows()) and who.count() == 1  # the query itself is not masked
        assert "person3@example.com" in build_report(who, ReportOptions()).filters


def test_empty_reports_and_bad_options(sqlite_db: DbFactory) -> None:
    with open_source(sqlite_db.create({"api": [api_row(1)]})) as source:
        report = build_report(LogQuery(source.log("api"), Filter((parse_condition("status>=900"),))), ReportOptions())
        assert report.row_count == 0 and list(report.rows()) == []
    with pytest.raises(ValueError, match="orientation must be one of auto, landscape, portrait"):
        ReportOptions(orientation="sideways")


def test_the_fingerprint_is_read_in_chunks_remembered_and_cancellable(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "evidence.db"
    path.write_bytes(b"x" * 1000 + b"y" * 77)
    monkeypatch.setattr(report_module, "HASH_CHUNK", 100)
    seen: list[int] = []
    assert file_sha256(path, progress=lambda done, total: seen.append(done)) == (
        hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert seen == [100 * k for k in range(1, 11)] + [1077]
    seen.clear()
    file_sha256(path, progress=lambda done, total: seen.append(done))
    assert seen == []  # unchanged file: remembered
    path.write_bytes(b"changed")
    token = CancelToken()
    token.cancel()
    with pytest.raises(QueryCancelled):
        file_sha256(path, token)


def test_building_reports_progress_and_can_be_cancelled(sqlite_db: DbFactory) -> None:
    with open_source(sqlite_db.create({"api": API_ROWS})) as source:
        stages: list[str] = []
        build_report(
            LogQuery(source.log("api")), ReportOptions(), progress=lambda stage, done, total: stages.append(stage)
        )
        assert stages[0] == "Counting the rows" and "SHA-256" in stages[-1]
        token = CancelToken()
        token.cancel()
        with pytest.raises(QueryCancelled):
            build_report(LogQuery(source.log("api")), ReportOptions(), token=token)
