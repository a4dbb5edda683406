"""The sources a window has open, by key: the one list every part of the window reads.

Whoever opens a source (:mod:`auditviewer.qt.widgets.source_opener`) adds it here;
the window, the saved views and the reports read it; closing one here tells
everyone (``closing``) before its connection closes, so no tab queries a closed
source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from auditviewer.data.source import Source

log = logging.getLogger(__name__)


class OpenSources(QObject):
    """Open sources in the order they were opened; closes each one it is given."""

    #: A source was added (its key).
    opened = Signal(str)
    #: A source is about to close (its key): let go of it now; its connection closes right after.
    closing = Signal(str)
    #: A source was closed (its key).
    closed = Signal(str)
    #: Someone asked to show this source to the user (its key), e.g. when it was opened a second time.
    selectRequested = Signal(str)

    def __init__(self, focus: Callable[[], str | None] | None = None, parent: QObject | None = None) -> None:
        """``focus`` says which source the user is working with (a key, or None when the window cannot tell)."""
        super().__init__(parent)
        self._sources: dict[str, Source] = {}
        self._focus = focus

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, key: object) -> bool:
        return key in self._sources

    def all(self) -> list[Source]:
        return list(self._sources.values())

    def get(self, key: str) -> Source | None:
        return self._sources.get(key)

    def current(self) -> Source | None:
        """The source the user is working with (as the window tells), else the first one opened."""
        key = self._focus() if self._focus is not None else None
        if key is not None and key in self._sources:
            return self._sources[key]
        return next(iter(self._sources.values()), None)

    def add(self, source: Source) -> Source:
        """Keep an opened source (its key must be new); closing it is now this list's job."""
        if source.key in self._sources:
            raise ValueError(f"{source.key} is open already")
        self._sources[source.key] = source
        log.info("opened %s", source.key)
        self.opened.emit(source.key)
        return source

    def select(self, key: str) -> None:
        """Show an open source to the user (the window selects it in its tree)."""
        if key in self._sources:
            self.selectRequested.emit(key)

    def close(self, key: str) -> bool:
        """Close a source: ``closing`` first (tabs stop their queries), then its connection, then ``closed``."""
        source = self._sources.pop(key, None)
        if source is None:
            return False
        self.closing.emit(key)
        source.close()
        log.info("closed %s", key)
        self.closed.emit(key)
        return True

    def close_all(self) -> None:
        """Close every source without a word to anyone (the window is going away)."""
        sources, self._sources = list(self._sources.values()), {}
        for source in sources:
            source.close()
