"""auditviewer-cli as a user runs it: info, export, demo, exit codes and messages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditviewer.cli import main
from auditviewer.data.demo import create_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    create_demo(path, rows=3_000, seed=7)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(path: Path) -> tuple[str, int, list[str]]:
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent)))


def test_info_lists_logs_counts_units_and_indexes(capsys, demo_db: Path) -> None:
    code, out, _ = run(capsys, "info", str(demo_db))
    assert code == 0
    assert "API logs (table api_logs)" in out
    assert "rows:     3,000" in out
    assert "Business units:" in out
    assert "indexes:" in out and "date" in out


def test_info_json_is_machine_readable(capsys, demo_db: Path) -> None:
    code, out, _ = run(capsys, "info", str(demo_db), "--json")
    info = json.loads(out)
    assert code == 0
    logs = {item["log"]: item for item in info["logs"]}
    assert set(logs) == {"panel", "api", "sms", "logins"}
    assert logs["api"]["rows"] == 3_000
    assert logs["panel"]["rows"] == 1_500
    assert "status" in logs["api"]["indexed_columns"]
    assert info["business_units"] and info["database"] == "sqlite"


def test_export_csv_applies_filters_sort_and_columns(capsys, demo_db: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "errors.csv"
    code, _, err = run(
        capsys,
        "export",
        str(demo_db),
        "--log",
        "api",
        "--where",
        "status>=500",
        "--where",
        "method!=GET",
        "--sort",
        "id:asc",
        "--columns",
        "id,status,method",
        "--format",
        "csv",
        "-o",
        str(out_file),
    )
    assert code == 0 and "wrote" in err
    with out_file.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "status", "method"]
    body = rows[1:]
    assert body, "the demo has 5xx errors from non-GET calls"
    assert all(int(r[1]) >= 500 and r[2] != "GET" for r in body)
    assert [int(r[0]) for r in body] == sorted(int(r[0]) for r in body)


def test_export_json_lines_to_stdout_with_limit(capsys, demo_db: Path) -> None:
    code, out, _ = run(
        capsys,
        "export",
        str(demo_db),
        "--log",
        "logins",
        "--where",
        "login=failed",
        "--limit",
        "5",
        "--format",
        "json",
        "-o",
        "-",
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 5
    assert all(item["login"] == "failed" for item in lines)
    dates = [item["date"] for item in lines]
    assert dates == sorted(dates, reverse=True), "newest first by default"


def test_export_time_range_and_business_unit_by_name(capsys, demo_db: Path) -> None:
    code, out, _ = run(capsys, "info", str(demo_db), "--json")
    unit = json.loads(out)["business_units"][0]
    code, out, _ = run(
        capsys,
        "export",
        str(demo_db),
        "--log",
        "api",
        "--from",
        "2025-06-01",
        "--to",
        "2025-06-07",
        "--business-unit",
        unit["name"],
        "--columns",
        "date,business_unit_id",
        "--format",
        "csv",
        "-o",
        "-",
    )
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert code == 0 and rows
    assert all("2025-06-01" <= r[0][:10] <= "2025-06-07" for r in rows)
    assert {r[1] for r in rows} == {str(unit["id"])}


def test_export_in_another_time_zone_shifts_dates(capsys, demo_db: Path) -> None:
    args = ["export", str(demo_db), "--log", "api", "--limit", "1", "--columns", "date", "--format", "csv", "-o", "-"]
    _, utc, _ = run(capsys, *args)
    _, warsaw, _ = run(capsys, *args, "--tz", "Europe/Warsaw")
    assert utc.splitlines()[1] != warsaw.splitlines()[1]
    assert warsaw.splitlines()[1].endswith(("+01:00", "+02:00"))


@pytest.mark.parametrize(
    "args, words",
    [
        (["--where", "colour=red"], ["no column 'colour'", "valid columns", "status"]),
        (["--where", "status>=lots"], ["whole numbers"]),
        (["--where", "method=FETCH"], ["GET, POST, PUT, DELETE"]),
        (["--from", "yesterday"], ["not a date"]),
        (["--last", "7 parsecs"], ["not a duration"]),
        (["--sort", "nothing:desc"], ["cannot sort by 'nothing'"]),
        (["--business-unit", "Atlantis"], ["no business unit 'Atlantis'"]),
    ],
)
def test_bad_arguments_exit_2_with_a_message_that_says_what_is_valid(capsys, demo_db: Path, args, words) -> None:
    code, out, err = run(capsys, "export", str(demo_db), "--log", "api", *args, "--format", "csv", "-o", "-")
    assert code == 2
    assert out == ""
    for word in words:
        assert word in err


def test_unknown_log_type_is_a_usage_error(capsys, demo_db: Path) -> None:
    code, _, err = run(capsys, "export", str(demo_db), "--log", "email", "--format", "csv", "-o", "-")
    assert code == 2 and "valid log types: panel, api, sms, logins" in err


def test_not_a_database_exits_1_naming_the_file(capsys, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n")
    code, out, err = run(capsys, "info", str(bogus))
    assert code == 1 and out == ""
    assert str(bogus) in err and "not a SQLite database" in err


def test_missing_file_exits_1(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "info", str(tmp_path / "nowhere.db"))
    assert code == 1 and "no such file" in err


def test_info_and_export_leave_the_file_and_folder_untouched(capsys, demo_db: Path, tmp_path: Path) -> None:
    before = snapshot(demo_db)
    run(capsys, "info", str(demo_db))
    run(
        capsys,
        "export",
        str(demo_db),
        "--log",
        "panel",
        "--search",
        "Settings",
        "--format",
        "json",
        "-o",
        str(tmp_path / "out.jsonl"),
    )
    assert snapshot(demo_db) == before


def test_demo_refuses_to_overwrite_without_force(capsys, tmp_path: Path) -> None:
    target = tmp_path / "d.db"
    assert run(capsys, "demo", str(target), "--rows", "200")[0] == 0
    code, _, err = run(capsys, "demo", str(target), "--rows", "200")
    assert code == 1 and "already exists" in err
    assert run(capsys, "demo", str(target), "--rows", "200", "--force")[0] == 0


def test_console_script_help_and_usage_exit_codes() -> None:
    """The installed entry point: --help on every command, 2 for a usage error."""
    for command in ([], ["info"], ["export"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "auditviewer.cli", *command, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 0 and "usage: auditviewer-cli" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer.cli", "export"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 2 and "required" in done.stderr
