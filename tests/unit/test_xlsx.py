"""Excel exports read back with openpyxl: typed cells, header, frozen pane, filter, sheets, nothing left behind."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet import _writer as openpyxl_writer

from auditviewer.cli import main
from auditviewer.data import xlsx as xlsx_module
from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.export import export, to_text
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.report import ReportOptions
from auditviewer.data.source import LogTable, open_source
from auditviewer.data.timestamps import UTC, get_zone
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row, panel_row

HOSTILE = "<b>x</b><script>alert(1)</script>"
ROWS = [
    api_row(i, status=(200, 404, 500)[i % 3], url=HOSTILE if i == 5 else f"/v2/Api/Items/{i}") for i in range(1, 26)
]
ROWS[6]["url"] = '=HYPERLINK("http://evil.example","click")'
ROWS[7]["url"] = "bell\x07 and tab\x0b inside"  # (PostgreSQL cannot store NUL)
ROWS[8]["url"] = "#N/A"
COLUMNS = ["id", "date", "url", "method", "status", "remote_ip"]


@pytest.fixture
def api(db: DbFactory) -> Iterator[LogTable]:
    with open_source(db.create({"api": ROWS})) as source:
        yield source.log("api")


def read(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def data_rows(wb: openpyxl.Workbook) -> list[tuple]:
    rows: list[tuple] = []
    for ws in wb.worksheets[:-1]:  # the last sheet says what the rows are
        rows.extend(ws.iter_rows(min_row=2, values_only=True))
    return rows


def test_a_real_workbook_with_typed_cells(api: LogTable, tmp_path: Path) -> None:
    path = tmp_path / "api.xlsx"
    query = LogQuery(api, sort=Sort("id", False), columns=COLUMNS)
    assert export(query, "xlsx", path) == len(ROWS)
    wb = read(path)
    assert wb.sheetnames == ["API logs", "About this report"]
    ws = wb["API logs"]
    assert [c.value for c in ws[1]] == ["ID", "Date", "URL", "Method", "Status", "Remote IP"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:F{len(ROWS) + 1}"
    assert ws.max_row == len(ROWS) + 1
    first = [c for c in ws[2]]
    assert first[0].value == 1 and first[0].data_type == "n"
    assert isinstance(first[1].value, datetime) and first[1].value == ROWS[0]["date"]
    assert first[1].is_date
    assert first[4].value == ROWS[0]["status"] and isinstance(first[4].value, int)
    assert ws.column_dimensions["B"].width >= 19  # a whole date shows
    assert 6 <= ws.column_dimensions["A"].width <= 60


def test_text_stays_text(api: LogTable, tmp_path: Path) -> None:
    path = tmp_path / "hostile.xlsx"
    export(LogQuery(api, sort=Sort("id", False), columns=["id", "url"]), "xlsx", path)
    ws = read(path).worksheets[0]
    urls = {row[0].value: row[1] for row in ws.iter_rows(min_row=2)}
    assert urls[5].value == HOSTILE
    assert urls[7].value == '=HYPERLINK("http://evil.example","click")' and urls[7].data_type == "s"
    assert urls[8].value == "bell\ufffd and tab\ufffd inside"
    assert urls[9].value == "#N/A" and urls[9].data_type == "s"


def test_dates_are_in_the_chosen_zone_and_the_about_sheet_says_so(api: LogTable, tmp_path: Path) -> None:
    warsaw = get_zone("Europe/Warsaw")
    path = tmp_path / "warsaw.xlsx"
    query = LogQuery(api, Filter((parse_condition("status>=500"),)), Sort("id", False), ["id", "date"], warsaw)
    n = export(query, "xlsx", path, warsaw, options=ReportOptions(title="Errors <June>", sign_off="Checked by Ann"))
    wb = read(path)
    rows = data_rows(wb)
    expected = [r for r in ROWS if r["status"] >= 500]
    assert n == len(rows) == len(expected)
    assert rows[0] == (
        expected[0]["id"],
        expected[0]["date"].replace(tzinfo=UTC).astimezone(warsaw).replace(tzinfo=None),
    )
    about = {row[0]: row[1] for row in wb["About this report"].iter_rows(values_only=True) if row[0]}
    assert about["Errors <June>"] is None  # the title row
    assert about["Times in"] == "Europe/Warsaw"
    assert about["Filters"] == "Status is at least 500"
    assert about["Rows"] == f"{n:,}"
    assert about["Sign-off"] == "Checked by Ann"
    assert wb.properties.title == "Errors <June>"


def test_csv_and_xlsx_hold_the_same_rows(api: LogTable, tmp_path: Path) -> None:
    query = LogQuery(api, Filter((parse_condition("status!=200"),)), Sort("url", True), ["url", "id", "status"])
    export(query, "xlsx", tmp_path / "same.xlsx")
    parsed = list(csv.reader(io.StringIO(to_text(query, "csv"), newline="")))
    cells = [[str(v) for v in row] for row in data_rows(read(tmp_path / "same.xlsx"))]
    # (openpyxl reads back the one control character it could not store as U+FFFD)
    assert cells == [[c.replace("\x07", "\ufffd").replace("\x0b", "\ufffd") for c in row] for row in parsed[1:]]


def test_past_the_sheet_limit_rows_go_on_in_further_sheets(api: LogTable, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_module, "SHEET_ROWS", 11)  # a header and 10 rows per sheet
    path = tmp_path / "many.xlsx"
    assert export(LogQuery(api, sort=Sort("id", False), columns=COLUMNS), "xlsx", path) == 25
    wb = read(path)
    assert wb.sheetnames == ["Rows 1-10", "Rows 11-20", "Rows 21-25", "About this report"]
    for ws in wb.worksheets[:-1]:
        assert ws.freeze_panes == "A2" and ws.cell(1, 1).value == "ID"
    assert [row[0] for row in data_rows(wb)] == list(range(1, 26))
    assert wb["Rows 21-25"].auto_filter.ref == "A1:F6"


def test_an_exact_multiple_of_the_limit_makes_no_empty_sheet(api: LogTable, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_module, "SHEET_ROWS", 6)
    path = tmp_path / "exact.xlsx"
    export(LogQuery(api, sort=Sort("id", False)), "xlsx", path)
    assert read(path).sheetnames == [f"Rows {a}-{a + 4}" for a in range(1, 26, 5)] + ["About this report"]


def test_no_rows_is_a_header_only_sheet(api: LogTable, tmp_path: Path) -> None:
    path = tmp_path / "none.xlsx"
    assert export(LogQuery(api, Filter((parse_condition("status>=900"),))), "xlsx", path) == 0
    ws = read(path).worksheets[0]
    assert ws.max_row == 1 and ws.cell(1, 1).value == "ID"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cancelling_leaves_no_file_and_no_temporary_files(sqlite_db: DbFactory, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_module, "SHEET_ROWS", 1_001)
    rows = [panel_row(i) for i in range(1, 25_001)]
    out = tmp_path / "out"
    out.mkdir()
    before = set(openpyxl_writer.ALL_TEMP_FILES)
    with open_source(sqlite_db.create({"panel": rows})) as source:
        token = CancelToken()

        def progress(n: int) -> None:
            if n >= 10_000:
                token.cancel()

        with pytest.raises(QueryCancelled):
            export(LogQuery(source.log("panel")), "xlsx", out / "panel.xlsx", token=token, progress=progress)
    assert leftovers(out) == []
    made = set(openpyxl_writer.ALL_TEMP_FILES) - before
    assert made == set() and not any(os.path.exists(p) for p in openpyxl_writer.ALL_TEMP_FILES if p not in before)


def test_the_cli_writes_xlsx_and_refuses_stdout(sqlite_db: DbFactory, tmp_path: Path, capsys) -> None:
    spec = sqlite_db.create({"api": ROWS})
    out = tmp_path / "errors.xlsx"
    code = main(
        [
            "export",
            spec,
            "--log",
            "api",
            "--where",
            "status>=500",
            "--format",
            "xlsx",
            "--title",
            "Errors",
            "--mask",
            "--tz",
            "Europe/Warsaw",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    wb = read(out)
    assert wb.properties.title == "Errors"
    assert {row[-1] for row in data_rows(wb)} == {"10.0.*.*"}
    assert main(["export", spec, "--log", "api", "--format", "xlsx", "-o", "-"]) == 2
    assert "cannot go to stdout" in capsys.readouterr().err


def test_an_interrupted_cli_export_leaves_no_file(sqlite_db: DbFactory, tmp_path: Path, capsys, monkeypatch) -> None:
    spec = sqlite_db.create({"api": ROWS})

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xlsx_module, "_typed", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", spec, "--log", "api", "--format", "xlsx", "-o", str(out / "a.xlsx")]) == 1
    assert "interrupted" in capsys.readouterr().err
    assert leftovers(out) == []
