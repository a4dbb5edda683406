"""Masking personal data: what a report reader still sees of an e-mail, a phone, an IP, a name."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from auditviewer.data.export import to_text
from auditviewer.data.filters import Sort
from auditviewer.data.logtypes import LOGINS, PANEL, SMS, Role
from auditviewer.data.masking import (
    mask_email,
    mask_emails_in,
    mask_ip,
    mask_name,
    mask_phone,
    mask_text,
    mask_value,
    row_masker,
)
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import panel_row, sms_row


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("anna.nowak@example.com", "an***@example.com"),
        ("jo@example.com", "j***@example.com"),
        ("x@example.com", "x***@example.com"),
        ("no-at-sign-here", "no***"),
        ("@example.com", "@e***"),
    ],
)
def test_email_keeps_two_letters_and_the_domain(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+48 600 123 456", "+48 600 *** *56"),
        ("+48 793 655 409", "+48 793 *** *09"),
        ("+49 170 6989224", "+49 170 *****24"),
        ("+48123456789", "+48123****89"),
        ("600-123-456", "600-***-*56"),
        ("12345", "***45"),
        ("n/a", "***"),
    ],
)
def test_phone_keeps_its_prefix_and_last_two_digits(value: str, masked: str) -> None:
    assert mask_phone(value) == masked
    assert sum(c.isdigit() for c in mask_phone(value)) <= 7


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("83.24.121.131", "83.24.*.*"),
        ("10.0.0.1", "10.0.*.*"),
        ("2a01:4f8:c17:2e5f::1", "2a01:4f8:*:*:*:*:*:*"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8:*:*:*:*:*:*"),
        ("::ffff:83.24.121.131", "83.24.*.*"),
        ("fe80::1%eth0", "fe80:0:*:*:*:*:*:*"),
        ("not an ip", "no***"),
    ],
)
def test_ip_keeps_the_network_part(value: str, masked: str) -> None:
    assert mask_ip(value) == masked


def test_names_keep_initials_and_free_text_loses_its_emails() -> None:
    assert mask_name("Joanna Woźniak") == "J*** W***"
    assert mask_name("  ") == "  "
    assert mask_emails_in("/Settings/Users?email=jan.kowalski@example.com&x=1") == (
        "/Settings/Users?email=ja***@example.com&x=1"
    )
    assert mask_emails_in("/Messages/Newsletter") == "/Messages/Newsletter"


def test_words_about_the_data_lose_their_addresses() -> None:
    assert mask_text("All activity of anna.nowak@example.com") == "All activity of an***@example.com"
    assert mask_text("All activity of 83.24.121.131, at 12:30") == "All activity of 83.24.*.*, at 12:30"
    assert mask_text("from 2a01:4f8:c17:2e5f::1 on 2025-06-01") == "from 2a01:4f8:*:*:*:*:*:* on 2025-06-01"
    assert mask_text("Status is at least 500") == "Status is at least 500"


def test_values_are_masked_by_their_declared_role() -> None:
    assert mask_value("anna@example.com", Role.EMAIL) == "an***@example.com"
    assert mask_value("83.24.1.2", Role.IP) == "83.24.*.*"
    assert mask_value(None, Role.EMAIL) is None
    assert mask_value(500, Role.IP) == 500
    when = datetime(2025, 6, 1)
    assert mask_value(when, Role.PLAIN) is when
    # The log types declare the roles: one source of truth for what is personal.
    assert PANEL.column("email").role is Role.EMAIL and PANEL.column("remote_ip").role is Role.IP
    assert SMS.column("subscriber_phone").role is Role.PHONE and LOGINS.column("name").role is Role.NAME


def test_row_masker_follows_the_column_order() -> None:
    mask = row_masker([Role.PLAIN, Role.EMAIL, Role.IP, Role.URL])
    row = (7, "anna@example.com", "83.24.1.2", "/u?e=bob@example.org")
    assert mask(row) == [7, "an***@example.com", "83.24.*.*", "/u?e=bo***@example.org"]
    assert row[1] == "anna@example.com"  # the row itself is left alone


def test_masked_csv_export_hides_personal_data(sqlite_db: DbFactory) -> None:
    rows = [panel_row(i, email=f"person{i}@example.com", remote_ip=f"83.24.{i}.{i}") for i in range(1, 6)]
    sms = [sms_row(i, subscriber_phone="+48 600 123 456") for i in range(1, 3)]
    with open_source(sqlite_db.create({"panel": rows, "sms": sms})) as source:
        query = LogQuery(source.log("panel"), sort=Sort("id", False), columns=["id", "email", "remote_ip"])
        parsed = list(csv.reader(io.StringIO(to_text(query, "csv", mask=True), newline="")))
        assert parsed[1:] == [[str(i), "pe***@example.com", "83.24.*.*"] for i in range(1, 6)]
        plain = list(csv.reader(io.StringIO(to_text(query, "csv"), newline="")))
        assert plain[1] == ["1", "person1@example.com", "83.24.1.1"]
        phones = LogQuery(source.log("sms"), columns=["subscriber_phone"])
        assert to_text(phones, "json", mask=True).splitlines()[0] == '{"subscriber_phone": "+48 600 *** *56"}'
