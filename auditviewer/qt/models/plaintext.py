"""Text from the data, made safe for the places where Qt would read it as HTML.

Qt shows a tooltip (and a label, a message box...) as rich text when
``Qt.mightBeRichText`` thinks it looks like HTML. A user agent or a URL in an
exported log is written by whoever sent the request: as rich text, ``<b>`` would
be bold, and ``<img src="/path/of/a/fifo">`` would make the window read that
file when the tooltip shows, and hang. Every tooltip that may hold data goes
through :func:`plain_tooltip`; APIs that take only HTML (pyqtgraph's labels)
get :func:`html_text`.
"""

from __future__ import annotations

import html
import textwrap

from PySide6.QtGui import Qt

#: Keeps the text's own spaces and line breaks once it is rich text, as a plain tooltip shows them.
_PRE = "<p style='white-space:pre'>{}</p>"
#: A tooltip line longer than this is broken (a URL or a user agent has no spaces to wrap at).
LONG_LINE = 100


def html_text(text: str) -> str:
    """``text`` as HTML that shows exactly these characters (``&amp;`` shows as ``&amp;``)."""
    return html.escape(text, quote=True)


def plain_tooltip(text: str | None) -> str:
    """A tooltip that Qt shows as exactly ``text``, whatever markup the text holds.

    Lines longer than :data:`LONG_LINE` are broken there (only line breaks are
    added). Text Qt would take as plain is then returned as it is; text Qt
    would render as HTML is escaped inside a paragraph that keeps its white space.
    """
    if not text:
        return ""
    text = _broken(text)
    if not Qt.mightBeRichText(text):
        return text
    return _PRE.format(html_text(text))


def _broken(text: str) -> str:
    """``text`` with its long lines broken into lines of at most LONG_LINE characters, no character lost."""
    if len(text) <= LONG_LINE:
        return text
    lines: list[str] = []
    for line in text.split("\n"):
        lines += textwrap.wrap(
            line, LONG_LINE, expand_tabs=False, replace_whitespace=False, drop_whitespace=False, break_on_hyphens=False
        ) or [line]
    return "\n".join(lines)


def button_text(text: str, limit: int | None = None) -> str:
    """``text`` for a button, tab or menu entry: ``&`` is shown, not taken as a shortcut key.

    With ``limit``, a longer text is cut there and ends in "…" (the tooltip can say all of it).
    """
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("&", "&&")


def window_title(text: str) -> str:
    """``text`` for a window title: a ``[*]`` in it is shown, not taken as the "modified" mark."""
    return text.replace("[*]", "[*][*]")
