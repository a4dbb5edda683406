"""The command line over every hostile file: a clear message or a correct read, never a traceback,
never a changed file. The cases are listed in tests/helpers/hostile.py (the window runs over them too)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from auditviewer.cli import main
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
    return [["info", str(path)],
            ["export", str(path), "--log", case.log, "--format", "csv", "-o", str(out / "rows.csv")],
            ["export", str(path), "--log", case.log, "--format", "json", "-o", str(out / "rows.jsonl")]]


def _check(case: Case, args: list[str], code: int, out: str, err: str, export_dir: Path) -> None:
    """What a user must see for one command."""
    shown = f"{args[:1]} exit {code}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert not any(word in err for word in NOISE), shown
    command = args[0]
    target = export_dir / ("rows.csv" if "csv" in args else "rows.jsonl")
    if command == "info":
        if case.rows:
            assert code == (1 if case.problems else 0), shown
            for key, n in case.rows.items():
                assert f"rows:     {n:,}" in out, shown
            for problem in case.problems.values():
                assert f"problem: " in err and problem in err, shown
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
        runs = [(args, subprocess.Popen([*prefix, sys.executable, "-m", "auditviewer.cli", *args], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8"))
                for args in _commands(case, path, out)]  # side by side: they only read the file
        for args, run in runs:
            stdout, stderr = run.communicate(timeout=300)
            _check(case, args, run.returncode, stdout, stderr, out)
        for args in _commands(case, path, out):
            code = main(args)
            stdout, stderr = capsys.readouterr()
            _check(case, args, code, stdout, stderr, out)
    assert journals.fingerprint(given) == before

