"""Text from the data reaches Qt as text: markup in a value is shown, never rendered or followed.

Qt takes a tooltip (or a label left in AutoText) for HTML when ``Qt.mightBeRichText``
says so; ``<img src="a FIFO">`` would then make the window open that file, and
hang. Nothing here hovers: each test checks what is handed to Qt, rendering it
the way Qt would (a QTextDocument whose resource loading is recorded, never
done), so the checks can neither hang nor depend on the mouse.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6 import QtGui
from PySide6.QtCore import QModelIndex, QPointF, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QMessageBox, QWidget

from auditviewer import APP_NAME
from auditviewer.data.filters import describe_condition
from auditviewer.data.source import Source, open_source
from auditviewer.qt.models.log_model import MAX_CELL_CHARS
from auditviewer.qt.models.navigation import NodeKind
from auditviewer.qt.widgets import charts as charts_module
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets.detail_pane import DetailPane
from auditviewer.qt.widgets.log_tab import LogTab
from auditviewer.qt.widgets.main_window import MainWindow
from auditviewer.qt.widgets.overview import OverviewTab
from tests.helpers.qtfind import child, known
from tests.helpers.qtwait import wait_tab_ready

EXTRA_COLUMN = "<i>note</i>"
UNIT_NAME = "<b>Unit</b> & <u>co</u>"
FILE_NAME = "<b>logs & co [*] <img src=x>.db"  # no "/" in a file name: no closing tags


def hostile_values(fifo: Path) -> list[str]:
    return [
        "<b>bold</b> Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        f'<img src="{fifo}"> Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
        '<a href="https://evil.example/phish">click here</a> to continue reading',
        "<b>x</b> &amp; y: the five characters &amp; must stay as they are",
        "&lt;script&gt;alert(1)&lt;/script&gt; was escaped once already",
        "<b>" + "A" * 5000 + "</b>",
        "مرحبا \u202egnp.exe\u202c 😀👩‍👩‍👧 <i>mixed</i> right-to-left text and emoji",
        "first line is plain\n<b>second</b> line has markup, and more text",
        "<b>b</b>",
        "&amp;",
    ]


class _RecordingDocument(QtGui.QTextDocument):
    """Renders as Qt's tooltips and labels do; records the files it is asked for instead of reading them."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def loadResource(self, kind: int, url) -> None:
        self.asked.append(url.toString())
        return None


def as_shown(text: str) -> str:
    """What a user reads in a tooltip or an AutoText label given ``text``; fails if it would load a file."""
    doc = _RecordingDocument()
    if QtGui.Qt.mightBeRichText(text):
        doc.setHtml(text)
    else:
        doc.setPlainText(text)
    doc.size()  # lays the text out: this is when images are fetched
    assert not doc.asked, f"Qt would read {doc.asked} to show {text[:80]!r}"
    return doc.toPlainText()


def same_text(shown: str, text: str) -> bool:
    """Whether a tooltip shows ``text``: long lines may be broken, no other character may differ."""
    return shown.replace("\n", "") == text.replace("\n", "")


def as_button_shows(text: str) -> str:
    """A button's or a tab's text as shown: ``&&`` is an ampersand, a single ``&`` marks a shortcut."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def db_path(tmp_path: Path, fifo: Path) -> Path:
    """A database a stranger made: plain sqlite3, hostile text in every text column and in names."""
    values = hostile_values(fifo)
    path = tmp_path / FILE_NAME
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE business_units (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO business_units VALUES (1, ?)", (UNIT_NAME,))
        conn.execute(f'''CREATE TABLE panel_logs (id INTEGER PRIMARY KEY, business_unit_id INTEGER, date TEXT,
                         url TEXT, method TEXT, email TEXT, remote_ip TEXT, api_method_status TEXT,
                         user_agent TEXT, "{EXTRA_COLUMN}" TEXT)''')
        conn.execute("CREATE INDEX idx_panel_date ON panel_logs (date)")
        conn.executemany(
            "INSERT INTO panel_logs VALUES (?, 1, ?, ?, 'GET', ?, '10.0.0.1', ?, ?, ?)",
            [(i, f"2025-06-01 10:{i:02d}:00", v, v, v, v, v) for i, v in enumerate(values, start=1)],
        )
        conn.execute("""CREATE TABLE sms_logs (id INTEGER PRIMARY KEY, business_unit_id INTEGER, date TEXT,
                        message_id TEXT, campaign_description TEXT, subscriber_phone TEXT, gateway_name TEXT,
                        error TEXT)""")
        conn.execute("CREATE INDEX idx_sms_date ON sms_logs (date)")
        rows = []
        for i in range(200):
            value = values[i % 5]  # the first five: markup, the FIFO, a link, &amp;, escaped markup
            rows.append(
                (
                    i + 1,
                    f"2025-06-01 {8 + i // 60:02d}:{i % 60:02d}:00",
                    f"m{i}",
                    value,
                    "+48123456789",
                    value,
                    value if i % 3 == 0 else None,
                )
            )
        conn.executemany("INSERT INTO sms_logs VALUES (?, 1, ?, ?, ?, ?, ?, ?)", rows)
    return path


@pytest.fixture
def source(db_path: Path) -> Iterator[Source]:
    with open_source(db_path) as src:
        yield src


@pytest.fixture
def panel_tab(qtbot, source: Source) -> Iterator[LogTab]:
    tab = LogTab(source, "panel")
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    wait_tab_ready(qtbot, tab)
    yield tab
    tab.shutdown()


def test_table_cells_and_headers_show_the_data_as_text(qtbot, panel_tab: LogTab, fifo: Path) -> None:
    model = panel_tab.model
    assert model.total == len(hostile_values(fifo))
    tooltips = 0
    for row in range(model.rowCount()):
        model.data(model.index(row, 0))
        qtbot.waitUntil(lambda r=row: model.row_values(r) is not None, timeout=10_000)
        for column in range(model.columnCount()):
            index = model.index(row, column)
            text = model.display_text(known(model.row_values(row))[column])
            shown = index.data(Qt.ItemDataRole.DisplayRole)
            assert shown == (text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…")
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            if len(text) > 40:
                tooltips += 1
                assert same_text(as_shown(tip), text[:2000]), (row, column)
            else:
                assert tip is None
    assert tooltips >= 30
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    extra = header.index(EXTRA_COLUMN)
    assert as_shown(model.headerData(extra, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)) == EXTRA_COLUMN


def test_the_detail_pane_shows_the_data_as_text(qtbot, panel_tab: LogTab, fifo: Path) -> None:
    pane = child(panel_tab, DetailPane, "detailPane")
    model = panel_tab.model
    for row in range(model.rowCount()):
        model.data(model.index(row, 0))
        qtbot.waitUntil(lambda r=row: model.row_values(r) is not None, timeout=10_000)
    assert sorted(known(model.row_dict(r))["user_agent"] for r in range(model.rowCount())) == sorted(
        hostile_values(fifo)
    )
    for row in range(model.rowCount()):
        value = known(model.row_dict(row))["user_agent"]
        panel_tab.view.selectRow(row)
        qtbot.waitUntil(lambda v=value: v in pane.text(), timeout=5_000)
        labels = pane.findChildren(QLabel)
        assert labels and all(label.textFormat() is Qt.TextFormat.PlainText for label in labels)
        shown = [label.text() for label in labels if label.objectName() == "detailValue"]
        shown += [w.toPlainText() for w in pane.findChildren(QWidget, "detailValue") if hasattr(w, "toPlainText")]
        assert value in shown
        tips = {w.toolTip() for w in pane.findChildren(QWidget) if w.toolTip()}
        for tip in tips:
            as_shown(tip)  # loads nothing
        copies = {as_shown(b.toolTip()) for b in pane.findChildren(QAbstractButton, "copyButton")}
        assert f"Copy {EXTRA_COLUMN} to the clipboard" in copies


def test_top_values_and_filter_chips_show_the_data_as_text(qtbot, panel_tab: LogTab, fifo: Path) -> None:
    values = hostile_values(fifo)
    panel_tab.show_facets("user_agent")
    qtbot.waitUntil(
        lambda: not panel_tab.facets.busy and panel_tab.facets.list.topLevelItemCount() == len(values), timeout=10_000
    )
    facets = panel_tab.facets.list
    seen = []
    for i in range(facets.topLevelItemCount()):
        item = known(facets.topLevelItem(i))
        value = item.data(0, Qt.ItemDataRole.UserRole + 1)
        seen.append(value)
        assert item.text(0) == (value if len(value) <= 300 else value[:300] + "…")
        assert same_text(as_shown(item.toolTip(0)), value[:2000])
    assert sorted(seen) == sorted(values)

    for wanted in ("<b>x</b> &amp; y: the five characters &amp; must stay as they are", "&amp;", values[5]):
        panel_tab.filter_bar.clear()
        qtbot.waitUntil(
            lambda: not panel_tab.facets.busy and len(panel_tab.facets.values()) == len(values), timeout=10_000
        )
        row = [v for v, _n in panel_tab.facets.values()].index(wanted)
        with qtbot.waitSignal(panel_tab.model.countChanged, timeout=10_000):
            panel_tab.facets.activate(row)
        condition = panel_tab.filter_bar.conditions()[-1]
        chip = next(w for w in panel_tab.filter_bar.findChildren(QAbstractButton, "conditionChip"))
        text = as_button_shows(chip.text())
        if len(condition.text()) <= 80:
            assert text == condition.text()
        else:
            assert text.endswith("…") and condition.text().startswith(text[:-1]) and len(text) <= 80
        column = panel_tab.table.column("user_agent")
        assert same_text(as_shown(chip.toolTip()), describe_condition(condition, known(column).label)[:2000])
        qtbot.waitUntil(lambda: panel_tab.model.total == 1, timeout=10_000)


def test_the_window_shows_names_from_the_data_as_text(
    qtbot, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()
    qtbot.waitExposed(window)
    try:
        source = window.open_source(db_path)
        assert source is not None
        qtbot.waitUntil(lambda: not window.navigation.counting(), timeout=10_000)
        root = window.navigation.source_index(source.key)
        assert same_text(as_shown(root.data(Qt.ItemDataRole.ToolTipRole)), str(db_path.resolve()))
        assert root.data() == FILE_NAME
        units = [window.navigation.index(r, 0, root) for r in range(window.navigation.rowCount(root))]
        unit = next(i for i in units if i.data() == UNIT_NAME)
        assert as_shown(unit.data(Qt.ItemDataRole.ToolTipRole)) == f"Business unit 1: {UNIT_NAME}"
        for index in _all_indexes(window):
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            if tip:
                as_shown(tip)

        for label in (window.row_count_label, window.query_time_label, window.zone_label):
            assert label.textFormat() is Qt.TextFormat.PlainText
        window.open_overview(source.key)
        overview = window.current_tab()
        assert isinstance(overview, OverviewTab)
        current = window.tabs.currentIndex()
        assert as_shown(window.tabs.tabToolTip(current)) == f"What to look at first in {FILE_NAME}"
        assert as_button_shows(window.tabs.tabText(current)) == f"Overview · {FILE_NAME}"
        # The title the window system gets shows the name, "[*]" included.
        assert window.windowHandle().title() == f"Overview — {FILE_NAME} — {APP_NAME}"
        qtbot.waitUntil(lambda: not overview.busy, timeout=20_000)

        # An error naming a hostile file is a plain-text box, titled with the name as it is.
        not_a_db = tmp_path / "<b>not a db &amp; <img src=x>.db"
        not_a_db.write_bytes(b"<html><img src='x'></html>" * 10)
        window.open_source(not_a_db)
        box = next(b for b in window.findChildren(QMessageBox, "errorBox") if not_a_db.name in b.text())
        assert box.textFormat() is Qt.TextFormat.PlainText
        assert box.windowTitle() == f"Cannot open {not_a_db.name}"

        # A question quoting a hostile view name is plain text too.
        asked: list[QMessageBox] = []

        def answer_no(box: QMessageBox) -> bool:
            asked.append(box)
            return False

        monkeypatch.setattr(msgbox, "ask_hook", answer_no, raising=True)
        window.open_log(source.key, "panel")
        wait_tab_ready(qtbot, window.current_tab())
        name = '<img src="x"> & <b>view</b>'
        window.save_current_view(name)
        views = [i for i in _all_indexes(window) if known(window.navigation.node(i)).kind is NodeKind.VIEW]
        window.saved_views.confirm_delete(known(window.navigation.node(views[0])))
        assert asked and asked[0].textFormat() is Qt.TextFormat.PlainText
        assert asked[0].text() == f"Delete the saved view {name!r}?"
        assert window.settings.saved_view(source.key, name) is not None  # answered No: kept
    finally:
        window.close()


def _all_indexes(window: MainWindow, parent: QModelIndex | None = None) -> list[QModelIndex]:
    model = window.navigation
    parent = parent if parent is not None else QModelIndex()
    found = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        found += [index, *_all_indexes(window, index)]
    return found


class _ToolTips:
    """Stands in for QToolTip in the charts module: records what hovering would show."""

    shown: ClassVar[list[str]] = []

    @classmethod
    def showText(cls, _pos, text: str, _widget=None) -> None:
        cls.shown.append(text)

    @classmethod
    def hideText(cls) -> None:
        pass


def test_the_overview_and_its_charts_show_gateways_and_campaigns_as_text(
    qtbot, source: Source, fifo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts_module, "QToolTip", _ToolTips)
    _ToolTips.shown = []
    tab = OverviewTab(source)
    qtbot.addWidget(tab)
    tab.resize(1300, 2400)
    tab.show()
    try:
        qtbot.waitUntil(lambda: not tab.busy and tab.progress.value() == tab.progress.maximum(), timeout=20_000)
        hostile = set(hostile_values(fifo)[:5])
        cards = {c.finding.kind: c for c in tab.cards}
        assert {"sms_gateways", "sms_campaigns", "sms_errors"} <= set(cards)
        for card in tab.cards:
            for label in card.findChildren(QLabel):
                assert label.textFormat() is Qt.TextFormat.PlainText or not QtGui.Qt.mightBeRichText(label.text())
            if card.table is not None:
                for r in range(card.table.rowCount()):
                    for c in range(card.table.columnCount()):
                        cell = known(card.table.item(r, c))
                        if len(cell.text()) > 40:
                            assert same_text(as_shown(cell.toolTip()), cell.text())
        for kind in ("sms_gateways", "sms_campaigns", "sms_errors"):
            chart = known(cards[kind].chart)
            categories = known(chart.chart).categories
            assert hostile & set(categories)
            view = chart.getPlotItem().getViewBox()
            for i, category in enumerate(categories):
                where = QPointF(0.01, float(i)) if chart._horizontal else QPointF(float(i), 0.01)
                _ToolTips.shown.clear()
                chart._on_mouse_moved(view.mapViewToScene(where))
                assert _ToolTips.shown, (kind, i)
                assert chart.hover_text(where).startswith(category)
                assert same_text(as_shown(_ToolTips.shown[-1]), chart.hover_text(where))
    finally:
        tab.shutdown()
