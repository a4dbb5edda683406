"""auditviewer-cli given values at the edges: a message and exit 2, or the rows asked for; never a traceback."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from auditviewer.cli import main
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row

LOGIN = {
    "date": datetime(2025, 6, 1, 9),
    "name": "Ann",
    "email": "ann@example.com",
    "login": "failed",
    "country": "Poland",
    "remote_ip": "10.0.0.9",
    "user_agent": "Mozilla/5.0",
}


@pytest.fixture
def db_path(sqlite_db: DbFactory) -> str:
    api = [
        api_row(i, date=datetime(2025, 6, 1, i), url="/with space" if i % 3 == 0 else f"/v2/{i}") for i in range(1, 11)
    ]
    logins = [{"id": i, **LOGIN} for i in range(1, 4)]
    return sqlite_db.create({"api": api, "logins": logins}, business_units=[(1, "Main")])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def export_ids(capsys: pytest.CaptureFixture[str], path: str, *args: str) -> list[int]:
    code, out, err = run(
        capsys,
        "export",
        path,
        "--log",
        "api",
        *args,
        "--columns",
        "id",
        "--sort",
        "id:asc",
        "--format",
        "csv",
        "-o",
        "-",
    )
    assert code == 0, err
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(out))]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--last", "9999999999999d"], ["too long a span", "at most 999999999d"]),
        (["--last", "0d"], ["more than zero"]),
        (
            ["--where", "status>=99999999999999999999999"],
            [
                "status>=99999999999999999999999: 99999999999999999999999 is out of range for a number column "
                "(at most 9223372036854775807)"
            ],
        ),
        (["--where", "id=9223372036854775808"], ["out of range for a number column"]),
        (["--where", "status=-99999999999999999999999"], ["at least -9223372036854775808"]),
        (["--limit", "9223372036854775808"], ["--limit", "at most 9223372036854775807"]),
        (["--business-unit", "99999999999999999999999"], ["business unit 99999999999999999999999 is out of range"]),
        (["--where", "date=20250601"], ["'20250601' is not a date", "YYYY-MM-DD (a whole day)"]),
        (["--where", 'url~""'], ["needs some text to look for", "url="]),
        (
            ["--from", "2025-06-10", "--to", "2025-06-01"],
            ["the time range from 10 Jun 2025 to 1 Jun 2025 (UTC) is empty"],
        ),
        (["--from", "2025-06-01 10:00", "--to", "2025-06-01 10:00"], ["is empty"]),
    ],
)
def test_export_refuses_values_out_of_range_with_exit_2(
    capsys, db_path: str, args: list[str], words: list[str]
) -> None:
    code, out, err = run(capsys, "export", db_path, "--log", "api", *args, "--format", "csv", "-o", "-")
    assert (code, out) == (2, "")
    assert err.startswith("auditviewer-cli: error: ") and "Traceback" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--to", "9999-12-31"], list(range(1, 11))),
        (["--to", "9999-12-31", "--tz", "America/New_York"], list(range(1, 11))),
        (["--from", "0001-01-01", "--tz", "Asia/Tokyo"], list(range(1, 11))),
        (["--where", "date>9999-12-31"], []),
        (["--where", "date<=9999-12-31"], list(range(1, 11))),
        (["--where", "date<0001-01-01"], []),
        (["--last", "99999999d"], list(range(1, 11))),
        (["--where", "status<=9223372036854775807"], list(range(1, 11))),
        (["--limit", "9223372036854775807"], list(range(1, 11))),
        (["--where", 'url~" "'], [3, 6, 9]),
        (["--where", 'url!~" "'], [1, 2, 4, 5, 7, 8, 10]),
        (["--where", "date=2025-06-01 03:00:00Z"], [3]),
        (["--from", "2025-06-01", "--to", "2025-06-01"], list(range(1, 11))),
    ],
)
def test_export_takes_values_at_the_edges(capsys, db_path: str, args: list[str], expected: list[int]) -> None:
    assert export_ids(capsys, db_path, *args) == expected


def test_a_very_long_contains_value_exports_on_sqlite(capsys, db_path: str) -> None:
    assert export_ids(capsys, db_path, "--where", "url!~" + "x" * 60_000) == list(range(1, 11))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--burst-minutes", "99999999999999"], ["burst window", "at most 525,600"]),
        (["--burst-failures", "99999999999999999999"], ["at most 1,000,000"]),
        (["--last", "9999999999999d"], ["too long a span"]),
        (["--business-hours", "25-99"], ["business hours"]),
        (["--from", "2025-06-10", "--to", "2025-06-01"], ["is empty"]),
    ],
)
def test_insights_refuses_values_out_of_range_with_exit_2(
    capsys, db_path: str, args: list[str], words: list[str]
) -> None:
    code, out, err = run(capsys, "insights", db_path, *args)
    assert (code, out) == (2, "")
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    "args", [["--to", "9999-12-31"], ["--from", "0001-01-01", "--tz", "Asia/Tokyo"], ["--burst-minutes", "525600"]]
)
def test_insights_takes_dates_at_the_ends_of_the_calendar(capsys, db_path: str, args: list[str]) -> None:
    code, out, err = run(capsys, "insights", db_path, *args)
    assert code == 0, err
    assert out.startswith("Overview of ")
    assert "0001-01-01" in out or "9999-12-31" in out or "525600" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rows", "99999999999999999999"], "at most 100,000,000"),
        (["--rows", "0"], "at least 1"),
        (["--rows", "10", "--seed", "-1"], "--seed must be zero or more"),
    ],
)
def test_demo_refuses_numbers_out_of_range(capsys, tmp_path: Path, args: list[str], words: str) -> None:
    code, _, err = run(capsys, "demo", str(tmp_path / "d.db"), *args)
    assert code == 2 and words in err
    assert not (tmp_path / "d.db").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_stored_time_the_zone_moves_past_9999_exports_in_utc(
    capsys, sqlite_db: DbFactory, tmp_path: Path, fmt: str
) -> None:
    path = sqlite_db.create({"api": [api_row(1, date=datetime(9999, 12, 31, 20)), api_row(2)]})
    out = tmp_path / f"edge.{fmt}"
    code, _, err = run(
        capsys,
        "export",
        path,
        "--log",
        "api",
        "--tz",
        "Asia/Tokyo",
        "--columns",
        "id,date",
        "--sort",
        "id:asc",
        "--format",
        fmt,
        "-o",
        str(out),
    )
    assert code == 0, err
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert [r["date"] for r in rows] == ["9999-12-31 20:00:00+00:00", "2025-01-01 09:02:00+09:00"]
