"""Qt test hygiene: settings and user folders in a temp place, no thread left running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, QThreadPool

from auditviewer import APP_NAME, ORG_NAME
from auditviewer.qt.widgets import msgbox

#: Qt messages that are the test platform's, not the program's: the offscreen
#: platform cannot resize a shown window to its size hints.
PLATFORM_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(PLATFORM_NOISE))


@pytest.fixture(autouse=True)
def isolated_settings(
    qapp, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets empty settings and data folders of its own; the user's are never touched."""
    folder = tmp_path_factory.mktemp("settings")
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # QStandardPaths' test mode lives under $HOME/.qttest
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings().clear()
    msgbox.shown.clear()
    yield folder
    msgbox.shown.clear()


@pytest.fixture
def settings_text(isolated_settings: Path):
    """Everything written to the settings file, as text (after a sync)."""

    def read() -> str:
        QSettings().sync()
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace") for p in isolated_settings.rglob("*") if p.is_file()
        )

    return read


@pytest.fixture(autouse=True)
def no_leftover_threads(qtbot) -> Iterator[None]:
    """Fail a test that leaves a worker thread (or a Qt pool job) running after its widgets closed."""
    before = set(threading.enumerate())
    yield

    def extra() -> list[threading.Thread]:
        return [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
        ]

    def settled() -> bool:
        return not extra() and QThreadPool.globalInstance().activeThreadCount() == 0

    try:
        qtbot.waitUntil(settled, timeout=3000)
    except qtbot.TimeoutError:
        names = ", ".join(t.name for t in extra()) or "a QThreadPool job"
        pytest.fail(f"the test left threads running: {names}", pytrace=False)


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo database shared by the tests that drive the whole window (read-only)."""
    from auditviewer.data.demo import create_demo

    path = tmp_path_factory.mktemp("demo") / "acme.db"
    create_demo(path, rows=4_000, seed=11)
    return path


@pytest.fixture
def window(qtbot, demo_path: Path) -> Iterator:
    """The real main window on the demo database, shown."""
    from auditviewer.app import create_main_window

    win = create_main_window([str(demo_path)])
    qtbot.addWidget(win)
    win.resize(1400, 850)
    win.show()
    yield win
    win.close()
