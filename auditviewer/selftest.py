"""``auditviewer --selftest``: prove that an installed copy (or a bundle) works.

Builds the main window offscreen, opens a small generated database, runs a
filtered query, renders one report page to PDF and imports every bundled
database driver. Prints one line per check and returns 0 when all pass.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: Modules a bundle must carry although nothing imports them at start-up.
BUNDLED_MODULES = (
    "psycopg",
    "psycopg_binary",
    "pymysql",
    "openpyxl",
    "ua_parser",
    "pyqtgraph",
    "PySide6.QtPrintSupport",
    "PySide6.QtSvg",
)


def _say(line: str) -> None:
    """Print when there is a console (a windowed build may have none); always log."""
    log.info("selftest: %s", line)
    if sys.stdout is not None:
        print(line, flush=True)


def run(workdir: Path | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(workdir or tempfile.mkdtemp(prefix="auditviewer-selftest-"))
    state: dict[str, object] = {}
    failures: list[str] = []

    def check(name: str, action: Callable[[], str]) -> None:
        start = time.perf_counter()
        try:
            detail = action()
        except Exception as exc:  # every failure is reported, none stops the others
            failures.append(name)
            _say(f"FAIL {name}: {type(exc).__name__}: {exc}")
            log.debug("%s", traceback.format_exc())
            return
        _say(f"ok   {name} ({(time.perf_counter() - start) * 1000:.0f} ms){': ' + detail if detail else ''}")

    def imports() -> str:
        missing = []
        for module in BUNDLED_MODULES:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                missing.append(f"{module} ({exc})")
        if missing:
            raise ImportError("missing: " + ", ".join(missing))
        return ", ".join(BUNDLED_MODULES)

    def zones() -> str:
        # The tzdata package itself, not the system's zone files: Windows has none.
        from importlib.resources import files
        from zoneinfo import ZoneInfo

        import tzdata

        for key in ("Europe/Warsaw", "America/New_York", "Asia/Tokyo"):
            if not files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes().startswith(b"TZif"):
                raise ValueError(f"{key} in the bundled tzdata is not a zone file")
            ZoneInfo(key)
        return f"tzdata {tzdata.IANA_VERSION}"

    def resources() -> str:
        from auditviewer.resources import resource_path

        return str(resource_path("icons", "app.svg"))

    def demo() -> str:
        from auditviewer.data.demo import create_demo

        state["db"] = create_demo(folder / "selftest.db", rows=2_000, overwrite=True)
        return str(state["db"])

    def window() -> str:
        from PySide6.QtCore import QCoreApplication, QSettings
        from PySide6.QtWidgets import QApplication

        # Settings of its own, so a self-test never touches the user's recent files.
        QCoreApplication.setOrganizationName("auditviewer-selftest")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "auditviewer"])
        from auditviewer.qt.widgets.log_tab import LogTab
        from auditviewer.qt.widgets.main_window import create_main_window

        win = create_main_window([str(state["db"])])
        try:
            sources = win.sources()
            if not sources:
                raise RuntimeError("the window did not open the database")
            tab = win.open_log(sources[0].key, "api")
            if not isinstance(tab, LogTab):
                raise RuntimeError("the window did not open the API log")
            deadline = time.monotonic() + 30
            while tab.model.total is None or tab.model.row_values(0) is None:
                app.processEvents()
                time.sleep(0.005)
                if time.monotonic() > deadline:
                    raise TimeoutError("the API log did not load within 30 s")
            return f"{tab.model.total:,} API rows shown"
        finally:
            win.close()
            app.processEvents()

    def query() -> str:
        from auditviewer.data.filters import Filter, parse_condition
        from auditviewer.data.query import LogQuery
        from auditviewer.data.source import open_source

        with open_source(state["db"]) as source:  # type: ignore[arg-type]
            q = LogQuery(source.log("api"), Filter(conditions=(parse_condition("status>=500"),)))
            n = q.count()
            state["rows"] = q.first(5).rows
            if not n or not all(row[q.columns.index("status")] >= 500 for row in state["rows"]):  # type: ignore
                raise AssertionError("the filtered query returned the wrong rows")
            return f"{n} rows with status>=500"

    def pdf() -> str:
        from auditviewer.data.filters import Filter, parse_condition
        from auditviewer.data.query import LogQuery
        from auditviewer.data.report import ReportOptions, build_report
        from auditviewer.data.source import open_source
        from auditviewer.qt.report.painter import ensure_gui_app, write_pdf

        ensure_gui_app()
        target = folder / "selftest.pdf"
        with open_source(state["db"]) as source:  # type: ignore[arg-type]
            q = LogQuery(source.log("api"), Filter(conditions=(parse_condition("status>=500"),)))
            report = build_report(q, ReportOptions(title="Self-test"))
            pages = write_pdf(report, target)
        data = target.read_bytes()
        if not data.startswith(b"%PDF") or pages < 1:
            raise AssertionError("the PDF was not written")
        return f"{pages} page(s), {len(data):,} bytes"

    steps = (
        ("bundled modules import", imports, False),
        ("time zones found", zones, False),
        ("resources found", resources, False),
        ("demo database created", demo, False),
        ("filtered query", query, True),
        ("main window opens the database", window, True),
        ("report page rendered to PDF", pdf, True),
    )
    for name, action, needs_db in steps:
        if needs_db and "db" not in state:
            failures.append(name)
            _say(f"FAIL {name}: skipped, the demo database could not be made")
            continue
        check(name, action)
    if failures:
        _say(f"selftest FAILED: {', '.join(failures)} (files kept in {folder})")
        return 1
    if workdir is None:
        shutil.rmtree(folder, ignore_errors=True)
    _say("selftest passed")
    return 0
