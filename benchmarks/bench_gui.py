"""The log tab on a big demo database: how soon rows are painted, and what memory does.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--rows 10000000]

Measures, in one run, each beside raw sqlite3 running the same SQL: opening
the API log tab until its visible rows are painted; Ctrl+End until the oldest
rows are painted; an indexed filter (rows painted, count known); a substring
search (rows painted, count known); and the memory after scrolling from top to
bottom in 200 steps. The database is generated on first use, never committed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication, QLineEdit

from auditviewer.data.filters import parse_condition
from auditviewer.data.source import open_source
from benchmarks.bench_data import benchmark_parser, database, raw_sql, raw_time


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PaintWatch(QObject):
    """Notes the time of each paint of the table's viewport."""

    def __init__(self) -> None:
        super().__init__()
        self.last_paint = 0.0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
        return False


def spin_until(app: QApplication, done: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the table did not get there in time")
        time.sleep(0.001)


def main() -> int:
    path = database(benchmark_parser(__doc__.splitlines()[0]).parse_args())

    QCoreApplication.setOrganizationName("auditviewer-bench")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    app = QApplication([])
    from auditviewer.qt.widgets.log_tab import LogTab

    source = open_source(path)
    engine = source.engine
    base_rss = rss_mb()

    start = time.perf_counter()
    tab = LogTab(source, "api")
    tab.resize(1400, 900)
    watch = PaintWatch()
    tab.view.viewport().installEventFilter(watch)
    tab.show()
    model, view = tab.model, tab.view

    def visible_loaded() -> bool:
        top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
        if top < 0:
            return False
        bottom = bottom if bottom >= 0 else model.rowCount() - 1
        return all(model.row_values(r) is not None for r in (top, bottom)) and watch.last_paint > 0

    loads = [0.0]
    model.pageLoaded.connect(lambda _s: loads.append(time.perf_counter()))

    def painted_after(t0: float, expect_load: bool = True) -> Callable[[], bool]:
        """Visible rows loaded (by a query after t0) and painted since."""

        def ready() -> bool:
            idle = not model.busy
            loaded = loads[-1] > t0 or not expect_load
            return idle and loaded and visible_loaded() and watch.last_paint > max(t0, loads[-1])

        return ready

    def settle(t0: float) -> float:
        spin_until(app, painted_after(t0))
        return (watch.last_paint - t0) * 1000

    query = model.query
    assert query is not None
    print(f"{path.name}: api_logs\n")
    print(f"{'step':46} {'auditviewer':>12} {'raw sqlite3':>12}")

    def line(name: str, ms: float, sql: str | None = None) -> None:
        raw = f"{raw_time(path, sql) * 1000:9.1f} ms" if sql else ""
        print(f"{name:46} {ms:9.1f} ms {raw:>12}", flush=True)

    line("open tab -> visible rows painted", settle(start), raw_sql(engine, query.statement(100)))
    spin_until(app, lambda: model.total is not None)
    line(f"  (count known: {model.total:,} rows)", (time.perf_counter() - start) * 1000)

    t0 = time.perf_counter()
    tab.scrolling.jump_to_end()
    line("Ctrl+End -> oldest rows painted", settle(t0), raw_sql(engine, query.statement(100, reverse=True)))

    t0 = time.perf_counter()
    tab.add_condition(parse_condition("status>=500"))
    ms = settle(t0)
    q = model.query
    line("indexed filter status>=500 -> rows painted", ms, raw_sql(engine, q.statement(100)))
    spin_until(app, lambda: model.total is not None)
    count_sql = raw_sql(engine, sa.select(sa.func.count()).select_from(q.table.table).where(q.where()))
    line(f"  count known ({model.total:,})", (time.perf_counter() - t0) * 1000, count_sql)

    tab.filter_bar.clear()
    spin_until(app, painted_after(time.perf_counter()))
    t0 = time.perf_counter()
    search = tab.findChild(QLineEdit, "searchBox")
    search.setText("Transactionals/12")
    search.returnPressed.emit()  # Enter: no waiting for the typing pause
    ms = settle(t0)
    q = model.query
    line("substring search -> first rows painted", ms, raw_sql(engine, q.statement(100)))
    spin_until(app, lambda: model.total is not None, timeout=600)
    count_sql = raw_sql(engine, sa.select(sa.func.count()).select_from(q.table.table).where(q.where()))
    line(f"  count known ({model.total:,})", (time.perf_counter() - t0) * 1000, count_sql)

    tab.filter_bar.clear()
    spin_until(app, lambda: model.total is not None)
    before = rss_mb()
    total = model.total or 0
    t0 = time.perf_counter()
    for step in range(201):
        tab.scrolling.scroll_to_row(total * step // 200)
        spin_until(app, painted_after(time.perf_counter(), expect_load=False))
    elapsed = time.perf_counter() - t0
    after = rss_mb()
    print(
        f"\nscrolled top to bottom in 200 steps: {elapsed:.1f} s "
        f"({elapsed / 201 * 1000:.0f} ms a step, rows painted each time)"
    )
    print(
        f"memory: {base_rss:.0f} MB before the tab, {before:.0f} MB with it open, "
        f"{after:.0f} MB after scrolling (growth {after - before:.0f} MB)"
    )
    tab.shutdown()
    source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
