"""What a test reaches for in a widget must be there: else the test fails, saying what is missing."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

T = TypeVar("T")
W = TypeVar("W", bound=QObject)


def child(parent: QObject, kind: type[W], name: str) -> W:
    """The child of ``parent`` of this type and object name."""
    found = parent.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} named {name!r}"
    return found


def known(value: T | None) -> T:
    """A value the widget has by now (a count, a query, a row), never None."""
    assert value is not None, "the value is not there yet"
    return value
