"""The lazy table model: paging, counting, windowing, sorting in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from auditviewer.qt.models.log_model import PAGE_SIZE, PLACEHOLDER, LogTableModel
from auditviewer.qt.models.tasks import TaskRunner
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import known

ROWS = 2_345
BASE = datetime(2025, 3, 1)


def api_rows(n: int) -> list[dict]:
    return [
        dict(
            id=i,
            date=BASE + timedelta(seconds=37 * i),
            url=f"/v2/Api/item/{i % 13}",
            method=("GET", "POST", "PUT", "DELETE")[i % 4],
            status=(200, 201, 404, 500)[i % 4],
            remote_ip=f"192.0.2.{i % 50}",
            business_unit_id=i % 3,
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture
def source(sqlite_db: DbFactory) -> Iterator[Source]:
    src = open_source(sqlite_db.create({"api": api_rows(ROWS)}))
    yield src
    src.close()


@pytest.fixture
def lanes(qtbot) -> Iterator[tuple[TaskRunner, TaskRunner]]:
    pages, background = TaskRunner("pages"), TaskRunner("background")
    yield pages, background
    pages.shutdown()
    background.shutdown()


def make_model(lanes, **kwargs) -> LogTableModel:
    return LogTableModel(*lanes, **kwargs)


def wait_counted(qtbot, model: LogTableModel) -> None:
    qtbot.waitUntil(lambda: model.total is not None, timeout=10_000)


def wait_row_loaded(qtbot, model: LogTableModel, row: int) -> None:
    model.data(model.index(row, 0))  # ask for it, as a painting view would
    qtbot.waitUntil(lambda: model.row_values(row) is not None, timeout=10_000)


def test_model_passes_qt_model_tester_while_paging(qtmodeltester, qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    model.set_query(LogQuery(source.log("api")))
    qtmodeltester.check(model)
    wait_counted(qtbot, model)
    wait_row_loaded(qtbot, model, 1500)
    qtmodeltester.check(model)


def test_rows_are_newest_first_and_count_is_the_result(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    model.set_query(LogQuery(source.log("api")))
    wait_counted(qtbot, model)
    assert model.rowCount() == ROWS
    wait_row_loaded(qtbot, model, 0)
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == ROWS
    assert model.data(model.index(0, 0)) == str(ROWS)


def test_cells_not_loaded_show_a_placeholder_then_the_value(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    model.set_query(LogQuery(source.log("api")))
    wait_counted(qtbot, model)
    row = ROWS - 10
    assert model.data(model.index(row, 0)) == PLACEHOLDER
    assert model.data(model.index(row, 0), Qt.ItemDataRole.UserRole) is None
    qtbot.waitUntil(lambda: model.row_values(row) is not None, timeout=10_000)
    assert model.data(model.index(row, 0), Qt.ItemDataRole.UserRole) == 10


def test_far_rows_come_from_keyset_neighbours_in_order(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    model.set_query(LogQuery(source.log("api"), sort=Sort("id", False)))
    wait_counted(qtbot, model)
    for row in (1800, 1799, 1900, 1000, 2344, 150):
        wait_row_loaded(qtbot, model, row)
        assert model.data(model.index(row, 0), Qt.ItemDataRole.UserRole) == row + 1


def test_filter_counts_only_matching_rows(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    flt = Filter(conditions=(parse_condition("status>=500"),))
    model.set_query(LogQuery(source.log("api"), flt))
    wait_counted(qtbot, model)
    assert model.rowCount() == ROWS // 4
    wait_row_loaded(qtbot, model, 0)
    assert model.data(model.index(0, source.log("api").column_names.index("status"))) == "500"


def test_superseded_query_results_are_dropped(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    table = source.log("api")
    model.set_query(LogQuery(table))
    model.set_query(LogQuery(table, Filter(conditions=(parse_condition("method=PUT"),))))
    wait_counted(qtbot, model)
    wait_row_loaded(qtbot, model, 0)
    method = table.column_names.index("method")
    assert model.total == ROWS // 4
    assert {model.data(model.index(r, method)) for r in range(50) if model.row_values(r)} == {"PUT"}


def test_header_sort_runs_in_sql(qtbot, lanes, source: Source) -> None:
    model = make_model(lanes)
    table = source.log("api")
    model.set_query(LogQuery(table))
    model.sort(table.column_names.index("id"), Qt.SortOrder.AscendingOrder)
    wait_counted(qtbot, model)
    wait_row_loaded(qtbot, model, 0)
    assert known(model.query).sort == Sort("id", False)
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == 1


def test_windowed_result_browses_to_the_end(qtbot, lanes, source: Source) -> None:
    """Past the window limit the model exposes a window that slides over every row."""
    model = make_model(lanes, window_limit=1_000, window_size=300)
    model.set_query(LogQuery(source.log("api"), sort=Sort("id", False)))
    wait_counted(qtbot, model)
    assert model.windowed and model.rowCount() == 300 and model.total == ROWS
    model.set_window_offset(ROWS)  # clamps at the end
    assert model.window_offset == ROWS - 300
    wait_row_loaded(qtbot, model, 299)
    assert model.data(model.index(299, 0), Qt.ItemDataRole.UserRole) == ROWS
    model.set_window_offset(1_000)
    wait_row_loaded(qtbot, model, 5)
    assert model.data(model.index(5, 0), Qt.ItemDataRole.UserRole) == 1_006


def test_cache_stays_bounded(qtbot, lanes, source: Source) -> None:
    from auditviewer.qt.models import log_model

    model = make_model(lanes)
    model.set_query(LogQuery(source.log("api"), sort=Sort("id", False)))
    wait_counted(qtbot, model)
    for row in range(0, ROWS, PAGE_SIZE):
        wait_row_loaded(qtbot, model, row)
    assert len(model._pages) <= log_model.MAX_PAGES


def test_a_page_that_fails_leaves_disabled_rows_and_says_why(qtbot, lanes, source: Source, monkeypatch) -> None:
    from auditviewer.data.errors import SourceError

    model = make_model(lanes)
    query = LogQuery(source.log("api"), sort=Sort("id", False))
    model.set_query(query)
    wait_counted(qtbot, model)
    calls = []

    def broken(*_args, **_kwargs):
        calls.append(1)
        raise SourceError("logs.db: the server went away")

    monkeypatch.setattr(LogQuery, "at", broken)
    monkeypatch.setattr(LogQuery, "after", broken)
    monkeypatch.setattr(LogQuery, "before", broken)
    with qtbot.waitSignal(model.loadFailed, timeout=10_000) as failure:
        model.data(model.index(1_500, 0))
    assert failure.args == ["logs.db: the server went away"]
    assert not model.flags(model.index(1_500, 0)) & Qt.ItemFlag.ItemIsEnabled
    assert model.data(model.index(1_500, 0)) == PLACEHOLDER
    qtbot.wait(50)  # repaints ask again; the failed page is not fetched again
    assert len(calls) == 1
