"""PDF reports read back with pypdf: pages, header, filters in words, "Page X of Y", every row, as text."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QBuffer, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

from auditviewer.cli import main
from auditviewer.data.demo import create_demo
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.export import export, to_text
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.report import Report, ReportOptions, build_report
from auditviewer.data.source import Source, open_source
from auditviewer.qt.report.painter import plan_layout, write_pdf
from tests.helpers.dbfactory import DbFactory
from tests.helpers.pipes import PipeReader
from tests.helpers.qtfind import known
from tests.unit.logrows import api_row, panel_row

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<b>x</b><script>alert(1)</script>"
LONG_URL = "/v2/Api/Subscribers/" + "/".join(f"segment{i}" for i in range(40)) + "?tail=THE-END"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "acme.db"
    create_demo(path, rows=3_000, seed=5)
    return path


@pytest.fixture
def demo(demo_path: Path) -> Iterator[Source]:
    with open_source(demo_path) as source:
        yield source


def pages_text(path: Path, which: tuple[int, ...] | None = None) -> list[str]:
    """Each page's text (or the pages ``which``, e.g. (0, -1)), whitespace runs made single spaces.

    (pypdf reads the gaps between words as tabs and newlines; Qt places each glyph on its own, which
    makes reading slow: read only the pages a test needs.)
    """
    pages = PdfReader(path).pages
    chosen = pages if which is None else [pages[i] for i in which]
    return [re.sub(r"\s+", " ", page.extract_text()) for page in chosen]


def is_landscape(path: Path) -> bool:
    box = PdfReader(path).pages[0].mediabox
    return float(box.width) > float(box.height)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_pdf_says_what_it_holds_on_every_page(demo: Source, tmp_path: Path) -> None:
    flt = Filter((parse_condition("status>=400"),), time_from=datetime(2025, 1, 1), time_to=datetime(2025, 7, 1))
    query = LogQuery(demo.log("api"), flt, columns=["id", "date", "method", "status", "url", "remote_ip"])
    report = build_report(query, ReportOptions())
    path = tmp_path / "errors.pdf"
    progress: list[tuple[int, int]] = []
    pages = write_pdf(report, path, progress=lambda page, total: progress.append((page, total)))
    texts = pages_text(path)
    assert report.row_count > 60  # enough for more than one page
    assert len(texts) == pages == len(PdfReader(path).pages) > 1
    assert progress[-1] == (pages, pages) and [p for p, _ in progress] == sorted(p for p, _ in progress)
    first = texts[0]
    assert "Status is at least 400; date from 1 Jan 2025 to 30 Jun 2025 (UTC)" in first
    assert f"SHA-256 {report.sha256}" in first and report.sha256 and len(report.sha256) == 64
    assert "Date, newest first" in first and f"{report.row_count:,} rows" in first
    for number, text in enumerate(texts, start=1):
        assert text.startswith("API logs"), text[:80]
        assert "acme.db" in text
        assert f"Page {number} of {pages}" in text
        if number < pages or report.row_count:
            assert "ID Date Method Status URL Remote IP" in text  # the column header, on every page
    words = set(" ".join(texts).split())
    ids = [str(row[0]) for row in query.iter_rows()]
    assert len(ids) == report.row_count and set(ids) <= words
    assert f"End of report: {report.row_count:,} rows." in texts[-1]
    assert known(PdfReader(path).metadata).title == "API logs"


def test_html_in_data_prints_as_text_and_long_cells_are_elided(
    sqlite_db: DbFactory, tmp_path: Path, monkeypatch
) -> None:
    rows = [
        panel_row(1, url=HOSTILE, email=HOSTILE),
        panel_row(2, url=LONG_URL, user_agent="Mozilla/5.0 " * 40),
        panel_row(3, url="line one\nline two\ttabbed"),
    ]
    drawn: list[tuple[QRectF, int, str, QFont]] = []
    original = QPainter.drawText

    def recording(self: QPainter, *args: Any) -> None:
        if len(args) == 3 and isinstance(args[0], QRectF):
            drawn.append((QRectF(args[0]), int(args[1]), str(args[2]), QFont(self.font())))
        return original(self, *args)

    monkeypatch.setattr(QPainter, "drawText", recording)
    with open_source(sqlite_db.create({"panel": rows})) as source:
        query = LogQuery(
            source.log("panel"),
            sort=Sort("id", False),
            columns=["id", "date", "url", "method", "email", "remote_ip", "user_agent"],
        )
        path = tmp_path / "hostile.pdf"
        write_pdf(build_report(query, ReportOptions(title=HOSTILE)), path)
    text = " ".join(pages_text(path))
    assert text.count(HOSTILE) >= 3  # title, URL and e-mail, literally
    assert LONG_URL not in text and "THE-END" not in text
    assert "/v2/Api/Subscribers/segment0/" in text and "…" in text
    assert "line one line two tabbed" in text
    # Nothing single-line is wider than its box: a long cell never runs into the next column.
    single = [
        (rect, flags, value, font) for rect, flags, value, font in drawn if not flags & int(Qt.TextFlag.TextWordWrap)
    ]
    assert len(single) > 20
    for rect, _flags, value, font in single:
        assert QFontMetricsF(font).horizontalAdvance(value) <= rect.width() + 0.01, value


def test_landscape_when_the_columns_need_it(demo: Source, tmp_path: Path) -> None:
    panel = LogQuery(
        demo.log("panel"), columns=["id", "date", "url", "method", "email", "remote_ip", "api_method_status"]
    )
    api = LogQuery(demo.log("api"), columns=["id", "date", "method", "status", "remote_ip"])
    for query, options, landscape in (
        (panel, ReportOptions(), True),
        (api, ReportOptions(), False),
        (panel, ReportOptions(orientation="portrait"), False),
        (api, ReportOptions(orientation="landscape"), True),
    ):
        path = tmp_path / "orientation.pdf"
        report = build_report(query, options, limit=50)
        write_pdf(report, path)
        assert is_landscape(path) is landscape, (query.table.log_type.key, options.orientation)
        text = pages_text(path)[0]
        assert "Page 1 of" in text and report.title in text


@pytest.mark.parametrize("sign_off", [None, "Prepared by Anna Nowak, account manager"])
def test_page_x_of_y_is_exact_at_every_boundary(sqlite_db: DbFactory, tmp_path: Path, sign_off: str | None) -> None:
    with open_source(sqlite_db.create({"api": [api_row(i) for i in range(1, 301)]})) as source:
        query = LogQuery(source.log("api"), sort=Sort("id", False))
        layout = plan_layout(build_report(query, ReportOptions(sign_off=sign_off)))
        first, other = layout.rows_first, layout.rows_other
        assert 10 < first < other
        for n in sorted({0, 1, first - 1, first, first + 1, first + other - 1, first + other, first + 2 * other}):
            report = build_report(query, ReportOptions(sign_off=sign_off), limit=n)
            path = tmp_path / f"rows-{n}.pdf"
            pages = write_pdf(report, path)
            texts = pages_text(path)
            assert len(texts) == pages, n
            assert f"Page {pages} of {pages}" in texts[-1]
            closing = f"End of report: {n:,} row" if n else "No rows match the filters."
            assert closing in texts[-1]
            if sign_off:
                assert sign_off in texts[-1] and "Signature" in texts[-1]
            ids = [int(w) for w in re.findall(r"(?<![\d:.-])(\d{1,3})(?= \d{4}-)", " ".join(texts))]
            assert ids == list(range(1, n + 1)), n


def test_csv_xlsx_and_pdf_hold_the_same_rows(sqlite_db: DbFactory, tmp_path: Path) -> None:
    import openpyxl

    rows = [
        {**api_row(i, status=(200, 500)[i % 2], url=f"/v2/Api/Thing{i % 7}"), "id": 100_000 + i} for i in range(1, 121)
    ]
    with open_source(sqlite_db.create({"api": rows})) as source:
        query = LogQuery(
            source.log("api"),
            Filter((parse_condition("status=500"),)),
            Sort("url", False),
            ["id", "url", "status", "date"],
        )
        csv_ids = [row[0] for row in csv.reader(io.StringIO(to_text(query, "csv"), newline=""))][1:]
        export(query, "xlsx", tmp_path / "same.xlsx")
        xlsx_ids = [
            str(r[0])
            for r in openpyxl.load_workbook(tmp_path / "same.xlsx").worksheets[0].iter_rows(min_row=2, values_only=True)
        ]
        assert export(query, "pdf", tmp_path / "same.pdf", pdf_writer=write_pdf) == len(csv_ids) == 60
    pdf_ids = re.findall(r"\b100\d{3}\b", " ".join(pages_text(tmp_path / "same.pdf")))
    assert csv_ids == xlsx_ids == pdf_ids


def test_masking_and_the_chart(sqlite_db: DbFactory, tmp_path: Path) -> None:
    rows = [panel_row(i, email=f"person{i}@example.com", remote_ip="83.24.121.131") for i in range(1, 6)]
    image = QImage(600, 150, QImage.Format.Format_RGB32)
    image.fill(QColor("#4c78a8"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # PySide6 takes the format as str; its stubs say bytes
    with open_source(sqlite_db.create({"panel": rows})) as source:
        query = LogQuery(source.log("panel"), columns=["id", "email", "remote_ip"])
        report = build_report(
            query, ReportOptions(mask=True, include_chart=True), chart_png=bytes(buffer.data().data())
        )
        write_pdf(report, tmp_path / "masked.pdf")
        unmasked = build_report(query, ReportOptions(include_chart=False), chart_png=b"ignored")
        assert unmasked.chart_png is None
    text = pages_text(tmp_path / "masked.pdf")[0]
    assert "pe***@example.com" in text and "83.24.*.*" in text and "person1" not in text
    assert "Personal data partly hidden" in text
    assert len(PdfReader(tmp_path / "masked.pdf").pages[0].images) == 1


def test_cancelling_leaves_no_file(demo: Source, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.pdf").write_bytes(b"%PDF earlier")
    report = build_report(LogQuery(demo.log("api")), ReportOptions())
    seen: list[int] = []
    with pytest.raises(QueryCancelled):
        write_pdf(
            report, out / "new.pdf", progress=lambda page, _total: seen.append(page), cancelled=lambda: bool(seen)
        )
    with pytest.raises(QueryCancelled):
        write_pdf(report, out / "earlier.pdf", cancelled=lambda: True)
    assert seen == [1]
    assert leftovers(out) == ["earlier.pdf"] and (out / "earlier.pdf").read_bytes() == b"%PDF earlier"
    # A cancelled database read stops it the same way.
    assert report.token is not None
    report.token.cancel()
    with pytest.raises(QueryCancelled):
        write_pdf(report, out / "new.pdf")
    assert leftovers(out) == ["earlier.pdf"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this system has no FIFOs (named pipes)")
def test_a_pdf_reaches_a_fifo_whole_and_a_link_stays_a_link(demo: Source, tmp_path: Path) -> None:
    """Qt's PDF writer needs a real file: the PDF is made privately, then copied into the FIFO."""
    out = tmp_path / "out"
    out.mkdir()
    fifo = out / "pipe"
    os.mkfifo(fifo)
    reader = PipeReader.fifo(fifo)
    query = LogQuery(demo.log("api"), Filter((parse_condition("status>=500"),)))
    assert export(query, "pdf", fifo, limit=15, pdf_writer=write_pdf) == 15
    received = tmp_path / "received.pdf"
    received.write_bytes(reader.finish())
    assert "Page 1 of" in pages_text(received)[0]
    assert os.path.exists(fifo) and not fifo.is_file()  # still the FIFO
    target = tmp_path / "kept" / "report.pdf"
    target.parent.mkdir()
    (out / "latest.pdf").symlink_to(target)
    export(query, "pdf", out / "latest.pdf", limit=15, pdf_writer=write_pdf)
    assert (out / "latest.pdf").is_symlink() and "Page 1 of" in pages_text(target)[0]
    assert leftovers(out) == ["latest.pdf", "pipe"] and leftovers(target.parent) == ["report.pdf"]


def test_the_cli_writes_a_pdf_report(demo_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "logins.pdf"
    code = main(
        [
            "export",
            str(demo_path),
            "--log",
            "logins",
            "--where",
            "login=failed",
            "--format",
            "pdf",
            "--title",
            "Failed logins <June>",
            "--landscape",
            "--mask",
            "--tz",
            "Europe/Warsaw",
            "--sign-off",
            "Checked by J. Smith",
            "--limit",
            "30",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "wrote 30 rows" in capsys.readouterr().err
    texts = pages_text(out)
    assert is_landscape(out)
    assert texts[0].startswith("Failed logins <June>")
    assert 'Login is "failed"' in texts[0] and "Europe/Warsaw" in texts[0]
    assert "Checked by J. Smith" in texts[-1] and f"Page {len(texts)} of {len(texts)}" in texts[-1]
    assert not re.search(r"[a-z]{3,}\.[a-z]+@", " ".join(texts))  # no whole e-mail address
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(demo_path), "--log", "api", "--format", "pdf", "--portrait", "--landscape", "-o", str(out)])
    assert exit_info.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_an_interrupted_cli_pdf_leaves_no_file(demo_path: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    def interrupted(self: Report, limit: int | None = None):
        yield ["1"]
        raise KeyboardInterrupt

    monkeypatch.setattr(Report, "rows", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", str(demo_path), "--log", "api", "--format", "pdf", "-o", str(out / "a.pdf")]) == 1
    assert "interrupted" in capsys.readouterr().err
    assert leftovers(out) == []


SCRIPT = """
import os, sys
from auditviewer.data.export import export
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from auditviewer.qt.report.painter import write_pdf
with open_source(sys.argv[1]) as source:
    export(LogQuery(source.log("api")), "pdf", sys.argv[2], limit=30, pdf_writer=write_pdf)
from PySide6.QtGui import QGuiApplication
print(QGuiApplication.platformName(), "PySide6.QtWidgets" in sys.modules, "PySide6.QtPrintSupport" in sys.modules)
"""


def test_pdfs_need_no_widgets_and_no_display(demo_path: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(demo_path), str(tmp_path / "x.pdf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["offscreen", "False", "False"]
    assert len(PdfReader(tmp_path / "x.pdf").pages) >= 1
