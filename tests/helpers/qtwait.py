"""Waiting on a log tab as a user waits on it: counted, and its first rows on screen."""

from __future__ import annotations

from typing import Any


def wait_tab_ready(qtbot: Any, tab: Any, timeout: int = 10_000) -> None:
    """The tab's result is counted and its first row loaded (or the result is empty)."""
    qtbot.waitUntil(
        lambda: tab.model.total is not None and (tab.model.total == 0 or tab.model.row_values(0) is not None),
        timeout=timeout,
    )
