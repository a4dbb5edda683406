"""The command line over every hostile file: a clear message or a correct read, never a traceback,
never a changed file. The cases are listed in tests/helpers/hostile.py (the window runs over them too)."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

from auditviewer.cli import main
from auditviewer.data.filters import Sort
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from tests.helpers import journals
from tests.helpers.hostile import CASE_IDS, CASES, Case

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("Traceback", "Exception ignored", "Error closing cursor", "During handling")


@pytest.fixture
def place() -> Iterator[tuple[Path, Path]]:
    """A folder for the case's file and one for the exports, both reachable by an ordinary user."""
    with journals.shared_folder() as shared:
        given, out = shared / "given", shared / "out"
        given.mkdir(mode=0o755)
        out.mkdir()
        out.chmod(0o777)
        yield given, out


def _commands(case: Case, path: Path, out: Path) -> list[list[str]]:
    return [
        ["info", str(path)],
        ["export", str(path), "--log", case.log, "--format", "csv", "-o", str(out / "rows.csv")],
        ["export", str(path), "--log", case.log, "--format", "json", "-o", str(out / "rows.jsonl")],
    ]


def _check(case: Case, args: list[str], code: int, out: str, err: str, export_dir: Path) -> None:
    """What a user must see for one command."""
    shown = f"{args[:1]} exit {code}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert not any(word in err for word in NOISE), shown
    command = args[0]
    target = export_dir / ("rows.csv" if "csv" in args else "rows.jsonl")
    if command == "info":
        if case.rows:
            assert code == (1 if case.problems else 0), shown
            for _key, n in case.rows.items():
                assert f"rows:     {n:,}" in out, shown
            for problem in case.problems.values():
                assert "problem: " in err and problem in err, shown
            if case.snapshot:
                assert "note: " in out and "read from a private copy" in out, shown
        elif case.fails_when_read:  # counting may or may not reach the damage: either right counts or the message
            assert code in (0, 1), shown
            if code:
                assert err.startswith("auditviewer-cli: ") and _matches(case.refused, err), shown
        else:
            assert code == 1 and err.startswith("auditviewer-cli: ") and _matches(case.refused, err), shown
        return
    if case.log in case.rows:
        n = case.rows[case.log]
        assert code == 0, shown
        assert f"wrote {n:,} rows to {target}" in err, shown
        assert len(_rows_in(target)) == n, shown
        cells = _cells_in(target)
        for value in case.exported:
            assert any(value in cell for cell in cells), (value, shown)
        target.unlink()
    else:
        assert code == 1, shown
        assert _matches(case.refused, err), shown
        assert [p.name for p in export_dir.iterdir()] == [], "a failed export left a file behind"


def _matches(pattern: str | None, text: str) -> bool:
    import re

    return pattern is not None and re.search(pattern, text) is not None


def _rows_in(target: Path) -> list[list[str]]:
    """The data rows of an export, each as its cells' text."""
    if target.suffix == ".csv":
        csv.field_size_limit(sys.maxsize)  # one cell is 2 MB: Python's reader needs telling
        with target.open(encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh))[1:]
    lines = target.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    return [[str(v) for v in json.loads(line).values()] for line in lines[:-1]]


def _cells_in(target: Path) -> list[str]:
    return [cell for row in _rows_in(target) for cell in row]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_command_line_reads_right_or_says_why(case: Case, place: tuple[Path, Path], capsys) -> None:
    given, out = place
    path = case.build(given)
    before = journals.fingerprint(given)
    prefix: list[str] = []
    with ExitStack() as stack:
        if case.read_only_folder:
            stack.enter_context(journals.read_only_folder(given))
            prefix = journals.unprivileged_command() or []  # as root, also run as an ordinary user if we can
        runs = [
            (
                args,
                subprocess.Popen(
                    [*prefix, sys.executable, "-m", "auditviewer.cli", *args],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    encoding="utf-8",
                ),
            )
            for args in _commands(case, path, out)
        ]  # side by side: they only read the file
        for args, run in runs:
            stdout, stderr = run.communicate(timeout=300)
            _check(case, args, run.returncode, stdout, stderr, out)
        for args in _commands(case, path, out):
            code = main(args)
            stdout, stderr = capsys.readouterr()
            _check(case, args, code, stdout, stderr, out)
    assert journals.fingerprint(given) == before


# -- found by the suite -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sort",
    [Sort("date", True), Sort("date", False), Sort("id", False), Sort("id", True), Sort("url", False)],
    ids=lambda s: s.text(),
)
def test_paging_a_table_without_a_primary_key_meets_every_row_once(tmp_path: Path, sort: Sort) -> None:
    """Ids repeat (across page boundaries) and some are NULL: the window pages by keyset, and must still
    show each row once, forwards, backwards and from the middle."""
    path = tmp_path / "nokey.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE api_logs (id INTEGER, date TEXT, url TEXT, method TEXT, status INTEGER, remote_ip TEXT)"
        )
        conn.executemany(
            "INSERT INTO api_logs VALUES (?, ?, ?, 'GET', 200, '10.0.0.1')",
            [(None if i % 7 == 0 else i // 10, f"2025-01-01 00:{i // 250:02d}:00", f"/u/{i:04d}") for i in range(1000)],
        )
    with open_source(path) as source:
        assert source.log("api").tiebreak == "rowid"
        query = LogQuery(source.log("api"), sort=sort, columns=["url"])
        forward = query.first(90)
        urls, keys = [r[0] for r in forward.rows], list(forward.keys)
        while (page := query.after(keys[-1], 90)).rows:
            urls += [r[0] for r in page.rows]
            keys += page.keys
        assert sorted(urls) == [f"/u/{i:04d}" for i in range(1000)]
        backward = query.last(90)
        back = [r[0] for r in backward.rows]
        first_key = backward.keys[0]
        while (page := query.before(first_key, 90)).rows:
            back = [r[0] for r in page.rows] + back
            first_key = page.keys[0]
        assert back == urls
        assert [r[0] for r in query.at(455, 30, total=1000).rows] == urls[455:485]
