"""auditviewer-cli insights: the overview's findings in a terminal or as JSON, with the rows' filters."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from auditviewer.cli import main
from tests.helpers import planted
from tests.helpers.dbfactory import DbFactory


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return DbFactory("sqlite", tmp_path_factory.mktemp("cli-insights")).create(
        planted.tables(), indexes=planted.INDEXES
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_lists_findings_most_severe_first_with_the_rows_to_export(capsys, planted_db: str, tmp_path: Path) -> None:
    code, out, err = run(capsys, "insights", planted_db)
    assert code == 0 and err == ""
    assert out.index("[!!] Failed-login bursts") < out.index("[! ] Logins outside business hours")
    assert f"IP: {planted.SPRAYER}" in out and "dora@example.com" in out and "Brazil" in out
    # The "rows:" line is what export takes: run it and get the failed logins.
    rows_line = next(line for line in out.splitlines() if "rows: --log logins" in line)
    target = tmp_path / "rows.csv"
    code, _, _ = run(
        capsys,
        "export",
        planted_db,
        *shlex.split(rows_line.split("rows: ", 1)[1]),
        "--format",
        "csv",
        "-o",
        str(target),
    )
    assert code == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) - 1 == sum(1 for r in planted.logins() if r["login"] == "failed")


def test_json_and_adjusted_rules(capsys, planted_db: str) -> None:
    code, out, _ = run(
        capsys,
        "insights",
        planted_db,
        "--json",
        "--burst-minutes",
        "60",
        "--business-hours",
        "8-17",
        "--tz",
        "Europe/Warsaw",
    )
    assert code == 0
    data = json.loads(out)
    assert data["params"]["burst_minutes"] == 60 and data["params"]["business_hours"] == [8, 17]
    bursts = next(f for f in data["findings"] if f["kind"] == "failed_login_bursts")
    assert "E-mail: ben@example.com" in [i["cells"][0] for i in bursts["items"]]
    assert bursts["items"][0]["rows"]["log"] == "logins"


def test_a_period(capsys, planted_db: str) -> None:
    code, out, _ = run(capsys, "insights", planted_db, "--from", "2025-01-16", "--to", "2025-01-16")
    assert code == 0
    assert "from 2025-01-16 00:00:00 to 2025-01-17 00:00:00 UTC" in out
    assert "[ok] Failed-login bursts" in out and "Brazil" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--business-hours", "8to17"], "--business-hours takes two hours"),
        (["--business-hours", "19-7"], "business hours must be"),
        (["--burst-failures", "1"], "at least 2 failed logins"),
        (["--last", "3x"], "is not a duration"),
        (["--tz", "Mars/Base"], "unknown time zone"),
    ],
)
def test_bad_arguments_exit_2(capsys, planted_db: str, args: list[str], words: str) -> None:
    code, _, err = run(capsys, "insights", planted_db, *args)
    assert code == 2 and words in err


def test_not_a_database_exits_1(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("hello", encoding="utf-8")
    code, _, err = run(capsys, "insights", str(bad))
    assert code == 1 and "notes.db" in err
