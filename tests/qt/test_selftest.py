"""The self-test an installed copy or a bundle runs, and files handed over by the desktop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QFileOpenEvent

from auditviewer.app import FileOpenEvents

ROOT = Path(__file__).resolve().parents[2]


def test_selftest_passes_and_says_what_it_checked(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--selftest"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in (
        "bundled modules import",
        "time zones found",
        "demo database created",
        "filtered query",
        "main window opens the database",
        "report page rendered to PDF",
    ):
        assert f"ok   {step}" in done.stdout
    assert done.stdout.strip().endswith("selftest passed")


def test_selftest_reports_a_failure_and_exits_1(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    probe = "import sys, auditviewer.selftest as s; s.BUNDLED_MODULES = ('no_such_driver',); sys.exit(s.run())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert done.returncode == 1
    assert "FAIL bundled modules import" in done.stdout and "no_such_driver" in done.stdout
    assert "selftest FAILED: bundled modules import" in done.stdout


class _Window:
    def __init__(self) -> None:
        self.opened: list[str] = []

    def open_source(self, spec: str) -> None:
        self.opened.append(spec)


def test_files_opened_from_the_desktop_reach_the_window(qapp, tmp_path: Path) -> None:
    """macOS Finder sends QFileOpenEvents; ones that come before the window are kept for it."""
    events = FileOpenEvents()
    early, late = str(tmp_path / "early.db"), str(tmp_path / "late.db")
    assert events.eventFilter(qapp, QFileOpenEvent(early))
    window = _Window()
    events.deliver_to(window)
    assert window.opened == [early]
    assert events.eventFilter(qapp, QFileOpenEvent(late))
    assert window.opened == [early, late]


def test_a_windowed_build_without_a_console_logs_to_a_file(tmp_path: Path, monkeypatch) -> None:
    """pythonw / a windowed bundle has sys.stderr = None: logging goes to the file and never crashes."""
    import logging

    from auditviewer.app import LOG_FILE, configure_logging

    monkeypatch.setattr(sys, "stderr", None)
    handlers = configure_logging(tmp_path)
    try:
        assert [type(h).__name__ for h in handlers] == ["RotatingFileHandler"]
        logging.getLogger("auditviewer.test").warning("written without a console")
        for handler in handlers:
            handler.flush()
        assert "written without a console" in (tmp_path / LOG_FILE).read_text(encoding="utf-8")
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
