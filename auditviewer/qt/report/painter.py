"""Drawing a :class:`Report` onto pages: PDF files, printers, the print preview.

Every row is one line of a fixed height and a long cell is elided ("…")
within its column, never drawn into the next one. So the pages are known
before the first is drawn: page 1 holds the facts block and as many rows as
fit under it, every later page the same number of rows. That is what makes
"Page X of Y" exact without reading the rows twice, and lets 100,000 rows
stream through in constant memory.

Sizes are in points (1/72 inch). Fonts are sized in pixels of a painter
scaled to 10 units per point, so text measures the same on a 72-dpi preview,
a 1200-dpi printer and a PDF, and the layout planned before a device exists
is the layout drawn. Text is always drawn with ``drawText``: a value holding
HTML prints as the characters it is.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QFile, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from auditviewer import __version__
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.logtypes import Kind
from auditviewer.data.outfile import atomic_path
from auditviewer.data.report import Report

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (page done, pages)
Cancelled = Callable[[], bool]

U = 10.0  # painter units per point
FAMILIES = ["Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans Condensed", "DejaVu Sans"]
PAGE_SIZE = QPageSize.PageSizeId.A4
MARGINS = QMarginsF(30, 28, 30, 24)  # left, top, right, bottom (pt)
BODY_PT = 7.5
FONT_STEPS = (7.5, 7.0, 6.5, 6.0)  # smaller type before columns become unreadably narrow
ROW_FACTOR = 1.55  # row height / body line height
PAD = 3.0  # cell padding, left and right (pt)
MAX_CELL_CHARS = 400  # more can never show in one line of a column
MIN_FLEX = 40.0  # the narrowest a text column is made (pt)

INK = QColor("#1f2933")
MUTED = QColor("#52606d")
RULE = QColor("#9aa5b1")
ACCENT = QColor("#2f5d8a")
HEADER_FILL = QColor("#e4e9f0")
ZEBRA = QColor("#f4f6f9")

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_app: QGuiApplication | None = None


# -- an application to draw with -------------------------------------------------------------------


def ensure_gui_app() -> QGuiApplication:
    """The running QGuiApplication, or one made now (offscreen when there is no display)."""
    global _app
    existing = QGuiApplication.instance()
    if existing is not None:
        if not isinstance(existing, QGuiApplication):
            raise RuntimeError("drawing a report needs a QGuiApplication, and a QCoreApplication is running")
        return existing
    if (
        (sys.platform.startswith("linux") or "bsd" in sys.platform)
        and "QT_QPA_PLATFORM" not in os.environ
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    qInstallMessageHandler(_qt_message)
    _app = QGuiApplication([sys.argv[0] if sys.argv and sys.argv[0] else "auditviewer"])
    return _app


def _qt_message(kind: QtMsgType, _context: object, message: str) -> None:
    """Qt's own chatter goes to the log, not to a command-line user's terminal."""
    level = logging.WARNING if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) else logging.DEBUG
    log.log(level, "Qt: %s", message)


# -- fonts and text ----------------------------------------------------------------------------------


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(FAMILIES)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPixelSize(max(1, round(points * U)))
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setKerning(True)
    font.setBold(bold)
    if hasattr(font, "setFeature"):  # Qt 6.6+: no "fi" ligatures, so a PDF search for "Firefox" finds it
        for tag in ("liga", "clig"):
            font.setFeature(QFont.Tag(tag), 0)
    return font


def flatten(text: str) -> str:
    """One line of at most MAX_CELL_CHARS: line breaks and control characters become spaces."""
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    return _CONTROL.sub(" ", text) if _CONTROL.search(text) else text


@dataclass
class _Fonts:
    title: QFont
    small: QFont
    small_bold: QFont
    body: QFont
    head: QFont

    @classmethod
    def at(cls, body_pt: float) -> _Fonts:
        return cls(_font(12.5, True), _font(7.5), _font(7.5, True), _font(body_pt), _font(body_pt, True))


# -- layout -------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """Where everything goes, in points, for one report on one page size and orientation."""

    orientation: QPageLayout.Orientation
    width: float  # of the paint area (inside the margins)
    height: float
    body_pt: float
    widths: list[float]  # of each column
    right_aligned: list[bool]
    header_lines: int  # the column header row: 1, or 2 when a label wraps
    row_height: float
    header_height: float  # the band at the top of every page
    footer_height: float
    facts: list[tuple[str, str, float]]  # (label, text, height) on page 1
    chart_height: float
    closing_height: float  # "End of report" and the sign-off, after the last row
    rows_first: int  # rows on page 1
    rows_other: int  # rows on every later page
    row_count: int

    @property
    def column_header_height(self) -> float:
        return self.row_height + (self.header_lines - 1) * self.body_pt * 1.2

    @property
    def facts_height(self) -> float:
        return sum(h for _, _, h in self.facts) + (8.0 if self.facts else 0.0)

    @property
    def table_top(self) -> float:
        return self.header_height

    def first_table_top(self) -> float:
        return self.header_height + self.facts_height + self.chart_height

    def pages(self) -> int:
        """Pages of the report, the closing block included."""
        pages, last_rows = self._table_pages()
        space = self._space_after(pages, last_rows)
        return pages + (0 if space >= self.closing_height else 1)

    def _table_pages(self) -> tuple[int, int]:
        """(pages holding rows, or page 1 alone; rows on the last of them)."""
        n = self.row_count
        if n <= self.rows_first:
            return 1, n
        rest = n - self.rows_first
        more = math.ceil(rest / self.rows_other)
        return 1 + more, rest - (more - 1) * self.rows_other

    def _space_after(self, page: int, rows: int) -> float:
        top = self.first_table_top() if page == 1 else self.table_top
        used = (self.column_header_height if rows else 0.0) + rows * self.row_height
        return self.height - self.footer_height - top - used


def page_size_points(orientation: QPageLayout.Orientation, size: QPageSize | None = None) -> QSizeF:
    size = size or QPageSize(PAGE_SIZE)
    points = size.size(QPageSize.Unit.Point)
    if orientation == QPageLayout.Orientation.Landscape:
        return QSizeF(max(points.width(), points.height()), min(points.width(), points.height()))
    return QSizeF(min(points.width(), points.height()), max(points.width(), points.height()))


@dataclass
class _Measure:
    """Per column, in points at the body size: what its cells and its header need."""

    natural: list[float]  # shows every sampled cell whole (the header may wrap onto two lines)
    least: list[float]  # the longest word of the header
    full: list[float]  # the header on one line
    fixed: list[bool]  # never elided: numbers, dates, short text

    def scaled(self, scale: float) -> _Measure:
        return _Measure(
            [w * scale for w in self.natural],
            [w * scale for w in self.least],
            [w * scale for w in self.full],
            self.fixed,
        )


def _measure(report: Report, sample: Sequence[Sequence[str]]) -> _Measure:
    fonts = _Fonts.at(BODY_PT)
    body = QFontMetricsF(fonts.body)
    head = QFontMetricsF(fonts.head)
    m = _Measure([], [], [], [])
    for i, column in enumerate(report.columns):
        cells = [body.horizontalAdvance(flatten(row[i])) for row in sample if row[i]]
        need = max(cells, default=0.0) / U
        words = max((head.horizontalAdvance(w) for w in column.label.split()), default=0.0) / U
        full = head.horizontalAdvance(column.label) / U
        m.natural.append(max(need, words) + 2 * PAD)
        m.least.append(words + 2 * PAD)
        m.full.append(max(need, full) + 2 * PAD)
        # Numbers and dates are never elided; short text (methods, statuses) neither.
        m.fixed.append(column.kind in (Kind.INT, Kind.DATETIME) or need <= 60.0)
    return m


def _fit(m: _Measure, width: float) -> list[float] | None:
    """Column widths filling ``width``; None when even the fixed columns do not fit."""
    natural, fixed = m.natural, m.fixed
    if not natural:
        return []
    total = sum(natural)
    if total <= width:
        widths = list(natural)
        extra = width - total
        # Spare room first keeps headers on one line (smallest need first), then widens the text columns.
        for i in sorted(range(len(widths)), key=lambda k: m.full[k] - widths[k]):
            grow_by = min(max(m.full[i] - widths[i], 0.0), extra)
            widths[i] += grow_by
            extra -= grow_by
        grow = [i for i, f in enumerate(fixed) if not f] or list(range(len(widths)))
        weight = sum(widths[i] for i in grow) or 1.0
        return [w + (extra * w / weight if i in grow else 0.0) for i, w in enumerate(widths)]
    fixed_total = sum(natural[i] for i, f in enumerate(fixed) if f)
    flex = [i for i, f in enumerate(fixed) if not f]
    room = width - fixed_total
    if room < MIN_FLEX * len(flex) or (not flex and fixed_total > width):
        return None
    widths = [natural[i] if fixed[i] else 0.0 for i in range(len(natural))]
    # Water-filling: the narrowest text columns keep their width, the widest share what is left.
    left = len(flex)
    for i in sorted(flex, key=lambda k: natural[k]):
        share = room / left
        widths[i] = max(min(natural[i], share), MIN_FLEX)
        room -= widths[i]
        left -= 1
    return widths


def choose_orientation(
    report: Report,
    size: QPageSize | None = None,
    margins: QMarginsF = MARGINS,
    sample: Sequence[Sequence[str]] | None = None,
) -> QPageLayout.Orientation:
    """The report's orientation: as asked, or with "auto" portrait unless the columns need landscape."""
    wanted = report.options.orientation
    if wanted == "landscape":
        return QPageLayout.Orientation.Landscape
    if wanted == "portrait":
        return QPageLayout.Orientation.Portrait
    sample = report.sample() if sample is None else sample
    portrait = page_size_points(QPageLayout.Orientation.Portrait, size)
    fits = sum(_measure(report, sample).natural) <= portrait.width() - margins.left() - margins.right()
    return QPageLayout.Orientation.Portrait if fits else QPageLayout.Orientation.Landscape


def plan_layout(
    report: Report,
    size: QPageSize | None = None,
    margins: QMarginsF = MARGINS,
    orientation: QPageLayout.Orientation | None = None,
    sample: Sequence[Sequence[str]] | None = None,
) -> Layout:
    """Measure the columns on a sample of rows and lay the report out on a page of ``size``.

    ``orientation`` None follows the report's options (see :func:`choose_orientation`).
    """
    sample = report.sample() if sample is None else sample
    if orientation is None:
        orientation = choose_orientation(report, size, margins, sample)
    page = page_size_points(orientation, size)
    return layout_for_area(
        report,
        orientation,
        page.width() - margins.left() - margins.right(),
        page.height() - margins.top() - margins.bottom(),
        sample,
    )


def layout_for_area(
    report: Report, orientation: QPageLayout.Orientation, width: float, height: float, sample: Sequence[Sequence[str]]
) -> Layout:
    """Columns fitted to a paint area of ``width`` x ``height`` points: smaller type only if they must."""
    measure = _measure(report, sample)
    for body_pt in FONT_STEPS:
        widths = _fit(measure.scaled(body_pt / BODY_PT), width)
        if widths is not None:
            return _layout(report, orientation, width, height, body_pt, widths)
    # More columns than any page holds: share the width evenly, eliding what must be.
    count = max(len(report.columns), 1)
    return _layout(report, orientation, width, height, FONT_STEPS[-1], [width / count] * len(report.columns))


def _layout(
    report: Report,
    orientation: QPageLayout.Orientation,
    width: float,
    height: float,
    body_pt: float,
    widths: list[float],
) -> Layout:
    fonts = _Fonts.at(body_pt)
    row_height = round(QFontMetricsF(fonts.body).lineSpacing() / U * ROW_FACTOR, 2)
    chart_height = _chart_height(report, width, height)
    layout = Layout(
        orientation=orientation,
        width=width,
        height=height,
        body_pt=body_pt,
        widths=widths,
        right_aligned=[c.kind is Kind.INT for c in report.columns],
        header_lines=_header_lines(report, widths, QFontMetricsF(fonts.head)),
        row_height=row_height,
        header_height=40.0,
        footer_height=18.0,
        facts=_fact_lines(report, width, QFontMetricsF(fonts.small)),
        chart_height=chart_height,
        closing_height=22.0 + (52.0 if report.options.sign_off else 0.0),
        rows_first=0,
        rows_other=1,
        row_count=report.row_count,
    )
    body_height = height - layout.header_height - layout.footer_height
    layout.rows_other = max(1, int((body_height - layout.column_header_height) // row_height))
    first_room = body_height - layout.facts_height - chart_height - layout.column_header_height
    layout.rows_first = max(0, int(first_room // row_height))
    return layout


def _header_lines(report: Report, widths: list[float], head: QFontMetricsF) -> int:
    """Two lines for the column headers when a label is wider than its column, else one."""
    too_wide = any(
        head.horizontalAdvance(c.label) / U > w - 2 * PAD for c, w in zip(report.columns, widths, strict=True)
    )
    return 2 if too_wide else 1


def _fact_lines(report: Report, width: float, small: QFontMetricsF) -> list[tuple[str, str, float]]:
    """The first page's facts (label, text, height), the text wrapped beside its label."""
    label_width = 62.0
    facts = []
    for label, text in report.facts():
        box = small.boundingRect(QRectF(0, 0, (width - label_width) * U, 1e6), int(Qt.TextFlag.TextWordWrap), text)
        facts.append((label, text, box.height() / U + 2.5))
    return facts


def _chart_height(report: Report, width: float, height: float) -> float:
    """Room for the chart on page 1: the page's width at the image's proportions, at most 30% of the page."""
    if not report.chart_png:
        return 0.0
    image = chart_image(report.chart_png)
    if image.isNull() or image.width() <= 0:
        return 0.0
    return min(width * image.height() / image.width(), height * 0.3) + 8.0


def set_up_page(
    device: QPagedPaintDevice, report: Report, sample: Sequence[Sequence[str]] | None = None
) -> QPageLayout.Orientation:
    """Give a PDF writer or printer the report's orientation and margins (its paper size stays)."""
    orientation = choose_orientation(report, device.pageLayout().pageSize(), MARGINS, sample)
    device.setPageOrientation(orientation)
    device.setPageMargins(MARGINS, QPageLayout.Unit.Point)
    return orientation


# -- drawing ---------------------------------------------------------------------------------------------


class _Pen:
    """Drawing helpers over a painter in points."""

    def __init__(self, painter: QPainter, fonts: _Fonts) -> None:
        self.p = painter
        self.fonts = fonts
        self.metrics = {
            id(f): QFontMetricsF(f) for f in (fonts.title, fonts.small, fonts.small_bold, fonts.body, fonts.head)
        }

    def text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        font: QFont,
        color: QColor = INK,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        elide: bool = True,
        wrap: bool = False,
    ) -> None:
        self.p.setFont(font)
        self.p.setPen(color)
        rect = QRectF(x * U, y * U, w * U, h * U)
        if wrap:
            flags = int(align) | int(Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)
            self.p.drawText(rect, flags, text)
            return
        if elide:
            text = self.metrics[id(font)].elidedText(text, Qt.TextElideMode.ElideRight, w * U)
        self.p.drawText(rect, int(align) | int(Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextSingleLine), text)

    def fill(self, x: float, y: float, w: float, h: float, color: QColor) -> None:
        self.p.fillRect(QRectF(x * U, y * U, w * U, h * U), color)

    def line(self, x1: float, y1: float, x2: float, y2: float, color: QColor, width: float = 0.5) -> None:
        pen = QPen(color)
        pen.setWidthF(width * U)
        self.p.setPen(pen)
        self.p.drawLine(QPointF(x1 * U, y1 * U), QPointF(x2 * U, y2 * U))


def paint_report(
    report: Report,
    device: QPagedPaintDevice,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    *,
    page_setup: bool = True,
) -> int:
    """Draw the whole report on ``device`` (a QPdfWriter, a QPrinter); returns the pages drawn.

    With ``page_setup`` the device gets the report's orientation and margins
    first; without, the page the user chose in a print dialog is kept and the
    columns are fitted to it. Raises QueryCancelled when ``cancelled()``
    turns true or the report's token is cancelled (the device then holds the
    pages drawn so far).
    """
    sample = report.sample()
    if page_setup:
        set_up_page(device, report, sample)
    page_layout = device.pageLayout()
    area = page_layout.paintRect(QPageLayout.Unit.Point)
    layout = layout_for_area(report, page_layout.orientation(), area.width(), area.height(), sample)
    pages = layout.pages()
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("cannot draw on the output device (is the file writable, the printer ready?)")
    try:
        _draw(painter, device, report, layout, pages, progress, cancelled)
    except BaseException:
        abort = getattr(device, "abort", None)  # a QPrinter: drop the job rather than print half of it
        if callable(abort):
            abort()
        raise
    finally:
        painter.end()
    return pages


def _draw(
    painter: QPainter,
    device: QPagedPaintDevice,
    report: Report,
    layout: Layout,
    pages: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    _PageWriter(painter, device, report, layout, pages, progress, cancelled).draw()


class _PageWriter:
    """Draws a report's pages in order: frame, the first page's block, rows under column headers, closing."""

    def __init__(
        self,
        painter: QPainter,
        device: QPagedPaintDevice,
        report: Report,
        layout: Layout,
        pages: int,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> None:
        self.painter, self.device, self.report, self.layout = painter, device, report, layout
        self.pages, self.progress, self.cancelled = pages, progress, cancelled
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self.base = painter.transform()
        self.scale = device.logicalDpiX() / 72.0 / U
        self.fonts = _Fonts.at(layout.body_pt)
        self.pen = _Pen(painter, self.fonts)
        self.xs = [0.0]  # where each column starts
        for w in layout.widths:
            self.xs.append(self.xs[-1] + w)
        self.page = 1

    def draw(self) -> None:
        layout, report = self.layout, self.report
        y = self._start_page()
        if layout.rows_first and report.row_count:
            y = self._column_header(y)
        y, drawn = self._rows(y)
        if drawn != report.row_count:
            log.warning("the report counted %d rows but read %d", report.row_count, drawn)
        self._stop()
        if self.page < self.pages:  # the closing block did not fit under the last row (Layout.pages said so)
            y = self._next_page()
        _closing(self.pen, report, layout, y, drawn)
        if self.progress is not None:
            self.progress(self.pages, self.pages)

    def _stop(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise QueryCancelled("the report was cancelled")

    def _start_page(self) -> float:
        """Frame the page; returns where its table starts (below the facts and chart on page 1)."""
        if self.page > 1:
            self.device.newPage()
        self.painter.setTransform(self.base)
        self.painter.scale(self.scale, self.scale)
        _page_frame(self.pen, self.report, self.layout, self.page, self.pages)
        y = self.layout.table_top
        if self.page == 1:
            y = _first_page_block(self.pen, self.report, self.layout, y)
        return y

    def _next_page(self) -> float:
        if self.progress is not None:
            self.progress(self.page, self.pages)
        self.page += 1
        return self._start_page()

    def _column_header(self, y: float) -> float:
        layout, pen, fonts, xs = self.layout, self.pen, self.fonts, self.xs
        h = layout.column_header_height
        pen.fill(0, y, layout.width, h, HEADER_FILL)
        for i, column in enumerate(self.report.columns):
            align = Qt.AlignmentFlag.AlignRight if layout.right_aligned[i] else Qt.AlignmentFlag.AlignLeft
            width = layout.widths[i] - 2 * PAD
            if layout.header_lines > 1:
                pen.text(xs[i] + PAD, y + 2.0, width, h - 3.0, column.label, fonts.head, INK, align, wrap=True)
            else:
                pen.text(xs[i] + PAD, y, width, h, column.label, fonts.head, INK, align)
        pen.line(0, y + h, layout.width, y + h, RULE, 0.6)
        return y + h

    def _rows(self, y: float) -> tuple[float, int]:
        """Every row, a new page (with its column header) whenever one is full; returns (y, rows drawn)."""
        layout, painter, fonts, xs = self.layout, self.painter, self.fonts, self.xs
        cell_flags = int(Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextSingleLine)
        left, right = int(Qt.AlignmentFlag.AlignLeft), int(Qt.AlignmentFlag.AlignRight)
        elide = QFontMetricsF(fonts.body).elidedText
        widths_u = [(w - 2 * PAD) * U for w in layout.widths]
        row_h = layout.row_height
        capacity, on_page, drawn = layout.rows_first, 0, 0
        for row in self.report.rows():
            if on_page == capacity:
                self._stop()
                y = self._column_header(self._next_page())
                capacity, on_page = layout.rows_other, 0
            if on_page % 2 == 1:
                self.pen.fill(0, y, layout.width, row_h, ZEBRA)
            painter.setFont(fonts.body)
            painter.setPen(INK)
            for i, value in enumerate(row):
                if not value:
                    continue
                text = elide(flatten(value), Qt.TextElideMode.ElideRight, widths_u[i])
                painter.drawText(
                    QRectF((xs[i] + PAD) * U, y * U, widths_u[i], row_h * U),
                    cell_flags | (right if layout.right_aligned[i] else left),
                    text,
                )
            y += row_h
            on_page += 1
            drawn += 1
        return y, drawn


def _page_frame(pen: _Pen, report: Report, layout: Layout, page: int, pages: int) -> None:
    """The band at the top and the footer at the bottom of every page."""
    fonts = pen.fonts
    w = layout.width
    pen.text(0, 0, w * 0.72, 18, report.title, fonts.title, INK)
    pen.text(w * 0.72, 2, w * 0.28, 16, report.source_name, fonts.small, MUTED, Qt.AlignmentFlag.AlignRight)
    pen.text(
        0,
        18,
        w * 0.6,
        12,
        f"{report.log_label} · {report.row_count:,} rows · times in {report.zone_name}",
        fonts.small,
        MUTED,
    )
    pen.text(
        w * 0.6, 18, w * 0.4, 12, f"Generated {report.generated_text}", fonts.small, MUTED, Qt.AlignmentFlag.AlignRight
    )
    pen.line(0, 33, w, 33, ACCENT, 1.0)
    bottom = layout.height - layout.footer_height
    pen.line(0, bottom + 5, w, bottom + 5, RULE, 0.4)
    evidence = f"SHA-256 {report.sha256}" if report.sha256 else "server database"
    pen.text(0, bottom + 6, w * 0.75, 12, f"{report.source_name} · {evidence}", fonts.small, MUTED)
    pen.text(
        w * 0.75,
        bottom + 6,
        w * 0.25,
        12,
        f"Page {page} of {pages}",
        fonts.small_bold,
        INK,
        Qt.AlignmentFlag.AlignRight,
    )


def chart_image(png: bytes) -> QImage:
    """Decode the chart with the PNG reader named outright.

    Reports are painted on a worker thread. Left to guess the format, Qt asks
    every image plugin, and the SVG plugin connects signals under Qt's global
    lock while this thread holds Python's; a GUI thread destroying widgets at
    that moment holds the one and waits for the other: a deadlock.
    """
    return QImage.fromData(png, "PNG")  # type: ignore[arg-type]  # PySide6 takes the format as str; its stubs say bytes


def _first_page_block(pen: _Pen, report: Report, layout: Layout, y: float) -> float:
    """The facts (filters in plain words, rows, zone, source and its SHA-256) and the chart."""
    fonts = pen.fonts
    label_width = 62.0
    for label, text, height in layout.facts:
        pen.text(0, y, label_width, height, label, fonts.small_bold, MUTED, wrap=True)
        pen.text(label_width, y, layout.width - label_width, height, text, fonts.small, INK, wrap=True)
        y += height
    y += 8.0
    if layout.chart_height and report.chart_png:
        image = chart_image(report.chart_png)
        h = layout.chart_height - 8.0
        w = min(layout.width, h * image.width() / max(image.height(), 1))
        pen.p.drawImage(QRectF(0, y * U, w * U, h * U), image)
        y += layout.chart_height
    return y


def _closing(pen: _Pen, report: Report, layout: Layout, y: float, drawn: int) -> None:
    fonts = pen.fonts
    y += 8.0
    if drawn:
        pen.text(
            0, y, layout.width, 12, f"End of report: {drawn:,} row{'s' if drawn != 1 else ''}.", fonts.small, MUTED
        )
    else:
        pen.text(0, y, layout.width, 12, "No rows match the filters.", fonts.small_bold, INK)
    y += 14.0
    if report.options.sign_off:
        y += 8.0
        pen.text(0, y, layout.width, 12, report.options.sign_off, fonts.small_bold, INK)
        y += 26.0
        third = layout.width / 3
        pen.line(0, y, third * 1.6, y, INK, 0.5)
        pen.line(third * 2, y, layout.width, y, INK, 0.5)
        pen.text(0, y + 1, third * 1.6, 10, "Signature", fonts.small, MUTED)
        pen.text(third * 2, y + 1, third, 10, "Date", fonts.small, MUTED)


# -- PDF files --------------------------------------------------------------------------------------------


def write_pdf(
    report: Report, path: str | os.PathLike[str], progress: Progress | None = None, cancelled: Cancelled | None = None
) -> int:
    """The report as an A4 PDF at ``path``; returns its pages. Appears only when complete."""
    ensure_gui_app()
    with atomic_path(path) as temp:
        file = QFile(str(temp))
        if not file.open(QIODevice.OpenModeFlag.WriteOnly | QIODevice.OpenModeFlag.Truncate):
            raise OSError(f"cannot write {path}: {file.errorString()}")
        try:
            writer = QPdfWriter(file)
            writer.setPageSize(QPageSize(PAGE_SIZE))
            writer.setResolution(600)
            writer.setTitle(report.title)
            writer.setCreator(f"auditviewer {__version__}")
            pages = paint_report(report, writer, progress, cancelled)
            del writer
        finally:
            file.close()
    return pages
