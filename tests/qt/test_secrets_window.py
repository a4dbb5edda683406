"""The window never shows, logs or remembers a source's password, whatever shape its URL has."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from auditviewer import app as app_module
from auditviewer.data import secrets
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets.main_window import MainWindow
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtwait import wait_tab_ready
from tests.helpers.secret_urls import FAILING, SecretCase, opening_cases
from tests.unit.logrows import api_row


@pytest.fixture(autouse=True)
def nothing_remembered() -> Iterator[None]:
    secrets.forget_secrets()
    yield
    secrets.forget_secrets()


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The program's own log file, as ``main()`` sets it up, in a temp folder."""
    folder = tmp_path / "logs"
    folder.mkdir()
    handlers = app_module.configure_logging(folder, console=False)
    yield folder / app_module.LOG_FILE
    app_module._remove_handlers(handlers)


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[[], MainWindow]]:
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        window = app_module.create_main_window([])
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def settings_bytes(folder: Path) -> bytes:
    QSettings().sync()
    return b"\n".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def tree_texts(window: MainWindow, parent: QModelIndex | None = None) -> list[str]:
    """Every text and tooltip of the navigation tree."""
    model = window.navigation
    parent = parent if parent is not None else QModelIndex()
    found = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        found += [str(index.data() or ""), str(index.data(Qt.ItemDataRole.ToolTipRole) or "")]
        found += tree_texts(window, index)
    return found


def window_texts(window: MainWindow) -> str:
    """Everything the window shows about its sources: title, status bar, tree, tabs, recent menu."""
    texts = [window.windowTitle(), window.statusBar().currentMessage(), *tree_texts(window)]
    for i in range(window.tabs.count()):
        texts += [window.tabs.tabText(i), window.tabs.tabToolTip(i)]
    for action in window.recent_menu.actions():
        texts += [action.text(), action.toolTip(), str(action.data() or "")]
    for box in window.findChildren(QMessageBox):
        texts += [box.windowTitle(), box.text(), box.informativeText(), box.detailedText()]
    return "\n".join(texts)


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.id)
def test_a_url_that_fails_leaks_its_password_nowhere(
    qtbot, make_window, log_file, isolated_settings, case: SecretCase
) -> None:
    window = make_window()
    window.open_source(case.url)
    qtbot.waitUntil(lambda: not window.opening(), timeout=20_000)
    assert msgbox.shown, "the failure is reported"
    shown = msgbox.shown[-1]
    assert shown.title.startswith("Cannot open")
    assert not case.leaked(f"{shown.title}\n{shown.message}\n{shown.details or ''}"), shown
    boxes = window.findChildren(QMessageBox, "errorBox")
    assert boxes and all(b.textFormat() is Qt.TextFormat.PlainText for b in boxes)
    assert not case.leaked(window_texts(window))

    # The connect dialog, filled from the URL (as Open Recent does), tests it without showing the password.
    dialog = window.opener.connect_to_server(case.url)
    if dialog.host.text() and dialog.database.text():
        with qtbot.waitSignal(dialog.testFinished, timeout=20_000) as finished:
            dialog.test_connection()
        assert finished.args[0] is False
        assert not case.leaked(dialog.result_text()), dialog.result_text()
    assert not case.leaked(dialog.display_url())
    dialog.reject()

    window.close()
    assert not case.leaked(settings_bytes(isolated_settings))
    assert log_file.exists() and b"Cannot open" in log_file.read_bytes()
    assert not case.leaked(log_file.read_bytes())


@pytest.mark.server
def test_an_opened_server_source_leaks_its_password_nowhere(
    qtbot, make_window, log_file, isolated_settings, tmp_path
) -> None:
    factory = DbFactory("postgresql", tmp_path, server_url("postgresql"))
    try:
        spec = factory.create({"api": [api_row(i) for i in range(1, 31)]})
        for case in opening_cases(spec):
            window = make_window()
            with qtbot.waitSignal(window.sourceOpened, timeout=20_000):
                window.open_source(case.url)
            source = window.sources()[0]
            assert not case.leaked(source.key) and not case.leaked(source.display_name)
            tab = window.open_log(source.key, "api")
            wait_tab_ready(qtbot, tab)
            qtbot.waitUntil(lambda w=window: not w.navigation.counting(), timeout=10_000)
            window.save_current_view("errors")
            window.opener.rebuild_recent_menu()
            assert not case.leaked(window_texts(window)), case.id
            assert not case.leaked(settings_bytes(isolated_settings)), case.id
            window.close()
            assert not case.leaked(settings_bytes(isolated_settings)), case.id
            assert b"errors" in settings_bytes(isolated_settings)  # the view was kept, under the masked key
        assert b"opened postgresql://postgres@127.0.0.1" in log_file.read_bytes()
        for case in opening_cases(spec):
            assert not case.leaked(log_file.read_bytes()), case.id
    finally:
        factory.close()
