"""Top values of a column beside the table: counts under the filter; a click filters, Ctrl+click excludes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QToolButton

from auditviewer.data.filters import parse_condition
from auditviewer.data.source import Source, open_source
from auditviewer.qt.widgets.facets import EMPTY, LIMIT, condition_for, facet_columns
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import child, known
from tests.unit.logrows import BASE, api_row, panel_row

STATUSES = [200, 200, 404, 201, 500, 200, 404, 429, 200, 503, 200]
API = [
    api_row(
        i, status=STATUSES[i % len(STATUSES)], method=("GET", "POST", "PUT")[i % 3], remote_ip=f"198.51.100.{i % 30}"
    )
    for i in range(1, 400)
]
PANEL = [
    panel_row(i, date=BASE + timedelta(minutes=i), api_method_status=(None, "OK", "", "Error: x")[i % 4])
    for i in range(1, 60)
]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    return DbFactory("sqlite", tmp_path_factory.mktemp("facets")).create(
        {"api": API, "panel": PANEL}, indexes=[("*", "date"), ("*", "status")]
    )


@pytest.fixture
def source(spec: str) -> Iterator[Source]:
    with open_source(spec) as src:
        yield src


def open_tab(qtbot, source: Source, log_key: str) -> LogTab:
    tab = LogTab(source, log_key)
    qtbot.addWidget(tab)
    tab.resize(1300, 700)
    tab.show()
    qtbot.waitUntil(lambda: tab.model.total is not None and not tab.timeline.busy, timeout=10_000)
    return tab


@pytest.fixture
def tab(qtbot, source: Source) -> Iterator[LogTab]:
    tab = open_tab(qtbot, source, "api")
    yield tab
    tab.shutdown()


def wait_values(qtbot, tab: LogTab) -> list[tuple[object, int]]:
    qtbot.waitUntil(lambda: not tab.facets.busy and tab.facets.list.topLevelItemCount() > 0, timeout=10_000)
    return tab.facets.values()


def click_value(qtbot, tab: LogTab, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    item = known(tab.facets.list.topLevelItem(row))
    rect = tab.facets.list.visualItemRect(item)
    qtbot.mouseClick(tab.facets.list.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_the_button_opens_the_panel_on_the_commonest_values(qtbot, tab: LogTab) -> None:
    assert not tab.facets.isVisible()
    button = child(tab, QToolButton, "facetsButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert tab.facets.isVisible() and tab.facets.current_column == "status"
    expected = Counter(r["status"] for r in API)
    values = wait_values(qtbot, tab)
    assert values == sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    assert "All 6 values of Status" in tab.facets.status.text()
    qtbot.mouseClick(child(tab, QToolButton, "facetsClose"), Qt.MouseButton.LeftButton)
    assert not tab.facets.isVisible() and not button.isChecked()


def test_a_click_filters_on_the_value_and_ctrl_click_leaves_it_out(qtbot, tab: LogTab) -> None:
    tab.show_facets("method")
    values = wait_values(qtbot, tab)
    assert dict(values) == Counter(r["method"] for r in API)
    first = values[0][0]
    with qtbot.waitSignal(tab.model.countChanged, timeout=10_000):
        click_value(qtbot, tab, 0)
    assert [c.text() for c in tab.filter_bar.conditions()] == [f"method={first}"]
    qtbot.waitUntil(lambda: tab.model.total is not None, timeout=10_000)
    assert tab.model.total == sum(1 for r in API if r["method"] == first)
    # The panel follows the filter: now only that method is left.
    qtbot.waitUntil(lambda: tab.facets.values() == [(first, tab.model.total)], timeout=10_000)

    tab.filter_bar.clear()
    values = wait_values(qtbot, tab)
    qtbot.waitUntil(lambda: len(tab.facets.values()) == 3, timeout=10_000)
    second = tab.facets.values()[1][0]
    with qtbot.waitSignal(tab.model.countChanged, timeout=10_000):
        click_value(qtbot, tab, 1, Qt.KeyboardModifier.ControlModifier)
    assert [c.text() for c in tab.filter_bar.conditions()] == [f"method!={second}"]
    qtbot.waitUntil(lambda: tab.model.total is not None, timeout=10_000)
    assert tab.model.total == sum(1 for r in API if r["method"] != second)


def test_alt_click_and_enter(qtbot, tab: LogTab) -> None:
    tab.show_facets("remote_ip")
    values = wait_values(qtbot, tab)
    assert len(values) == LIMIT and "20 commonest values" in tab.facets.status.text()
    click_value(qtbot, tab, 2, Qt.KeyboardModifier.AltModifier)
    assert tab.filter_bar.conditions()[-1] == parse_condition(f"remote_ip!={values[2][0]}")
    tab.facets.list.setCurrentItem(known(tab.facets.list.topLevelItem(0)))
    tab.facets.list.setFocus()
    qtbot.keyClick(tab.facets.list, Qt.Key.Key_Return)
    assert tab.filter_bar.conditions()[-1] == parse_condition(f"remote_ip={wait_values(qtbot, tab)[0][0]}")


def test_empty_values_filter_as_empty(qtbot, source: Source) -> None:
    tab = open_tab(qtbot, source, "panel")
    try:
        tab.show_facets("api_method_status")
        values = wait_values(qtbot, tab)
        shown = [known(tab.facets.list.topLevelItem(i)).text(0) for i in range(len(values))]
        assert EMPTY in shown
        row = shown.index(EMPTY)
        click_value(qtbot, tab, row)
        assert tab.filter_bar.conditions()[-1].text() == "api_method_status="
        qtbot.waitUntil(lambda: tab.model.total is not None, timeout=10_000)
        assert tab.model.total == sum(1 for r in PANEL if not r["api_method_status"])
    finally:
        tab.shutdown()


def test_columns_offered_and_conditions(source: Source) -> None:
    assert facet_columns(source.log("api")) == ["business_unit_id", "url", "method", "status", "remote_ip"]
    assert condition_for("status", 404).text() == "status=404"
    assert condition_for("error", None, exclude=True).text() == "error!="
    assert condition_for("campaign_description", "a, b").text() == 'campaign_description="a, b"'


def test_header_menu_offers_top_values_of_the_column(qtbot, tab: LogTab, monkeypatch) -> None:
    shown: list[QMenu] = []
    monkeypatch.setattr(QMenu, "popup", lambda menu, *_args: shown.append(menu))
    header = tab.view.horizontalHeader()
    logical = known(tab.model.query).columns.index("remote_ip")
    tab._on_header_menu(QPoint(header.sectionViewportPosition(logical) + 5, 5))
    action = next(a for a in shown[-1].actions() if a.text() == "Top values of Remote IP")
    action.trigger()
    assert tab.facets.isVisible() and tab.facets.current_column == "remote_ip" and tab.facets_button.isChecked()
    assert len(wait_values(qtbot, tab)) == LIMIT
    # The row id and timestamps have no top values to offer.
    tab._on_header_menu(QPoint(header.sectionViewportPosition(known(tab.model.query).columns.index("date")) + 5, 5))
    assert not [a for a in shown[-1].actions() if a.text().startswith("Top values")]
