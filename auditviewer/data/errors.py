"""Errors the data layer raises, each with a message fit for a user."""

from __future__ import annotations


class AuditViewerError(Exception):
    """Base for errors whose message can be shown to a user as it is."""


class SourceError(AuditViewerError):
    """A database cannot be opened or read: not a database, damaged, unreachable."""


class SchemaError(SourceError):
    """The database is readable but a log table lacks what the viewer needs."""


class UrlParameterError(SourceError):
    """A server URL has a parameter the driver does not take, or a value it cannot use."""


class FilterError(AuditViewerError, ValueError):
    """A filter names an unknown column or a value of the wrong kind."""


class QueryCancelled(AuditViewerError):
    """A running query was cancelled on request."""


class OutputError(AuditViewerError, OSError):
    """An output file that must not or cannot be written, found before any work starts."""
