"""``auditviewer-cli export -o``: what it refuses before running, how it ends when stopped or cut off.

The databases are made with plain sqlite3, as a customer's export would be.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from auditviewer.cli import main

ROOT = Path(__file__).resolve().parents[2]
BIG_ROWS = 300_000  # enough for an export to be under way for a while, quick to build


def make_api_db(path: Path, rows: int, *, index: bool = True) -> Path:
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE api_logs(id INTEGER PRIMARY KEY, business_unit_id INTEGER, date TEXT NOT NULL, "
            "url TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, remote_ip TEXT NOT NULL)"
        )
        con.executemany(
            "INSERT INTO api_logs VALUES (?, NULL, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
                    ('=HYPERLINK("http://evil.example")' if i == 1 else f"/v2/api/items/{i * 7919 % 100_003}"),
                    ("GET", "POST", "PUT")[i % 3],
                    (-1 if i == 2 else (200, 404, 500)[i % 3]),
                    f"10.0.{i % 256}.{i % 7}",
                )
                for i in range(1, rows + 1)
            ),
        )
        if index:
            con.execute("CREATE INDEX idx_api_date ON api_logs(date)")
    con.close()
    return path


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_api_db(tmp_path_factory.mktemp("small") / "logs.db", 200)


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_api_db(tmp_path_factory.mktemp("big") / "big.db", BIG_ROWS)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "auditviewer.cli", *map(str, args)]


# -- refused before anything runs ---------------------------------------------------------------------------


def test_exporting_over_the_database_being_read_is_refused(capsys, tmp_path: Path) -> None:
    """The issue's reproduction: ``export s.db --log api --format csv -o s.db`` turned the database into a CSV."""
    database = make_api_db(tmp_path / "s.db", 50)
    os.link(database, tmp_path / "same-file.csv")
    before = digest(database)
    for output in ("s.db", "./s.db", "same-file.csv", "s.db-journal", "s.db-wal"):
        code, out, err = run(
            capsys, "export", str(database), "--log", "api", "--format", "csv", "-o", str(tmp_path / output)
        )
        assert code == 2, output
        assert "the database being read" in err or "file of the database being read" in err, err
        assert out == "" and "wrote" not in err
    assert digest(database) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db", "same-file.csv"]


def test_a_read_only_output_is_refused_not_replaced(capsys, small_db: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.csv"
    kept.write_text("an export someone signed\n", encoding="utf-8")
    kept.chmod(0o444)
    code, _, err = run(capsys, "export", str(small_db), "--log", "api", "--format", "csv", "-o", str(kept))
    assert code == 2 and "read-only" in err and str(kept) in err
    assert kept.read_text(encoding="utf-8") == "an export someone signed\n"
    assert sorted(os.listdir(tmp_path)) == ["kept.csv"]


@pytest.mark.parametrize("name, words", [("folder", "is a folder"), ("no-such-folder/out.csv", "does not exist")])
def test_an_output_that_cannot_be_written_is_refused_before_the_export_runs(
    capsys, small_db: Path, tmp_path: Path, name: str, words: str
) -> None:
    (tmp_path / "folder").mkdir()
    asked = tmp_path / name
    code, _, err = run(capsys, "export", str(small_db), "--log", "api", "--format", "xlsx", "-o", str(asked))
    assert code == 2 and words in err and str(asked) in err
    assert ".part" not in err and "wrote" not in err


# -- Excel safety -------------------------------------------------------------------------------------------------


def test_excel_safe_marks_formulas_and_leaves_numbers(capsys, small_db: Path) -> None:
    args = (
        "export",
        str(small_db),
        "--log",
        "api",
        "--format",
        "csv",
        "--sort",
        "id:asc",
        "--limit",
        "2",
        "--columns",
        "id,url,status",
        "-o",
        "-",
    )
    code, plain, _ = run(capsys, *args)
    assert code == 0 and plain.splitlines()[1] == '1,"=HYPERLINK(""http://evil.example"")",404'
    code, safe, _ = run(capsys, *args, "--excel-safe")
    assert code == 0 and safe.splitlines()[1] == '1,"\'=HYPERLINK(""http://evil.example"")",404'
    assert safe.splitlines()[2].endswith(",-1")  # a number: not text, never marked
    code, _, err = run(capsys, "export", str(small_db), "--log", "api", "--format", "json", "--excel-safe", "-o", "-")
    assert code == 2 and "CSV only" in err


# -- written through, ended early -------------------------------------------------------------------------------


def test_a_descriptor_output_is_written_through(small_db: Path) -> None:
    """``-o /dev/fd/1``: into the process's stdout (a pipe here), nothing created beside it."""
    if not Path("/dev/fd").is_dir():
        pytest.skip("this system has no /dev/fd")
    done = subprocess.run(
        cli("export", small_db, "--log", "api", "--format", "csv", "-o", "/dev/fd/1"),
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 201


def test_a_reader_that_stops_early_is_a_normal_end(big_db: Path) -> None:
    """``-o - | head -1``: the pipe closed by the reader ends the export quietly, exit 0."""
    proc = subprocess.Popen(
        cli("export", big_db, "--log", "api", "--format", "csv", "-o", "-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as head does after its line
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0
    assert first.startswith(b"id,") and err == b""


def _wait_for(found: Callable[[], list[Path]], proc: subprocess.Popen) -> list[Path]:
    while proc.poll() is None:
        files = found()
        if files:
            return files
        time.sleep(0.005)
    pytest.fail(f"the export ended (exit {proc.returncode}) before its temporary file was seen")


SIGNALS = [
    pytest.param(signal.SIGTERM, [], id="SIGTERM while rows stream"),
    pytest.param(
        getattr(signal, "SIGHUP", None),
        ["--sort", "url:asc"],
        id="SIGHUP while the rows sort",
        marks=pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this system"),
    ),
]


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and SIGHUP are sent to processes on POSIX systems only")
@pytest.mark.parametrize("signum, extra", SIGNALS)
def test_a_termination_signal_removes_the_half_written_file(
    big_db: Path, tmp_path: Path, signum: int, extra: list[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        cli("export", big_db, "--log", "api", "--format", "csv", *extra, "-o", out / "all.csv"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        _wait_for(lambda: [p for p in out.iterdir() if p.name.endswith(".part")], proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err
    assert "interrupted" in err and "Traceback" not in err
    assert os.listdir(out) == []
