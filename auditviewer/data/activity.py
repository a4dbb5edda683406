"""One timeline of everything an e-mail or an IP did, across the logs.

The timeline is a UNION ALL of the panel, API and login logs, narrowed in
each branch to the e-mail or IP (so each branch can use its own index), and
dressed as a :class:`LogTable`: ``LogQuery`` pages, counts and filters it
like any other log, because it only ever reads ``table.table`` and
``table.sa_column``.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from auditviewer.data.errors import SchemaError
from auditviewer.data.logtypes import API, LOGINS, PANEL, ColumnSpec, Kind, LogType, Outcome, Role, Severity
from auditviewer.data.source import Column, LogTable, Source
from auditviewer.data.sqltyping import AnySelect
from auditviewer.data.timestamps import SqliteTextTimestamp

log = logging.getLogger(__name__)

#: The logs merged, in the order of their number in the synthetic id (row id * 4 + number).
ACTIVITY_LOGS = (PANEL, API, LOGINS)
ROLES = {"email": "email", "ip": "remote_ip"}

ACTIVITY = LogType(
    key="activity",
    table="activity",
    label="All activity",
    detail_title="Activity",
    description="Panel actions, API calls and login attempts of one e-mail or IP, newest first.",
    columns=(
        ColumnSpec(
            "id",
            "Timeline ID",
            Kind.INT,
            visible=False,
            help="Unique across the logs: the row's ID × 4 + the log's number",
        ),
        ColumnSpec("date", "Date", Kind.DATETIME, help="Time of the event (stored in UTC)"),
        ColumnSpec("log", "Log", choices=tuple(lt.label for lt in ACTIVITY_LOGS), help="The log the row is from"),
        ColumnSpec("row_id", "ID", Kind.INT, help="The row's own ID in its log"),
        ColumnSpec("email", "E-mail", required=False, role=Role.EMAIL),
        ColumnSpec("remote_ip", "Remote IP", required=False, role=Role.IP),
        ColumnSpec("url", "URL", required=False, role=Role.URL),
        ColumnSpec("method", "Method", required=False),
        ColumnSpec(
            "outcome",
            "Outcome",
            required=False,
            help="API: the HTTP status; logins: successful or failed; panel: the API method status",
        ),
    ),
    outcomes=(  # for marking rows; they do not cover every row
        Outcome("api_4xx", "API 4xx", Severity.WARNING, (f"log={API.label}", "outcome^=4"), "#eeca3b"),
        Outcome("panel_error", "Panel error", Severity.WARNING, (f"log={PANEL.label}", "outcome^=Error"), "#eeca3b"),
        Outcome("api_5xx", "API 5xx", Severity.ERROR, (f"log={API.label}", "outcome^=5"), "#e45756"),
        Outcome("login_failed", "Failed login", Severity.ERROR, (f"log={LOGINS.label}", "outcome=failed"), "#e45756"),
    ),
)

#: Where each timeline column comes from in each log (None: the log lacks it).
_OUTCOME_SOURCE = {PANEL.key: "api_method_status", API.key: "status", LOGINS.key: "login"}


def _text_or_null(table: LogTable, name: str | None) -> ColumnElement[Any]:
    if name is None or not table.has(name):
        return sa.cast(sa.null(), sa.String())
    column = table.column(name)
    assert column is not None
    expr = table.sa_column(name)
    return expr if column.kind is Kind.TEXT else sa.cast(expr, sa.String())


def _date_type(tables: list[LogTable]) -> tuple[sa.types.TypeEngine[Any], bool]:
    """One type for the merged dates, and whether SQLite text must be normalised first.

    SQLite files keep timestamps as text in the file's own form; should the logs
    disagree ("T" against " "), text order would mix them up, so each branch
    then rewrites its dates to "YYYY-MM-DD HH:MM:SS" before the union.
    """
    types = [t.sa_column(t.log_type.time_column).type for t in tables]
    texts = [t for t in types if isinstance(t, SqliteTextTimestamp)]
    if len(texts) < len(types):
        return types[0], False
    forms = {(t.sep, t.suffix) for t in texts}
    if len(forms) == 1:
        return types[0], False
    return SqliteTextTimestamp(" ", ""), True


def _branch(
    table: LogTable, number: int, field: str, value: str, date_type: sa.types.TypeEngine[Any], normalise: bool
) -> AnySelect:
    date: ColumnElement[Any] = table.sa_column(table.log_type.time_column)
    if normalise:
        text = sa.func.replace(sa.type_coerce(date, sa.String()), "T", " ")
        date = sa.func.replace(text, "Z", "")
    row_id = table.sa_column(table.log_type.id_column)
    return (
        sa.select(
            (row_id * 4 + number).label("id"),
            sa.type_coerce(date, date_type).label("date"),
            sa.cast(sa.literal(table.log_type.label), sa.String()).label("log"),
            row_id.label("row_id"),
            _text_or_null(table, "email").label("email"),
            _text_or_null(table, "remote_ip").label("remote_ip"),
            _text_or_null(table, "url").label("url"),
            _text_or_null(table, "method").label("method"),
            _text_or_null(table, _OUTCOME_SOURCE.get(table.log_type.key)).label("outcome"),
        )
        .select_from(table.table)
        .where(table.sa_column(field) == value)
    )


def activity_table(source: Source, role: str, value: str) -> LogTable:
    """Everything ``value`` (an e-mail or an IP, by ``role``) did, as one log to query."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    field = ROLES[role]
    value = value.strip()
    tables = [source.logs[lt.key] for lt in ACTIVITY_LOGS if lt.key in source.logs and source.logs[lt.key].has(field)]
    if not tables:
        what = "e-mail addresses" if role == "email" else "IP addresses"
        raise SchemaError(f"{source.display_name} has no log with {what} (panel, API or login logs)")
    date_type, normalise = _date_type(tables)
    branches = [_branch(t, ACTIVITY_LOGS.index(t.log_type), field, value, date_type, normalise) for t in tables]
    merged = (branches[0] if len(branches) == 1 else sa.union_all(*branches)).subquery("activity")
    log.debug("activity of %s %r over %s", role, value, ", ".join(t.db_name for t in tables))

    # Columns are nullable unless every branch fills them: the sort then needs no NULL handling.
    not_null = {
        "id": False,
        "log": False,
        "date": any(t.time.nullable for t in tables),
        "row_id": any(t.id.nullable for t in tables),
    }
    columns = [
        Column(spec.name, spec.name, spec, nullable=not_null.get(spec.name, True), indexed=False)
        for spec in ACTIVITY.columns
    ]
    return LogTable(log_type=ACTIVITY, db_name="activity", columns=columns, table=merged, source=source)
