"""Whatever a browser sent is data: stored, read back and exported exactly, on every backend."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditviewer.data.export import export, to_text
from auditviewer.data.filters import Condition, Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import panel_row

LONG_URL = "/panel/search?q=" + "".join(chr(ord("a") + i % 26) for i in range(4984))
HOSTILE = [
    panel_row(
        1,
        url='/it\'s "quoted" `back` \\slash\\',
        email="o'brien@example.com",
        user_agent='Mozilla/5.0 "quoted", with comma',
    ),
    panel_row(
        2,
        url="<script>alert(1)</script>",
        api_method_status="<b>bold</b> & &amp;",
        user_agent="<img src=x onerror=alert(1)>",
    ),
    panel_row(3, url=LONG_URL, user_agent=None, api_method_status=None),
    panel_row(4, url="/emoji/😀🎉👍🏽/ok", api_method_status="✓ done ★", email="emoji😀@example.com"),
    panel_row(
        5, url="/zażółć/gęślą/jaźń", api_method_status="ZAŻÓŁĆ GĘŚLĄ JAŹŃ", email="łukasz@żółw.pl", user_agent="Łódź"
    ),
    panel_row(
        6,
        url="/lines\nsecond line\r\nthird\ttabbed",
        api_method_status="; DROP TABLE panel_logs; --",
        user_agent="   spaces around   ",
    ),
    panel_row(7, url="", api_method_status="", user_agent="%_ wildcards _%"),
]
HOSTILE = [{"api_method_status": None, "user_agent": None, **row} for row in HOSTILE]
COLUMNS = ["id", "url", "email", "api_method_status", "user_agent"]


@pytest.fixture
def panel(db: DbFactory) -> Iterator[LogTable]:
    with open_source(db.create({"panel": HOSTILE})) as source:
        yield source.log("panel")


def _stored(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(name) for name in COLUMNS)


def test_values_come_back_exactly(panel: LogTable) -> None:
    assert len(LONG_URL) == 5000
    query = LogQuery(panel, sort=Sort("id", False), columns=COLUMNS)
    assert query.first(100).rows == [_stored(r) for r in HOSTILE]
    assert [tuple(r) for r in query.iter_rows()] == [_stored(r) for r in HOSTILE]
    assert query.last(1).rows == [_stored(HOSTILE[-1])]


def test_exports_carry_the_values_exactly(panel: LogTable, tmp_path: Path) -> None:
    query = LogQuery(panel, sort=Sort("id", False), columns=COLUMNS)
    export(query, "csv", tmp_path / "out.csv")
    export(query, "json", tmp_path / "out.jsonl")

    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:
        parsed = list(csv.reader(fh))
    assert parsed[0] == COLUMNS
    assert parsed[1:] == [["" if v is None else str(v) for v in _stored(r)] for r in HOSTILE]

    raw = (tmp_path / "out.jsonl").read_bytes()
    assert "😀🎉👍🏽".encode() in raw and "ZAŻÓŁĆ".encode() in raw  # UTF-8, not \\u escapes
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(HOSTILE) + 1  # one line per row, however many line breaks
    assert [json.loads(line) for line in lines[:-1]] == [dict(zip(COLUMNS, _stored(r), strict=True)) for r in HOSTILE]


@pytest.mark.parametrize(
    ("condition", "ids"),
    [
        (Condition("url", "=", ("<script>alert(1)</script>",)), [2]),
        (Condition("url", "=", (LONG_URL,)), [3]),
        (Condition("url", "~", ("😀🎉",)), [4]),
        (Condition("url", "~", ("gęślą",)), [5]),
        (Condition("api_method_status", "^=", ("; DROP",)), [6]),
        (Condition("user_agent", "~", ("%_",)), [7]),  # % and _ are not wildcards
        (Condition("url", "~", ('"quoted"',)), [1]),
        (Condition("url", "~", ("\\slash",)), [1]),
        (parse_condition('url=""'), [7]),  # the empty text, and not NULL
        (Condition("user_agent", "=", ()), [3, 4]),
        (Condition("api_method_status", "=", ()), [1, 3, 7]),
    ],
    ids=[
        "html",
        "5000-chars",
        "emoji",
        "polish",
        "sql",
        "wildcards",
        "quotes",
        "backslash",
        "empty-text",
        "empty-or-null",
        "empty-or-null-2",
    ],
)
def test_filters_find_hostile_values(panel: LogTable, condition: Condition, ids: list[int]) -> None:
    if condition.values != ("",):  # "url=" is the empty check, which also finds NULLs
        assert parse_condition(condition.text()) == condition
    query = LogQuery(panel, Filter((condition,)), Sort("id", False), columns=["id"])
    assert [row[0] for row in query.first(100).rows] == ids


def test_search_finds_hostile_values(panel: LogTable) -> None:
    def found(text: str) -> list[int]:
        return [row[0] for row in LogQuery(panel, Filter(search=text), Sort("id", False), columns=["id"]).first(9).rows]

    assert found("<script>") == [2]
    assert found("'") == [1]
    assert found('"second line"') == [6]
    assert found("żółw.pl") == [5]
    assert found("😀") == [4]


def test_csv_cells_survive_a_spreadsheet_style_reader(panel: LogTable) -> None:
    query = LogQuery(panel, Filter((parse_condition("id=6"),)), columns=["url"])
    text = to_text(query, "csv")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["url"], [HOSTILE[5]["url"]]]
