"""The four log types, described once.

Everything that shows, filters, exports or charts a log reads these
declarations: the table, the filter bar, the detail pane, reports and the CLI.
Adding a log type is one more ``LogType`` in ``LOG_TYPES``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Kind(enum.Enum):
    """How a column's values compare, sort and print."""

    INT = "int"
    TEXT = "text"
    DATETIME = "datetime"


class Role(enum.Enum):
    """What a column's values are, for masking, context menus and details."""

    PLAIN = "plain"
    EMAIL = "email"
    IP = "ip"
    PHONE = "phone"
    URL = "url"
    USER_AGENT = "user_agent"
    NAME = "name"  # a person's name


class Severity(enum.IntEnum):
    OK = 0
    WARNING = 1
    ERROR = 2


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = True
    role: Role = Role.PLAIN
    #: Values the column takes; filters check against them and fix their case.
    choices: tuple[str, ...] = ()
    #: Shown in the table by default (hidden ones still appear in the detail pane).
    visible: bool = True
    #: A short explanation shown in the detail pane and in tooltips.
    help: str = ""


@dataclass(frozen=True)
class Outcome:
    """A named slice of a log (e.g. "5xx"), for charts and row marking.

    ``where`` holds conditions in the filter language, joined by AND, so the
    same text drives SQL (charts, findings) and in-memory row marking.
    """

    key: str
    label: str
    severity: Severity
    where: tuple[str, ...]
    color: str


@dataclass(frozen=True)
class LogType:
    key: str
    table: str
    label: str
    columns: tuple[ColumnSpec, ...]
    #: What the detail pane is called ("Action details", "Login details").
    detail_title: str
    #: Mutually exclusive slices that cover the log, most severe last.
    outcomes: tuple[Outcome, ...] = ()
    time_column: str = "date"
    id_column: str = "id"
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def column(self, name: str) -> ColumnSpec | None:
        lowered = name.lower()
        for col in self.columns:
            if col.name == lowered:
                return col
        return None

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _common(*, id_label: str = "ID") -> tuple[ColumnSpec, ...]:
    return (
        ColumnSpec("id", id_label, Kind.INT),
        ColumnSpec("business_unit_id", "Business unit", Kind.INT, required=False, visible=False),
        ColumnSpec("date", "Date", Kind.DATETIME, help="Time of the event (stored in UTC)"),
    )


PANEL = LogType(
    key="panel",
    table="panel_logs",
    label="Panel logs",
    detail_title="Action details",
    description="Actions that users performed in the panel.",
    columns=(
        *_common(),
        ColumnSpec("url", "URL", role=Role.URL, help="Part of the panel where the action took place"),
        ColumnSpec(
            "method", "Method", choices=("GET", "POST"), help="GET only retrieved information; POST sent information"
        ),
        ColumnSpec("email", "E-mail", role=Role.EMAIL),
        ColumnSpec("remote_ip", "Remote IP", role=Role.IP),
        ColumnSpec("api_method_status", "API method status", required=False),
        ColumnSpec("user_agent", "Browser", required=False, role=Role.USER_AGENT, visible=False),
    ),
    outcomes=(
        Outcome("get", "GET", Severity.OK, ("method=GET",), "#4c78a8"),
        Outcome("post", "POST", Severity.OK, ("method!=GET",), "#f58518"),
    ),
    aliases=("panel_logs", "actions"),
)

API = LogType(
    key="api",
    table="api_logs",
    label="API logs",
    detail_title="API call details",
    description="Connections to the API. The content of calls is not stored anywhere.",
    columns=(
        *_common(),
        ColumnSpec("url", "URL", role=Role.URL),
        ColumnSpec("method", "Method", choices=("GET", "POST", "PUT", "DELETE")),
        ColumnSpec("status", "Status", Kind.INT, help="HTTP status code of the call"),
        ColumnSpec("remote_ip", "Remote IP", role=Role.IP),
    ),
    outcomes=(
        Outcome("ok", "2xx/3xx", Severity.OK, ("status<400",), "#54a24b"),
        Outcome("4xx", "4xx", Severity.WARNING, ("status>=400", "status<500"), "#eeca3b"),
        Outcome("5xx", "5xx", Severity.ERROR, ("status>=500",), "#e45756"),
    ),
    aliases=("api_logs",),
)

SMS = LogType(
    key="sms",
    table="sms_logs",
    label="SMS logs",
    detail_title="Send details",
    description="SMS and MMS messages sent.",
    columns=(
        *_common(id_label="Send ID"),
        ColumnSpec("message_id", "Message ID"),
        ColumnSpec("campaign_description", "Campaign"),
        ColumnSpec("subscriber_phone", "Subscriber phone", role=Role.PHONE),
        ColumnSpec("gateway_name", "Gateway"),
        ColumnSpec("error", "Error", required=False, help="Reason the send failed; empty when it did not"),
    ),
    outcomes=(
        Outcome("sent", "Sent", Severity.OK, ("error=",), "#54a24b"),
        Outcome("error", "Error", Severity.ERROR, ("error!=",), "#e45756"),
    ),
    aliases=("sms_logs",),
)

LOGINS = LogType(
    key="logins",
    table="user_logins",
    label="User logins",
    detail_title="Login details",
    description="Every successful and failed login attempt.",
    columns=(
        *_common(),
        ColumnSpec("name", "Name", role=Role.NAME),
        ColumnSpec("email", "E-mail", role=Role.EMAIL),
        ColumnSpec("login", "Login", choices=("successful", "failed"), help="Outcome of the login attempt"),
        ColumnSpec("successful_login_date", "Successful login date", Kind.DATETIME, required=False),
        ColumnSpec("last_failed_login_date", "Last failed login date", Kind.DATETIME, required=False),
        ColumnSpec("country", "Country", required=False),
        ColumnSpec("state", "State", required=False),
        ColumnSpec("city", "City", required=False),
        ColumnSpec("remote_ip", "Remote IP", role=Role.IP),
        ColumnSpec("user_agent", "Browser", required=False, role=Role.USER_AGENT, visible=False),
    ),
    outcomes=(
        Outcome("successful", "Successful", Severity.OK, ("login=successful",), "#54a24b"),
        Outcome("failed", "Failed", Severity.ERROR, ("login!=successful",), "#e45756"),
    ),
    aliases=("user_logins", "login", "logins"),
)

LOG_TYPES: tuple[LogType, ...] = (PANEL, API, SMS, LOGINS)


def log_type(key: str) -> LogType:
    """Find a log type by key, table name or alias (case-insensitive)."""
    wanted = key.strip().lower()
    for lt in LOG_TYPES:
        if wanted in (lt.key, lt.table, lt.label.lower(), *lt.aliases):
            return lt
    valid = ", ".join(lt.key for lt in LOG_TYPES)
    raise KeyError(f"unknown log type {key!r}; valid log types: {valid}")
