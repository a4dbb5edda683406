"""A log with odd values (text where dates or numbers belong, NULLs, huge cells) never breaks the window."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditviewer.data.export import export
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from auditviewer.qt.report.painter import write_pdf
from auditviewer.qt.widgets import msgbox
from auditviewer.qt.widgets.detail_pane import DetailPane
from auditviewer.qt.widgets.log_tab import LogTab
from tests.helpers.dbfactory import DbFactory
from tests.helpers.qtfind import child, known
from tests.unit.logrows import api_row

HUGE = "/v2/Api/" + "x" * 20_000


@pytest.fixture
def odd_source(sqlite_db: DbFactory) -> Iterator[Source]:
    spec = sqlite_db.create({"api": [api_row(i) for i in range(1, 301)]})
    # What an export with a bug or a hand edit may hold: SQLite keeps any value in any column.
    with closing(sqlite3.connect(spec)) as conn, conn:
        conn.execute("UPDATE api_logs SET date = 'not a date' WHERE id = 300")
        conn.execute("UPDATE api_logs SET date = '2025-01-01T09:00:00Z' WHERE id = 299")
        conn.execute("UPDATE api_logs SET status = 'teapot' WHERE id = 298")
        conn.execute("UPDATE api_logs SET url = ? WHERE id = 297", (HUGE,))
        conn.execute("UPDATE api_logs SET url = '', method = 'get' WHERE id = 296")
    source = open_source(spec)
    yield source
    source.close()


def test_the_tab_shows_every_row_and_its_details(qtbot, odd_source: Source) -> None:
    tab = LogTab(odd_source, "api")
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    try:
        qtbot.waitUntil(lambda: tab.model.total == 300, timeout=10_000)
        texts = []
        for row in range(300):
            tab.model.data(tab.model.index(row, 0))  # asked for, as a painting view would
            qtbot.waitUntil(lambda r=row: tab.model.row_values(r) is not None, timeout=10_000)
            texts.append(tab.model.data(tab.model.index(row, known(tab.model.query).columns.index("date"))))
        assert "not a date" in texts
        # Each odd row can be selected and described.
        pane = child(tab, DetailPane, "detailPane")
        for row in range(300):
            values = known(tab.model.row_dict(row))
            if values["id"] in (296, 297, 298, 299, 300):
                tab.view.selectRow(row)
                assert str(values["id"]) in pane.text()
        huge_row = next(r for r in range(300) if known(tab.model.row_dict(r))["id"] == 297)
        shown = tab.model.data(tab.model.index(huge_row, known(tab.model.query).columns.index("url")))
        assert len(shown) < 1_000 and shown.endswith("…")
        assert not msgbox.shown
    finally:
        tab.shutdown()


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "pdf"])
def test_exports_carry_odd_values_as_they_are(qtbot, odd_source: Source, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"odd.{fmt}"
    n = export(LogQuery(odd_source.log("api")), fmt, target, pdf_writer=write_pdf)
    assert n == 300 and target.stat().st_size > 0
    if fmt in ("csv", "json"):
        text = target.read_text(encoding="utf-8")
        assert "not a date" in text and "teapot" in text and HUGE in text
    if fmt == "pdf":
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(target).pages).split())
        assert "not a date" in text
