"""The navigation tree's model: sources, business units, logs with counts, saved views."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt

from auditviewer.data.source import Source, open_source
from auditviewer.data.views import ConditionState, SavedView
from auditviewer.qt.models.navigation import ALL_UNITS, SAVED_VIEWS, NavigationModel, Node, NodeKind
from tests.helpers.dbfactory import DbFactory

BASE = datetime(2025, 3, 1)
UNITS = [(1, "Main brand"), (2, "Outlet store"), (3, "Empty unit")]


def api_rows(n: int) -> list[dict]:
    return [
        dict(
            id=i,
            date=BASE + timedelta(minutes=i),
            url=f"/v2/Api/item/{i % 7}",
            method="GET",
            status=(200, 404, 500)[i % 3],
            remote_ip=f"192.0.2.{i % 20}",
            business_unit_id=1 + i % 2,
        )
        for i in range(1, n + 1)
    ]


def login_rows(n: int) -> list[dict]:
    return [
        dict(
            id=i,
            date=BASE + timedelta(hours=i),
            name="Anna Kowalska",
            email="anna@example.com",
            login="successful" if i % 4 else "failed",
            remote_ip="198.51.100.7",
            business_unit_id=None if i % 5 == 0 else 1,
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture
def source(sqlite_db: DbFactory) -> Iterator[Source]:
    src = open_source(sqlite_db.create({"api": api_rows(301), "logins": login_rows(40)}, business_units=UNITS))
    yield src
    src.close()


@pytest.fixture
def plain_source(sqlite_db: DbFactory) -> Iterator[Source]:
    src = open_source(sqlite_db.create({"api": api_rows(25)}))
    yield src
    src.close()


@pytest.fixture
def model(qtmodeltester) -> Iterator[NavigationModel]:
    nav = NavigationModel()
    qtmodeltester.check(nav)
    yield nav
    nav.shutdown()


def texts(model: NavigationModel, parent: QModelIndex | None = None) -> list[str]:
    parent = parent if parent is not None else QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def wait_counted(qtbot, model: NavigationModel) -> None:
    qtbot.waitUntil(lambda: not model.counting(), timeout=10_000)


def test_source_branch_lists_units_then_logs_with_counts(qtbot, qtmodeltester, model, source) -> None:
    root = model.add_source(source)
    qtmodeltester.check(model)
    assert root.data() == source.display_name
    assert root.data(Qt.ItemDataRole.ToolTipRole).replace("\n", "") == source.key  # a long path is broken
    assert texts(model, root) == [ALL_UNITS, "Main brand", "Outlet store", "Empty unit", "Overview"]
    assert model.node(model.overview_index(source.key)) == Node(NodeKind.OVERVIEW, source.key)
    every = model.index(0, 0, root)
    assert texts(model, every) == ["API logs (counting…)", "User logins (counting…)"]

    wait_counted(qtbot, model)
    qtmodeltester.check(model)
    assert texts(model, every) == ["API logs (301)", "User logins (40)"]
    assert texts(model, model.index(1, 0, root)) == ["API logs (150)", "User logins (32)"]
    assert texts(model, model.index(2, 0, root)) == ["API logs (151)", "User logins (0)"]
    assert texts(model, model.index(3, 0, root)) == ["API logs (0)", "User logins (0)"]
    assert model.row_count(source.key, "api", 2) == 151


def test_each_item_says_what_it_stands_for(qtbot, model, source) -> None:
    root = model.add_source(source)
    assert model.node(root).kind is NodeKind.SOURCE
    unit = model.index(1, 0, root)
    assert (model.node(unit).kind, model.node(unit).business_unit) == (NodeKind.BUSINESS_UNIT, 1)
    api = model.log_index(source.key, "api", 1)
    node = model.node(api)
    assert (node.kind, node.source_key, node.log_key, node.business_unit) == (NodeKind.LOG, source.key, "api", 1)
    assert api.parent() == unit
    assert model.node(QModelIndex()) is None
    wait_counted(qtbot, model)


def test_source_without_business_units_shows_logs_directly(qtbot, model, plain_source) -> None:
    root = model.add_source(plain_source)
    wait_counted(qtbot, model)
    assert texts(model, root) == ["API logs (25)", "Overview"]
    assert model.node(model.index(0, 0, root)).business_unit is None


def test_a_log_that_cannot_be_read_is_shown_disabled_with_the_reason(qtbot, model, sqlite_db) -> None:
    spec = sqlite_db.create({"api": api_rows(5), "sms": []}, omit={"sms": ["gateway_name"]})
    with open_source(spec) as src:
        root = model.add_source(src)
        wait_counted(qtbot, model)
        item = model.index(1, 0, root)
        assert item.data() == "SMS logs (cannot be shown)"
        assert not item.flags() & Qt.ItemFlag.ItemIsEnabled
        assert "gateway_name" in item.data(Qt.ItemDataRole.ToolTipRole)


def test_saved_views_appear_sorted_under_the_source(qtbot, qtmodeltester, model, source) -> None:
    views = [SavedView("errors", "api", (ConditionState("status>=500"),)), SavedView("Anna", "logins", business_unit=1)]
    root = model.add_source(source, views)
    folder = model.views_folder_index(source.key)
    assert folder.parent() == root and folder.data() == SAVED_VIEWS
    assert texts(model, folder) == ["Anna — User logins", "errors — API logs"]
    node = model.node(model.view_index(source.key, "Anna"))
    assert (node.kind, node.view_name, node.log_key, node.business_unit) == (NodeKind.VIEW, "Anna", "logins", 1)

    model.set_views(source.key, views[:1])
    qtmodeltester.check(model)
    assert texts(model, model.views_folder_index(source.key)) == ["errors — API logs"]
    model.set_views(source.key, [])
    assert not model.views_folder_index(source.key).isValid()
    assert SAVED_VIEWS not in texts(model, root)
    wait_counted(qtbot, model)


def test_removing_a_source_while_counting_drops_its_counts(qtbot, model, source, plain_source) -> None:
    model.add_source(source)
    model.add_source(plain_source)
    model.remove_source(source.key)
    assert texts(model) == [plain_source.display_name]
    assert not model.log_index(source.key, "api").isValid()
    wait_counted(qtbot, model)
    assert model.row_count(source.key, "api") is None
    assert model.row_count(plain_source.key, "api") == 25


def test_adding_the_same_source_twice_keeps_one_branch(qtbot, model, source) -> None:
    first = model.add_source(source)
    assert model.add_source(source) == first
    assert model.rowCount() == 1
    wait_counted(qtbot, model)


def test_count_failure_is_shown_on_the_item(qtbot, model, plain_source) -> None:
    # the table went away after discovery: the tree says so instead of "counting…" for ever
    plain_source.logs["api"].table.name = "no_such_table"
    model.add_source(plain_source)
    wait_counted(qtbot, model)
    item = model.log_index(plain_source.key, "api")
    assert item.data() == "API logs (count failed)"
    assert "could not be counted" in item.data(Qt.ItemDataRole.ToolTipRole)
