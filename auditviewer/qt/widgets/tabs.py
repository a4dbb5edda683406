"""What a tab of the main window is, declared once.

Every tab (:class:`Tab`) shows one source and tells the window its title and its
status-bar text; it follows the UTC switch, stops its queries on Esc or Stop,
and ends its worker lanes when closed. A tab of log rows (:class:`RowsTab`) can
also be saved as a view, take one, and ask for everything an e-mail address or
IP did. What a report can be made of is declared by :meth:`Tab.reportable`, not
guessed from the tab's attributes. The window makes log tabs through a
:class:`LogTabFactory` (the real :class:`~auditviewer.qt.widgets.log_tab.LogTab`
class, or a test's stand-in).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, Source
from auditviewer.data.views import SavedView
from auditviewer.qt.models.log_model import LogTableModel
from auditviewer.qt.models.settings import Settings

#: What identifies a tab in the window: (source key, what it shows, business unit).
TabKey = tuple[str, str, int | None]
#: The log key of a tab with everything one e-mail address or IP did, across logs.
ACTIVITY = "activity"


class ReportableTab(Protocol):
    """A tab whose rows a report can hold: the filtered, sorted rows and the columns it shows."""

    table: LogTable
    model: LogTableModel

    @property
    def zone(self) -> tzinfo: ...

    def title(self) -> str: ...

    def query(self) -> LogQuery | None: ...

    def visible_columns(self) -> list[str]: ...


class Tab(QWidget):
    """One page of the window's tabs, showing one source."""

    #: (count text, query time text, busy), for the status bar while the tab is the current one
    statusChanged = Signal(str, str, bool)

    def __init__(self, source: Source, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        #: The window's settings; a tab made on its own reads the program's.
        self.settings = settings if settings is not None else Settings()

    def title(self) -> str:
        raise NotImplementedError

    def tab_text(self, several_sources: bool) -> str:
        """The tab's label: its title, and which source it shows when the window has several."""
        return f"{self.title()} · {self.source.display_name}" if several_sources else self.title()

    def tab_tooltip(self) -> str:
        return f"{self.title()}\n{self.source.display_name}"

    def status(self) -> tuple[str, str, bool]:
        """(count text, query time text, busy), as ``statusChanged`` last said."""
        raise NotImplementedError

    def set_utc(self, utc: bool) -> None:
        """Show times in UTC, or in this computer's zone."""
        raise NotImplementedError

    def cancel_running(self) -> None:
        """Stop what the tab is computing (Esc, the Stop button)."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Stop every query and end the tab's worker lanes (the tab is closing)."""
        raise NotImplementedError

    def reportable(self) -> ReportableTab | None:
        """What File > Print and Export report on, or None for a tab without log rows (the default)."""
        return None


class RowsTab(Tab):
    """A tab of one log's rows (``log_key``), perhaps of one business unit; or, as ``ACTIVITY``, of one person's."""

    #: (role "email" | "ip", value): show everything this e-mail address or IP did
    activityRequested = Signal(str, str)

    def __init__(
        self,
        source: Source,
        log_key: str,
        business_unit: int | None = None,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(source, settings, parent)
        self.log_key = log_key
        self.business_unit = business_unit

    @property
    def saves_views(self) -> bool:
        """Whether File > Save view applies: a view is one log filtered; an activity tab spans logs."""
        return self.log_key != ACTIVITY

    def view_state(self, name: str) -> SavedView:
        """The tab's filters, sort and columns as a saved view called ``name``."""
        raise NotImplementedError

    def apply_view(self, view: SavedView) -> None:
        """Show the rows a saved view (or a finding's link) describes."""
        raise NotImplementedError


class LogTabFactory(Protocol):
    """Makes the tab of one log (the ``LogTab`` class is one); raises AuditViewerError when it cannot."""

    def __call__(
        self,
        source: Source,
        log_key: str,
        *,
        business_unit: int | None = None,
        utc: bool = True,
        parent: QWidget | None = None,
        table: LogTable | None = None,
        title: str | None = None,
        settings: Settings | None = None,
    ) -> RowsTab: ...
