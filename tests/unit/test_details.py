"""What the detail pane says about a row: explanations in plain words, every field, login context."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from auditviewer.data.cancel import CancelToken
from auditviewer.data.details import (
    Field,
    LoginContext,
    Section,
    describe_row,
    ip_kind,
    login_context,
    parse_user_agent,
    sections_for_login_context,
    sms_error_words,
    status_meaning,
)
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.logtypes import Role, Severity
from auditviewer.data.source import Source, open_source
from tests.helpers.dbfactory import DbFactory

T = datetime(2025, 6, 1, 12, 0, 0)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
HOSTILE = "<b>bold</b><script>alert('x')</script> & \"quotes\""


@pytest.fixture
def source(sqlite_db: DbFactory) -> Iterator[Source]:
    """One row in each log (the rows themselves are passed to describe_row as dicts)."""
    spec = sqlite_db.create(
        {
            "panel": [dict(id=1, date=T, url="/Dashboard", method="GET", email="a@example.com", remote_ip="10.0.0.1")],
            "api": [dict(id=1, date=T, url="/v2/Api/Lists", method="GET", status=200, remote_ip="1.2.3.4")],
            "sms": [
                dict(
                    id=1, date=T, message_id="m1", campaign_description="c", subscriber_phone="+48500", gateway_name="g"
                )
            ],
            "logins": [dict(id=1, date=T, name="A", email="a@example.com", login="successful", remote_ip="1.2.3.4")],
        },
        extra={"panel": {"session_tag": sa.Text()}},
        business_units=[(1, "Main brand")],
    )
    src = open_source(spec)
    yield src
    src.close()


def fields(sections: list[Section], index: int = 0) -> dict[str, Field]:
    return {f.label: f for f in sections[index].fields}


def value(sections: list[Section], label: str, index: int = 0) -> str:
    return fields(sections, index)[label].value


# -- explanations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        ("8.8.8.8", "IPv4, public"),
        ("192.168.1.10", "IPv4, private"),
        ("10.1.2.3", "IPv4, private"),
        ("172.20.0.1", "IPv4, private"),
        ("127.0.0.1", "IPv4, loopback"),
        ("169.254.10.1", "IPv4, link-local"),
        ("100.64.0.1", "IPv4, shared (carrier-grade NAT)"),
        ("240.0.0.1", "IPv4, reserved"),
        ("2a02:a31a::1", "IPv6, public"),
        ("fd12:3456::1", "IPv6, private"),
        ("::1", "IPv6, loopback"),
        ("fe80::1", "IPv6, link-local"),
        ("::ffff:192.168.0.1", "IPv6 (IPv4-mapped), private"),
        (" 8.8.4.4 ", "IPv4, public"),
        ("999.1.1.1", "not an IP address"),
        ("1.2.3.4, 5.6.7.8", "not an IP address"),
        ("", "not an IP address"),
        ("<script>", "not an IP address"),
    ],
)
def test_ip_kind(text: str, kind: str) -> None:
    assert ip_kind(text) == kind


def test_user_agents_are_parsed_into_browser_and_system() -> None:
    assert parse_user_agent(CHROME_WINDOWS) == ("Chrome 125.0.0", "Windows 10")
    assert parse_user_agent(IPHONE_SAFARI) == ("Mobile Safari 17.4.1", "iOS 17.4.1")


@pytest.mark.parametrize("garbage", ["", "   ", "garbage \x00 <b>", HOSTILE, "🙂" * 50])
def test_garbage_user_agent_is_unknown_not_an_error(garbage: str) -> None:
    assert parse_user_agent(garbage) == ("Unknown", "Unknown")


def test_huge_user_agent_is_parsed_quickly() -> None:
    started = time.perf_counter()
    assert parse_user_agent("x" * 500_000 + "y") == ("Unknown", "Unknown")
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "status, text, severity",
    [
        (404, "404 Not Found — the resource does not exist", Severity.WARNING),
        (200, "200 OK — the call succeeded", Severity.OK),
        (503, "503 Service Unavailable — the service was unavailable (overloaded or in maintenance)", Severity.ERROR),
        (418, "418 I'm a Teapot — the API refused the call because of the request itself", Severity.WARNING),
        (799, "799 — not a standard HTTP status", Severity.ERROR),  # as the table marks it: status>=500
        ("abc", "abc — not an HTTP status code", Severity.WARNING),
    ],
)
def test_status_meaning(status: object, text: str, severity: Severity) -> None:
    meaning, _class, got = status_meaning(status)
    assert (meaning, got) == (text, severity)


def test_status_class_is_said_in_words() -> None:
    assert status_meaning(500)[1] == "Server error (5xx): the call failed on the server's side"
    assert status_meaning(401)[1].startswith("Client error (4xx)")


def test_sms_errors_in_words() -> None:
    assert "ran out of credit" in sms_error_words("Insufficient credit")
    assert "did not answer in time" in sms_error_words("Gateway timeout")
    assert "blocklist" in sms_error_words("Number on blocklist")
    assert "not in service" in sms_error_words("Unknown subscriber")
    assert sms_error_words("E42: the moon is full") is None


# -- describe_row, per log type ------------------------------------------------------------


def test_panel_row_explains_method_status_and_browser(source: Source) -> None:
    row = dict(
        id=7,
        business_unit_id=1,
        date=T,
        url="/Lists/Import",
        method="POST",
        email="a@example.com",
        remote_ip="83.24.1.2",
        api_method_status="Error: Validation failed",
        user_agent=CHROME_WINDOWS,
        session_tag=None,
    )
    sections = describe_row(source.log("panel"), row)
    assert sections[0].title == "Action details"
    summary = fields(sections)
    assert summary["Method"].value == "POST — sent information"
    assert summary["API method status"].value == "Error: Validation failed"
    assert summary["API method status"].severity is Severity.ERROR
    assert summary["Browser"].value == "Chrome 125.0.0"
    assert summary["Operating system"].value == "Windows 10"
    assert summary["User agent"].value == CHROME_WINDOWS
    assert summary["IP kind"].value == "IPv4, public"
    assert summary["E-mail"].role is Role.EMAIL and summary["Remote IP"].role is Role.IP
    assert summary["Business unit"].value == "Main brand"
    assert summary["Time"].value == "2025-06-01 12:00:00 UTC"

    get = describe_row(
        source.log("panel"), {**row, "method": "GET", "api_method_status": None, "user_agent": IPHONE_SAFARI}
    )
    assert value(get, "Method") == "GET — only retrieved information"
    assert value(get, "API method status") == "Not recorded"
    assert (value(get, "Browser"), value(get, "Operating system")) == ("Mobile Safari 17.4.1", "iOS 17.4.1")


def test_all_fields_lists_every_column_with_its_label_including_extras(source: Source) -> None:
    table = source.log("panel")
    row = dict(
        id=7,
        business_unit_id=1,
        date=T,
        url="/x",
        method="GET",
        email="a@example.com",
        remote_ip="10.0.0.1",
        api_method_status=None,
        user_agent=None,
        session_tag="abc",
    )
    everything = describe_row(table, row)[1]
    assert everything.title == "All fields"
    assert [f.label for f in everything.fields] == [c.label for c in table.columns]
    by_label = {f.label: f for f in everything.fields}
    assert by_label["session_tag"].value == "abc"
    assert by_label["Date"].value == "2025-06-01 12:00:00"
    assert by_label["API method status"].value == "" and by_label["API method status"].hint == "(empty)"
    assert not by_label["API method status"].copyable and by_label["URL"].copyable
    assert by_label["Browser"].role is None  # the activity buttons live in the summary, once


def test_times_are_shown_in_the_chosen_zone(source: Source) -> None:
    row = dict(
        id=1,
        date=T,
        name="A",
        email="a@example.com",
        login="failed",
        remote_ip="1.2.3.4",
        successful_login_date=None,
        last_failed_login_date=T - timedelta(days=1),
    )
    sections = describe_row(source.log("logins"), row, ZoneInfo("Europe/Warsaw"))
    assert value(sections, "Attempt time") == "2025-06-01 14:00:00 Europe/Warsaw"
    assert value(sections, "Last failed login date") == "2025-05-31 14:00:00 Europe/Warsaw"
    assert value(sections, "Date", index=1) == "2025-06-01 14:00:00"


def test_api_row_says_what_the_status_means(source: Source) -> None:
    row = dict(id=3, date=T, url="/v2/Api/Subscribers", method="DELETE", status=404, remote_ip="1.2.3.4")
    summary = fields(describe_row(source.log("api"), row))
    assert summary["Status"].value == "404 Not Found — the resource does not exist"
    assert summary["Status"].severity is Severity.WARNING
    assert summary["Status class"].value.startswith("Client error (4xx)")
    assert summary["Method"].value == "DELETE — removed information"
    assert "E-mail" not in summary


def test_sms_row_says_the_error_in_words(source: Source) -> None:
    table = source.log("sms")
    base = dict(
        id=1,
        date=T,
        message_id="m",
        campaign_description="Sale",
        subscriber_phone="+48500100200",
        gateway_name="SMSAPI main",
    )
    assert value(describe_row(table, {**base, "error": None}), "Result") == "Sent without error"
    failed = fields(describe_row(table, {**base, "error": "Insufficient credit"}))
    assert failed["Error"].value == "Insufficient credit" and failed["Error"].severity is Severity.ERROR
    assert "ran out of credit" in failed["What it means"].value
    unknown = fields(describe_row(table, {**base, "error": "E42: the moon is full"}))
    assert unknown["Error"].value == "E42: the moon is full" and "What it means" not in unknown


def test_login_row_has_outcome_dates_location_ip_and_browser(source: Source) -> None:
    row = dict(
        id=9,
        date=T,
        name="Anna",
        email="a@example.com",
        login="failed",
        successful_login_date=None,
        last_failed_login_date=T - timedelta(hours=2),
        country="Poland",
        state="Mazowieckie",
        city="Warszawa",
        remote_ip="2a02:a31a::5",
        user_agent=IPHONE_SAFARI,
    )
    sections = describe_row(source.log("logins"), row)
    assert sections[0].title == "Login details"
    summary = fields(sections)
    assert summary["Outcome"].value == "Failed login" and summary["Outcome"].severity is Severity.ERROR
    assert summary["Attempt time"].value == "2025-06-01 12:00:00 UTC"
    assert summary["Successful login date"].value == "Not recorded"
    assert summary["Last failed login date"].value == "2025-06-01 10:00:00 UTC"
    assert summary["Location"].value == "Warszawa, Mazowieckie, Poland"
    assert summary["IP kind"].value == "IPv6, public"
    assert summary["Browser"].value == "Mobile Safari 17.4.1"
    nowhere = fields(
        describe_row(
            source.log("logins"),
            {**row, "login": "successful", "country": None, "state": "", "city": None, "user_agent": None},
        )
    )
    assert nowhere["Outcome"].value == "Successful login" and nowhere["Outcome"].severity is None
    assert nowhere["Location"].value == "Unknown"
    assert nowhere["Browser"].value == "Not recorded"


def test_html_in_data_stays_literal_text(source: Source) -> None:
    row = dict(
        id=1,
        date=T,
        url=HOSTILE,
        method="GET",
        email=HOSTILE,
        remote_ip=HOSTILE,
        api_method_status=HOSTILE,
        user_agent=HOSTILE,
    )
    sections = describe_row(source.log("panel"), row)
    assert value(sections, "URL") == HOSTILE
    assert value(sections, "User agent") == HOSTILE
    assert value(sections, "IP kind") == "not an IP address"
    assert all(f.value == HOSTILE for f in sections[1].fields if f.label in ("URL", "E-mail", "Remote IP"))


def test_values_that_are_not_what_the_log_declares_are_shown_as_they_are(source: Source) -> None:
    row = dict(id=1, date="not a date", url=None, method=None, status=None, remote_ip=None)
    sections = describe_row(source.log("api"), row)
    assert value(sections, "Status") == "Not recorded"
    assert value(sections, "Date", index=1) == "not a date"


# -- login context ------------------------------------------------------------------------


def _attempt(i: int, when: datetime, outcome: str, email: str = "a@example.com", ip: str = "1.2.3.4") -> dict:
    return dict(id=i, date=when, name="A", email=email, login=outcome, remote_ip=ip)


@pytest.fixture
def logins(db: DbFactory) -> Iterator[Source]:
    """A known pattern around T for a@example.com, with another user and later attempts as noise."""
    rows = [
        _attempt(1, T - timedelta(hours=30), "failed"),  # more than 24 h before
        _attempt(2, T - timedelta(hours=23, minutes=59), "failed"),
        _attempt(3, T - timedelta(hours=2), "failed", ip="5.6.7.8"),
        _attempt(4, T - timedelta(hours=1), "failed"),
        _attempt(5, T - timedelta(minutes=30), "successful"),
        _attempt(6, T, "failed"),  # the row itself
        _attempt(7, T + timedelta(hours=1), "failed"),  # after it
        _attempt(8, T - timedelta(hours=1), "failed", email="b@example.com"),
    ]
    src = open_source(db.create({"logins": rows}, indexes=(("*", "date"), ("*", "email"))))
    yield src
    src.close()


def test_login_context_counts_failures_in_the_24_hours_before(logins: Source) -> None:
    table = logins.log("logins")
    ctx = login_context(table, _attempt(6, T, "failed"))
    assert ctx.failures_24h == 3  # 23:59, 2 h and 1 h before; not 30 h before, not the row, not b@
    times = [when for when, _outcome, _ip in ctx.attempts]
    assert times == [
        T,
        T - timedelta(minutes=30),
        T - timedelta(hours=1),
        T - timedelta(hours=2),
        T - timedelta(hours=23, minutes=59),
        T - timedelta(hours=30),
    ]
    assert ctx.attempts[0] == (T, "failed", "1.2.3.4")
    assert ctx.attempts[1][1] == "successful"
    assert ctx.attempts[3][2] == "5.6.7.8"


def test_login_context_keeps_the_newest_up_to_the_limit(logins: Source) -> None:
    ctx = login_context(logins.log("logins"), _attempt(5, T - timedelta(minutes=30), "successful"), limit=2)
    assert [when for when, _o, _ip in ctx.attempts] == [T - timedelta(minutes=30), T - timedelta(hours=1)]
    assert ctx.failures_24h == 3


def test_login_context_without_email_or_date_is_empty(logins: Source) -> None:
    table = logins.log("logins")
    assert login_context(table, {**_attempt(6, T, "failed"), "email": None}) == LoginContext([], 0)
    assert login_context(table, {**_attempt(6, T, "failed"), "date": None}) == LoginContext([], 0)


def test_login_context_can_be_cancelled(logins: Source) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(QueryCancelled):
        login_context(logins.log("logins"), _attempt(6, T, "failed"), token)


def test_login_context_section_lists_attempts_newest_first() -> None:
    ctx = LoginContext([(T, "failed", "1.2.3.4"), (T - timedelta(hours=1), "successful", "1.2.3.4")], 6)
    section = sections_for_login_context(ctx, ZoneInfo("UTC"))
    assert section.title == "Attempts around it"
    first = section.fields[0]
    assert (first.label, first.value, first.severity) == ("Failures in the 24 hours before", "6", Severity.ERROR)
    lines = [f.value for f in section.fields if not f.label]
    assert lines == ["2025-06-01 12:00:00 — failed — 1.2.3.4", "2025-06-01 11:00:00 — successful — 1.2.3.4"]
    assert [f.severity for f in section.fields if not f.label] == [Severity.ERROR, None]
    empty = sections_for_login_context(LoginContext([], 0))
    assert [f.value for f in empty.fields] == ["0", "No attempts found"]
