"""Screenshots of the real window for the README, on a generated demo database.

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py

Writes docs/main-window.png, docs/login-details.png, docs/all-activity.png and
docs/overview.png.
Settings go to a temporary folder, so the user's own are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

DOCS = ROOT / "docs"


def wait(app: QApplication, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        app.processEvents()
        time.sleep(0.005)
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")


def settle(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="auditviewer-shots-"))
    QCoreApplication.setOrganizationName("auditviewer-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    app = QApplication([])
    from auditviewer.app import create_main_window
    from auditviewer.data.demo import create_demo
    from auditviewer.data.filters import parse_condition

    db = folder / "acme-logs-2025.db"
    create_demo(db, rows=200_000)
    window = create_main_window([str(db)])
    window.resize(1500, 860)
    window.show()
    source = window.sources()[0]
    tree_model = window.findChild(object, "navigationTree").model()
    wait(app, lambda: not tree_model.counting(source.key))

    tab = window.open_log(source.key, "api")
    wait(app, lambda: tab.model.total is not None and tab.model.row_values(0) is not None)
    tab.add_condition(parse_condition("status>=400"))
    wait(app, lambda: tab.model.total is not None and tab.model.row_values(0) is not None)
    tab.view.selectRow(2)
    settle(app)
    window.grab().save(str(DOCS / "main-window.png"))

    tab = window.open_log(source.key, "logins")
    wait(app, lambda: tab.model.total is not None and tab.model.row_values(0) is not None)
    tab.add_condition(parse_condition("login=failed"))
    wait(app, lambda: tab.model.total is not None and tab.model.row_values(0) is not None)
    tab.view.selectRow(0)
    wait(app, lambda: "Failures in the 24 hours before" in tab.detail.text())
    settle(app)
    window.grab().save(str(DOCS / "login-details.png"))

    email = tab.model.row_dict(0)["email"]
    activity = window.open_activity(source.key, "email", email)
    wait(app, lambda: activity.model.total is not None and activity.model.row_values(0) is not None)
    activity.view.selectRow(0)
    settle(app)
    window.grab().save(str(DOCS / "all-activity.png"))

    overview = window.open_overview(source.key)
    done: list[bool] = []
    overview.finished.connect(lambda: done.append(True))
    wait(app, lambda: bool(done), timeout=180)
    settle(app, 0.5)
    window.grab().save(str(DOCS / "overview.png"))
    window.close()
    print("wrote", ", ".join(p.name for p in sorted(DOCS.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
