"""What the detail pane says about one row, in plain words.

The pane shows what this module returns and nothing else, so every
explanation (browser, IP kind, status meaning, SMS error, login context) is
testable without Qt. Values are always plain text: nothing here is markup.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from http import HTTPStatus
from typing import Any

from ua_parser import parse as ua_parse  # its regexes load on the first parse, not here

from auditviewer.data.cancel import CancelToken
from auditviewer.data.filters import Condition, Filter, Sort
from auditviewer.data.logtypes import API, LOGINS, Role, Severity
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable
from auditviewer.data.timestamps import UTC, format_time, parse_stored

log = logging.getLogger(__name__)

#: Longer user agents are cut before parsing: the parser's regexes slow down on huge input.
UA_PARSE_LIMIT = 2048
NOT_RECORDED = "Not recorded"


@dataclass
class Field:
    label: str
    value: str
    copyable: bool = True
    severity: Severity | None = None
    #: EMAIL or IP: the pane offers "Show all activity" for the value.
    role: Role | None = None
    #: Shown in place of an empty value ("(empty)"), else as the label's tooltip.
    hint: str = ""


@dataclass
class Section:
    title: str
    fields: list[Field] = field(default_factory=list)


@dataclass
class LoginContext:
    #: (time, outcome, ip), newest first
    attempts: list[tuple[datetime, str, str]]
    failures_24h: int


# -- explanations usable on their own ---------------------------------------------

_PRIVATE_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_SHARED_NET = ipaddress.ip_network("100.64.0.0/10")
_IP_KINDS: tuple[tuple[str, Callable[[Any], bool]], ...] = (  # first match wins; "reserved" if none
    ("loopback", lambda a: a.is_loopback),
    ("unspecified", lambda a: a.is_unspecified),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("private", lambda a: any(a in net for net in _PRIVATE_NETS if net.version == a.version)),
    ("shared (carrier-grade NAT)", lambda a: a.version == 4 and a in _SHARED_NET),
    ("public", lambda a: a.is_global),
)


def ip_kind(text: str) -> str:
    """ "IPv4, public", "IPv6, private", ...: whether an address is someone on the internet."""
    try:
        address = ipaddress.ip_address(str(text).strip())
    except ValueError:
        return "not an IP address"
    version = f"IPv{address.version}"
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        version, address = "IPv6 (IPv4-mapped)", mapped
    kind = next((name for name, test in _IP_KINDS if test(address)), "reserved")
    return f"{version}, {kind}"


def _versioned(part: Any) -> str:
    if part is None or not part.family or part.family == "Other":
        return "Unknown"
    numbers = [n for n in (part.major, part.minor, part.patch) if n]
    return " ".join([part.family, ".".join(numbers)]) if numbers else part.family


@functools.lru_cache(maxsize=2048)
def parse_user_agent(text: str) -> tuple[str, str]:
    """(browser with version, OS with version); ("Unknown", "Unknown") for anything unparsable."""
    if not text or not str(text).strip():
        return "Unknown", "Unknown"
    try:
        result = ua_parse(str(text)[:UA_PARSE_LIMIT])
        return _versioned(result.user_agent), _versioned(result.os)
    except Exception:  # the parser must never break the pane
        log.debug("user agent not parsed: %.200r", text, exc_info=True)
        return "Unknown", "Unknown"


def warm_up_user_agents() -> None:
    """Load ua-parser's rules ahead of the first selected row (they take a few tenths of a second)."""
    parse_user_agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/125.0.0.0 Safari/537.36"
    )


_STATUS_WORDS = {
    200: "the call succeeded",
    201: "the call succeeded and created something",
    202: "accepted, to be done later",
    204: "the call succeeded; there was nothing to send back",
    301: "the address moved for good",
    302: "the caller was sent to another address",
    304: "nothing changed since the caller's copy",
    400: "the request was malformed or invalid",
    401: "the caller was not signed in (missing or wrong API key)",
    403: "the caller may not do this",
    404: "the resource does not exist",
    405: "this method is not allowed on this address",
    409: "the request conflicts with what exists (e.g. a duplicate)",
    413: "the request was too large",
    415: "the request's format is not accepted",
    422: "the request's data was invalid",
    429: "too many requests: the caller was rate-limited",
    500: "the server failed while handling the call",
    502: "a gateway got a bad answer from the server behind it",
    503: "the service was unavailable (overloaded or in maintenance)",
    504: "a gateway timed out waiting for the server",
}
_STATUS_CLASSES = {
    1: "Informational (1xx): the call was still being processed",
    2: "Success (2xx): the call worked",
    3: "Redirection (3xx): the caller was sent elsewhere",
    4: "Client error (4xx): the API refused the call because of the request itself",
    5: "Server error (5xx): the call failed on the server's side",
}


def status_meaning(status: Any) -> tuple[str, str, Severity]:
    """(e.g. "404 Not Found — the resource does not exist", its class in words, severity)."""
    try:
        code = int(str(status).strip())
    except ValueError:
        return f"{status} — not an HTTP status code", "Unknown", Severity.WARNING
    klass = _STATUS_CLASSES.get(code // 100, "Unknown: outside the standard 1xx–5xx classes")
    severity = Severity.ERROR if code >= 500 else Severity.WARNING if code >= 400 else Severity.OK
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        return f"{code} — not a standard HTTP status", klass, severity
    words = _STATUS_WORDS.get(code) or klass.split(": ", 1)[-1]
    return f"{code} {phrase} — {words}", klass, severity


#: Words in a gateway's error text ("|" between alternatives) and what they mean.
_SMS_ERRORS = {
    "timeout|timed out": "The gateway did not answer in time, so the message was probably not delivered. "
    "Sending again usually works.",
    "insufficient credit|no credit|balance": "The gateway account ran out of credit: top it up with the provider.",
    "blocklist|blacklist|blocked": "The number is on a blocklist (the subscriber opted out or the operator "
    "blocks it), so the gateway refused it.",
    "rejected": "The mobile operator refused the message, e.g. for its content or its sender name.",
    "unknown subscriber|absent subscriber": "The operator does not know this number: it is not in service.",
    "invalid phone|invalid number|invalid destination": "The phone number is not valid, so nothing was sent.",
    "unauthorized|authentication|invalid credentials": "The gateway refused the credentials set up for it.",
}


def sms_error_words(error: Any) -> str | None:
    """A plain explanation of a known SMS error text; None for unknown ones (shown as they are)."""
    lowered = str(error).lower()
    return next(
        (words for needles, words in _SMS_ERRORS.items() if any(n in lowered for n in needles.split("|"))), None
    )


# -- describe_row ------------------------------------------------------------------


def _text(value: Any, zone: tzinfo) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return format_time(value, zone)


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or zone.tzname(None) or str(zone)


def _field(label: str, value: str, **kwargs: Any) -> Field:
    """A field that is only copyable when it says something."""
    return Field(label, value, copyable=bool(value), hint="" if value else "(empty)", **kwargs)


def _time(label: str, row: Mapping[str, Any], name: str, zone: tzinfo) -> Field:
    value = row.get(name)
    if value is None or value == "":
        return Field(label, NOT_RECORDED, copyable=False)
    shown = _text(value, zone)
    return Field(label, f"{shown} {_zone_name(zone)}" if isinstance(value, datetime) else shown)


def _who(row: Mapping[str, Any]) -> list[Field]:
    fields = []
    if row.get("email"):
        fields.append(_field("E-mail", str(row["email"]), role=Role.EMAIL))
    if row.get("remote_ip"):
        ip = str(row["remote_ip"])
        fields += [_field("Remote IP", ip, role=Role.IP), Field("IP kind", ip_kind(ip), copyable=False)]
    return fields


def _browser(row: Mapping[str, Any]) -> list[Field]:
    raw = row.get("user_agent")
    if raw is None or not str(raw).strip():
        return [Field("Browser", NOT_RECORDED, copyable=False)]
    browser, system = parse_user_agent(str(raw))
    return [_field("Browser", browser), _field("Operating system", system), _field("User agent", str(raw))]


_METHODS = {
    "GET": "only retrieved information",
    "POST": "sent information",
    "PUT": "replaced or updated information",
    "DELETE": "removed information",
}


def _method(row: Mapping[str, Any]) -> list[Field]:
    method = row.get("method")
    if method is None:
        return []
    words = _METHODS.get(str(method).upper())
    return [_field("Method", f"{method} — {words}" if words else str(method))]


def _api_method_status(value: Any) -> Field:
    if value is None or str(value).strip() == "":
        return Field("API method status", NOT_RECORDED, copyable=False)
    text = str(value)
    failed = text.lower().startswith(("error", "fail"))
    return _field("API method status", text, severity=Severity.ERROR if failed else None)


def _status(value: Any) -> list[Field]:
    if value is None or str(value).strip() == "":
        return [Field("Status", NOT_RECORDED, copyable=False)]
    meaning, klass, severity = status_meaning(value)
    marked = severity if severity is not Severity.OK else None
    return [_field("Status", meaning, severity=marked), Field("Status class", klass, copyable=False)]


def _sms_result(value: Any) -> list[Field]:
    if value is None or str(value).strip() == "":
        return [Field("Result", "Sent without error", copyable=False)]
    fields = [_field("Error", str(value), severity=Severity.ERROR)]
    words = sms_error_words(value)
    if words:
        fields.append(Field("What it means", words, copyable=False))
    return fields


def _login_outcome(value: Any) -> Field:
    text = "" if value is None else str(value)
    if text.lower() == "successful":
        return Field("Outcome", "Successful login", copyable=False)
    if text.lower() == "failed":
        return Field("Outcome", "Failed login", copyable=False, severity=Severity.ERROR)
    return _field("Outcome", text, severity=Severity.WARNING)


def _location(row: Mapping[str, Any]) -> str:
    parts = [str(row[k]).strip() for k in ("city", "state", "country") if row.get(k) and str(row[k]).strip()]
    return ", ".join(parts) or "Unknown"


def _summary_panel(row: Mapping[str, Any], zone: tzinfo) -> list[Field]:
    url = _field("URL", _text(row.get("url"), zone))
    return [*_method(row), url, _api_method_status(row.get("api_method_status")), *_who(row), *_browser(row)]


def _summary_api(row: Mapping[str, Any], zone: tzinfo) -> list[Field]:
    return _status(row.get("status")) + _method(row) + [_field("URL", _text(row.get("url"), zone))] + _who(row)


def _summary_sms(row: Mapping[str, Any], zone: tzinfo) -> list[Field]:
    return _sms_result(row.get("error")) + [
        _field(label, _text(row.get(name), zone))
        for name, label in (
            ("subscriber_phone", "Subscriber phone"),
            ("gateway_name", "Gateway"),
            ("campaign_description", "Campaign"),
            ("message_id", "Message ID"),
        )
    ]


def _summary_logins(row: Mapping[str, Any], zone: tzinfo) -> list[Field]:
    return [
        _login_outcome(row.get("login")),
        _time("Attempt time", row, "date", zone),
        _time("Successful login date", row, "successful_login_date", zone),
        _time("Last failed login date", row, "last_failed_login_date", zone),
        _field("Name", _text(row.get("name"), zone)),
        *_who(row),
        _field("Location", _location(row)),
        *_browser(row),
    ]


def _summary_activity(row: Mapping[str, Any], zone: tzinfo) -> list[Field]:
    log_label, outcome = str(row.get("log") or ""), row.get("outcome")
    fields = [Field("Log", log_label, copyable=False)]
    if log_label == API.label:
        fields += _status(outcome)
    elif log_label == LOGINS.label:
        fields.append(_login_outcome(outcome))
    else:
        fields.append(_api_method_status(outcome))
    return fields + _method(row) + [_field("URL", _text(row.get("url"), zone))] + _who(row)


_SUMMARIES: dict[str, Callable[[Mapping[str, Any], tzinfo], list[Field]]] = {
    "panel": _summary_panel,
    "api": _summary_api,
    "sms": _summary_sms,
    "logins": _summary_logins,
    "activity": _summary_activity,
}


def describe_row(table: LogTable, row: Mapping[str, Any], zone: tzinfo = UTC) -> list[Section]:
    """The explained summary of a row, then every field of it with its label."""
    summary = _SUMMARIES.get(table.log_type.key)
    fields = summary(row, zone) if summary else []
    if row.get("date") is not None and table.log_type.key != "logins":
        fields.insert(0, _time("Time", row, "date", zone))
    unit = row.get("business_unit_id")
    if unit is not None:
        fields.append(_field("Business unit", table.source.business_unit_name(unit)))
    everything = []
    for column in table.columns:
        if column.name in row:
            text = _text(row[column.name], zone)
            everything.append(
                Field(column.label, text, copyable=bool(text), hint=column.spec.help if text else "(empty)")
            )
    known = {c.name for c in table.columns}
    for name, value in row.items():
        if name not in known:
            text = _text(value, zone)
            everything.append(_field(name, text))
    return [Section(table.log_type.detail_title, fields), Section("All fields", everything)]


# -- login context -------------------------------------------------------------------


def login_context(
    table: LogTable, row: Mapping[str, Any], token: CancelToken | None = None, limit: int = 20
) -> LoginContext:
    """The same user's attempts up to this one, and the failures in the 24 hours before it."""
    email, when = row.get("email"), parse_stored(row.get("date"))
    if not email or not isinstance(when, datetime) or not (table.has("email") and table.has("login")):
        return LoginContext([], 0)
    same_user = Condition("email", "=", (str(email),))
    columns = ["date", "login"] + (["remote_ip"] if table.has("remote_ip") else [])
    # time_to is exclusive: one microsecond on takes in the row itself and its equals.
    upto = Filter(conditions=(same_user,), time_to=when + timedelta(microseconds=1))
    page = LogQuery(table, upto, Sort("date", True), columns).first(limit, token)
    attempts = []
    for values in page.rows:
        record = dict(zip(page.columns, values, strict=True))
        attempts.append((record["date"], _text(record["login"], UTC), _text(record.get("remote_ip"), UTC)))
    failed = Condition("login", "=", ("successful",), negated=True)  # as the "failed" outcome says
    before = Filter(conditions=(same_user, failed), time_from=when - timedelta(hours=24), time_to=when)
    return LoginContext(attempts, LogQuery(table, before).count(token))


def sections_for_login_context(ctx: LoginContext, zone: tzinfo = UTC) -> Section:
    """The login context as a pane section: failures first, then the attempts, newest first."""
    failures = ctx.failures_24h
    severity = Severity.ERROR if failures >= 5 else Severity.WARNING if failures else None
    fields = [Field("Failures in the 24 hours before", str(failures), copyable=False, severity=severity)]
    found = f"The last {len(ctx.attempts)}, newest first" if ctx.attempts else "No attempts found"
    fields.append(Field("Attempts", found, copyable=False))
    for when, outcome, ip in ctx.attempts:
        value = " — ".join(part for part in (_text(when, zone), outcome, ip) if part)
        bad = outcome.lower() != "successful"
        fields.append(Field("", value, copyable=False, severity=Severity.ERROR if bad else None))
    return Section("Attempts around it", fields)
