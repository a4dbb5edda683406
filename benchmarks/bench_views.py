"""Timings of importing a saved-views file: File > Import saved views, without the dialogs.

    python benchmarks/bench_views.py [COUNT ...]        (default: 1000 10000 150000)

Each count gets a views file of that many distinct views and empty settings of
its own (a temporary folder). "import" is Settings.import_views: read, check
every view, merge with the source's views, write the settings once. "read back"
is Settings.saved_views reading them from the settings afresh, as the first
listing in the navigation tree does (later ones are remembered). Counts
past the import cap (auditviewer.data.views.MAX_VIEWS, and the file-size cap)
are measured with the caps lifted, to show how the work grows; the window
itself refuses such a file at once.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QSettings

from auditviewer.data import views as views_module
from auditviewer.qt.models import settings as settings_module
from auditviewer.qt.models.settings import Settings

SOURCE = "/data/exports/acme.db"


def views_file(path: Path, count: int) -> int:
    views = [
        {
            "name": f"View {i}",
            "log": ("api", "panel", "sms", "logins")[i % 4],
            "conditions": [{"text": f"id>={i}", "enabled": True}, "remote_ip~10.0."],
            "search": "",
            "time_preset": "7d",
            "sort": "date:desc",
            "columns": ["id", "date"],
            "business_unit": i % 5 or None,
        }
        for i in range(count)
    ]
    path.write_text(json.dumps({"auditviewer_views": 1, "views": views}), encoding="utf-8")
    return path.stat().st_size


def main(counts: list[int]) -> int:
    QCoreApplication.setOrganizationName("auditviewer-bench")
    QCoreApplication.setApplicationName("bench-views")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for module in (views_module, settings_module):  # caps lifted, so growth past them can be seen
        for name in ("MAX_VIEWS", "MAX_FILE_BYTES"):
            if hasattr(module, name):
                setattr(module, name, 10**9)
    print(f"{'views':>8} {'file MB':>8} {'import s':>9} {'read back s':>12}")
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
            settings = Settings(QSettings())
            path = Path(folder) / "views.json"
            size = views_file(path, count)
            start = time.perf_counter()
            added = settings.import_views(SOURCE, path)
            imported = time.perf_counter() - start
            getattr(settings_module, "_views_read", {}).clear()  # read from the settings, not remembered
            start = time.perf_counter()
            stored = settings.saved_views(SOURCE)
            read_back = time.perf_counter() - start
            assert len(added) == len(stored) == count, (len(added), len(stored))
            print(f"{count:8,} {size / 1e6:8.1f} {imported:9.2f} {read_back:12.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [1000, 10_000, 150_000]))
