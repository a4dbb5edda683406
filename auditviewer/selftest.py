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
from dataclasses import dataclass
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


@dataclass
class _State:
    """What the checks share: the folder they work in and the demo database, once made."""

    folder: Path
    db: Path | None = None

    def database(self) -> Path:
        if self.db is None:
            raise RuntimeError("the demo database was not made")
        return self.db


def run(workdir: Path | None = None) -> int:
    """Run every check in turn (a failure stops none of the others); 0 when all pass."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    state = _State(Path(workdir or tempfile.mkdtemp(prefix="auditviewer-selftest-")))
    failures: list[str] = []
    for name, action, needs_db in CHECKS:
        if needs_db and state.db is None:
            failures.append(name)
            _say(f"FAIL {name}: skipped, the demo database could not be made")
        elif not _check(name, action, state):
            failures.append(name)
    if failures:
        _say(f"selftest FAILED: {', '.join(failures)} (files kept in {state.folder})")
        return 1
    if workdir is None:
        shutil.rmtree(state.folder, ignore_errors=True)
    _say("selftest passed")
    return 0


def _check(name: str, action: Callable[[_State], str], state: _State) -> bool:
    """Run one check and say how it went, with how long it took."""
    start = time.perf_counter()
    try:
        detail = action(state)
    except Exception as exc:  # every failure is reported, none stops the others
        _say(f"FAIL {name}: {type(exc).__name__}: {exc}")
        log.debug("%s", traceback.format_exc())
        return False
    _say(f"ok   {name} ({(time.perf_counter() - start) * 1000:.0f} ms){': ' + detail if detail else ''}")
    return True


# -- the checks ------------------------------------------------------------------------------------


def _imports(_state: _State) -> str:
    missing = []
    for module in BUNDLED_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc})")
    if missing:
        raise ImportError("missing: " + ", ".join(missing))
    return ", ".join(BUNDLED_MODULES)


def _zones(_state: _State) -> str:
    # The tzdata package itself, not the system's zone files: Windows has none.
    from importlib.resources import files
    from zoneinfo import ZoneInfo

    import tzdata

    for key in ("Europe/Warsaw", "America/New_York", "Asia/Tokyo"):
        if not files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes().startswith(b"TZif"):
            raise ValueError(f"{key} in the bundled tzdata is not a zone file")
        ZoneInfo(key)
    return f"tzdata {tzdata.IANA_VERSION}"


def _resources(_state: _State) -> str:
    from auditviewer.resources import resource_path

    return str(resource_path("icons", "app.svg"))


def _demo(state: _State) -> str:
    from auditviewer.data.demo import create_demo

    state.db = create_demo(state.folder / "selftest.db", rows=2_000, overwrite=True)
    return str(state.db)


def _query(state: _State) -> str:
    from auditviewer.data.filters import Filter, parse_condition
    from auditviewer.data.query import LogQuery
    from auditviewer.data.source import open_source

    with open_source(state.database()) as source:
        q = LogQuery(source.log("api"), Filter(conditions=(parse_condition("status>=500"),)))
        n = q.count()
        rows = q.first(5).rows
        status = q.columns.index("status")
        if not n or not all(row[status] >= 500 for row in rows):
            raise AssertionError("the filtered query returned the wrong rows")
        return f"{n} rows with status>=500"


def _window(state: _State) -> str:
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    # Settings of its own, so a self-test never touches the user's recent files.
    QCoreApplication.setOrganizationName("auditviewer-selftest")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(state.folder / "settings"))
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "auditviewer"])
    from auditviewer.qt.widgets.log_tab import LogTab
    from auditviewer.qt.widgets.main_window import create_main_window

    win = create_main_window([str(state.database())])
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


def _pdf(state: _State) -> str:
    from auditviewer.data.filters import Filter, parse_condition
    from auditviewer.data.query import LogQuery
    from auditviewer.data.report import ReportOptions, build_report
    from auditviewer.data.source import open_source
    from auditviewer.qt.report.painter import ensure_gui_app, write_pdf

    ensure_gui_app()
    target = state.folder / "selftest.pdf"
    with open_source(state.database()) as source:
        q = LogQuery(source.log("api"), Filter(conditions=(parse_condition("status>=500"),)))
        report = build_report(q, ReportOptions(title="Self-test"))
        pages = write_pdf(report, target)
    data = target.read_bytes()
    if not data.startswith(b"%PDF") or pages < 1:
        raise AssertionError("the PDF was not written")
    return f"{pages} page(s), {len(data):,} bytes"


#: (what is checked, how, whether it needs the demo database), in the order they run.
CHECKS: tuple[tuple[str, Callable[[_State], str], bool], ...] = (
    ("bundled modules import", _imports, False),
    ("time zones found", _zones, False),
    ("resources found", _resources, False),
    ("demo database created", _demo, False),
    ("filtered query", _query, True),
    ("main window opens the database", _window, True),
    ("report page rendered to PDF", _pdf, True),
)
