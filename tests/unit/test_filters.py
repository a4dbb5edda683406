"""The filter language: what users type, what it finds, and what it says back when it is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from auditviewer.data.errors import FilterError
from auditviewer.data.filters import (
    Condition,
    Filter,
    Sort,
    describe,
    describe_condition,
    parse_condition,
    split_search_terms,
)
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from auditviewer.data.timestamps import get_zone
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import BASE, api_row, sms_row

# -- syntax ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status=500", Condition("status", "=", ("500",))),
        ("status!=500", Condition("status", "=", ("500",), negated=True)),
        ("url~login", Condition("url", "~", ("login",))),
        ("url!~login", Condition("url", "~", ("login",), negated=True)),
        ("url^=/v2/Api", Condition("url", "^=", ("/v2/Api",))),
        ("status>500", Condition("status", ">", ("500",))),
        ("status>=500", Condition("status", ">=", ("500",))),
        ("status<500", Condition("status", "<", ("500",))),
        ("status<=500", Condition("status", "<=", ("500",))),
        ("  Status >= 500 ", Condition("status", ">=", ("500",))),
        ("email~@example.com", Condition("email", "~", ("@example.com",))),
    ],
)
def test_every_operator(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not remote_ip=10.0.0.1", Condition("remote_ip", "=", ("10.0.0.1",), negated=True)),
        ("NOT remote_ip=10.0.0.1", Condition("remote_ip", "=", ("10.0.0.1",), negated=True)),
        ("!url~login", Condition("url", "~", ("login",), negated=True)),
        ("not url^=/v2", Condition("url", "^=", ("/v2",), negated=True)),
        ("not status>=500", Condition("status", ">=", ("500",), negated=True)),
        ("not url!=x", Condition("url", "=", ("x",))),  # two negations cancel out
        ("!url!~x", Condition("url", "~", ("x",))),
    ],
)
def test_negation_prefixes(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("method=PUT,DELETE", ("PUT", "DELETE")),
        ("method = PUT , DELETE ", ("PUT", "DELETE")),
        ('url~"a,b",c', ("a,b", "c")),
        ('url="say ""hi"", then go"', ("say hi, then go",)),
        (r"url=a\,b", ("a,b",)),
        (r"url=a\"b", ('a"b',)),
        ("url^=/v1,/v2,/v3", ("/v1", "/v2", "/v3")),
        ("url~'; DROP TABLE api_logs; --", ("'; DROP TABLE api_logs; --",)),
    ],
)
def test_lists_and_quoted_values(text: str, values: tuple[str, ...]) -> None:
    assert parse_condition(text).values == values


def test_empty_checks() -> None:
    empty, not_empty = parse_condition("error="), parse_condition("error!=")
    assert empty.is_empty_check and not empty.negated
    assert not_empty.is_empty_check and not_empty.negated
    assert describe_condition(empty) == "error is empty"
    assert describe_condition(not_empty) == "error is not empty"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status", "has no operator; use one of < > = ~ <= >= != \\^= !~"),
        ("status>", "needs a value after >"),
        ("url~", "needs a value after ~"),
        ("status>=400,500", ">= takes one value"),
        ('url~"unclosed', "unclosed double quote"),
        ("=500", "is not a condition"),
        ("", "is not a condition"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_condition(text)


@pytest.mark.parametrize(
    "text",
    [
        "status>=500",
        "url~login",
        "not url^=/v2",
        "method!=GET,POST",
        'url~"a,b",c',
        "error=",
        "error!=",
        r'url="back\\slash"',
        "not status<5",
        'url=@,"x"',
    ],
)
def test_text_round_trips(text: str) -> None:
    condition = parse_condition(text)
    assert parse_condition(condition.text()) == condition


def test_search_terms_keep_quoted_phrases() -> None:
    assert split_search_terms('  timeout "bad gateway" 502 ') == ["timeout", "bad gateway", "502"]


def test_sort_parse() -> None:
    assert Sort.parse("Status:DESC") == Sort("status", True)
    assert Sort.parse("url") == Sort("url", False)
    with pytest.raises(FilterError, match="asc or desc"):
        Sort.parse("url:up")


# -- plain words --------------------------------------------------------------------------


def test_describe_in_plain_words(sqlite_db: DbFactory) -> None:
    flt = Filter(
        conditions=(
            parse_condition("status>=500"),
            parse_condition("method!=GET,POST"),
            parse_condition("not url^=/v2"),
            parse_condition("remote_ip=10.0.0.1"),
        ),
        search="  timeout  ",
        last=timedelta(days=7),
        time_from=datetime(2025, 1, 1),
        time_to=datetime(2025, 2, 1, 12, 30),
        business_unit=3,
    )
    with open_source(sqlite_db.create({"api": [api_row(1)]})) as source:
        assert describe(flt, source.log("api")) == (
            'Status is at least 500; Method is not "GET" nor "POST"; URL does not start with "/v2"; '
            'Remote IP is "10.0.0.1"; text contains "timeout"; the last 1 week of the log; '
            "date from 1 Jan 2025 until 1 Feb 2025 12:30 (UTC); business unit 3"
        )
    assert describe(Filter()) == "All rows"
    assert describe(Filter(last=timedelta(hours=36))) == "The last 36 hours of the log"
    assert describe(Filter(time_from=datetime(2025, 1, 1)), zone=get_zone("Europe/Warsaw")) == (
        "Date from 1 Jan 2025 01:00 (Europe/Warsaw)"
    )
    # An end at midnight names the last day it includes, in the zone shown (here across a DST change).
    warsaw = get_zone("Europe/Warsaw")
    assert describe(Filter(time_from=datetime(2025, 3, 27, 23), time_to=datetime(2025, 3, 30, 22)), zone=warsaw) == (
        "Date from 28 Mar 2025 to 30 Mar 2025 (Europe/Warsaw)"
    )
    assert describe(Filter(time_from=datetime(2025, 6, 1), time_to=datetime(2025, 6, 2))) == "Date is 1 Jun 2025 (UTC)"
    assert describe(Filter(time_to=datetime(2025, 6, 2))) == "Date up to 1 Jun 2025 (UTC)"
    disabled = Condition("status", "=", ("500",), enabled=False)
    assert describe(Filter((disabled,))) == "All rows"


# -- meaning, against a database -------------------------------------------------------------

HOURLY = [
    api_row(
        i,
        date=BASE + timedelta(hours=i - 1),
        method=("GET", "POST", "PUT", "DELETE")[i % 4],
        status=(200, 404, 500)[i % 3],
        url=f"/v2/Api/{i}",
    )
    for i in range(1, 73)
]  # 3 days


def _ids(table: LogTable, *conditions: str, zone: str = "UTC", **kwargs: Any) -> list[int]:
    flt = Filter(tuple(parse_condition(c) for c in conditions), **kwargs)
    query = LogQuery(table, flt, Sort("id", False), columns=["id"], zone=get_zone(zone))
    return [row[0] for row in query.first(1000).rows]


def _between(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


@pytest.fixture
def hourly(db: DbFactory) -> Iterator[LogTable]:
    source = open_source(db.create({"api": HOURLY}))
    yield source.log("api")
    source.close()


def test_date_only_values_mean_whole_days(hourly: LogTable) -> None:
    assert _ids(hourly, "date=2025-01-02") == _between(25, 48)
    assert _ids(hourly, "date>2025-01-02") == _between(49, 72)
    assert _ids(hourly, "date>=2025-01-02") == _between(25, 72)
    assert _ids(hourly, "date<2025-01-02") == _between(1, 24)
    assert _ids(hourly, "date<=2025-01-02") == _between(1, 48)
    assert _ids(hourly, "date!=2025-01-02") == _between(1, 24) + _between(49, 72)
    assert _ids(hourly, "date=2025-01-01,2025-01-03") == _between(1, 24) + _between(49, 72)
    assert _ids(hourly, "date=2025-01-02 05:00") == [30]
    assert _ids(hourly, "date=2025-01-02T05:00:00,2025-01-03") == [30, *_between(49, 72)]


def test_dates_follow_the_chosen_zone_and_zones_in_values(hourly: LogTable) -> None:
    # Midnight in Warsaw (UTC+1 in January) is 23:00 UTC the evening before.
    assert _ids(hourly, "date=2025-01-02", zone="Europe/Warsaw") == _between(24, 47)
    assert _ids(hourly, "date>=2025-01-02 02:00+02:00") == _between(25, 72)
    assert _ids(hourly, "date<2025-01-01 03:00Z") == _between(1, 3)
    assert _ids(hourly, "date=2025-01-02 05:00", zone="Europe/Warsaw") == [29]
    assert _ids(hourly, "date=2025-01-02 05:00+00:00", zone="Europe/Warsaw") == [30]


def test_choices_are_matched_in_any_case(hourly: LogTable) -> None:
    posts = [r["id"] for r in HOURLY if r["method"] == "POST"]
    assert _ids(hourly, "method=post") == posts
    assert _ids(hourly, "method=Post,delete") == [r["id"] for r in HOURLY if r["method"] in ("POST", "DELETE")]
    assert _ids(hourly, "method!=get,PUT") == [r["id"] for r in HOURLY if r["method"] in ("POST", "DELETE")]
    assert _ids(hourly, "method~os") == posts  # contains ignores case, and is not checked against choices


def test_numbers_and_lists(hourly: LogTable) -> None:
    assert _ids(hourly, "status=404,500", "id<=6") == [1, 2, 4, 5]
    assert _ids(hourly, "status>=500", "id<10") == [2, 5, 8]
    assert _ids(hourly, "not status>=500", "id<=5") == [1, 3, 4]
    assert _ids(hourly, "status~0", "id<=3") == [1, 2, 3]
    assert _ids(hourly, "id^=7") == [7, 70, 71, 72]
    assert _ids(hourly, "url^=/v2/api/1") == [1, *_between(10, 19)]  # starts-with ignores case too
    assert _ids(hourly, "url~/4,/6", "id<=20") == [4, 6]


def test_time_range_and_last(hourly: LogTable) -> None:
    assert _ids(hourly, time_from=datetime(2025, 1, 3, 20), time_to=datetime(2025, 1, 3, 22)) == [69, 70]
    # The newest row is at 2025-01-03 23:00: the last two hours start at 21:00.
    assert _ids(hourly, last=timedelta(hours=2)) == [70, 71, 72]
    assert _ids(hourly, "status=200", last=timedelta(hours=6)) == [66, 69, 72]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "colour=red",
            "API logs has no column 'colour'; valid columns: id, business_unit_id, date, url, method, "
            "status, remote_ip",
        ),
        ("status=abc", "status takes whole numbers, e.g. status>=500; 'abc' is not one"),
        ("status>=5xx", "'5xx' is not one"),
        ("date>yesterday", "date: 'yesterday' is not a date; use YYYY-MM-DD"),
        ("date=2025-02-30", "'2025-02-30' is not a date"),
        ("method=FOO", "method is one of GET, POST, PUT, DELETE; 'FOO' is not"),
        ("method=GET,FOO", "'FOO' is not"),
    ],
)
def test_errors_say_what_is_valid(sqlite_db: DbFactory, condition: str, message: str) -> None:
    with open_source(sqlite_db.create({"api": [api_row(1)]})) as source:
        with pytest.raises(FilterError) as caught:
            LogQuery(source.log("api"), Filter((parse_condition(condition),)))
        assert message in str(caught.value)


def test_errors_for_sort_columns_and_business_units(sqlite_db: DbFactory) -> None:
    spec = sqlite_db.create({"api": [api_row(1)]}, omit={"api": ["business_unit_id"]})
    with open_source(spec) as source:
        table = source.log("api")
        with pytest.raises(FilterError, match="cannot sort by 'colour'; valid columns: id, date"):
            LogQuery(table, sort=Sort("colour"))
        with pytest.raises(FilterError, match="API logs has no business units"):
            LogQuery(table, Filter(business_unit=1))
        with pytest.raises(FilterError, match="has no column 'colour'"):
            LogQuery(table, columns=["id", "colour"])
        # A switched-off condition is still checked: it can be switched on at any time.
        off = Condition("status", "=", ("abc",), enabled=False)
        with pytest.raises(FilterError, match="whole numbers"):
            LogQuery(table, Filter((off,)))


def test_empty_checks_find_nulls_and_empty_text(db: DbFactory) -> None:
    rows = [sms_row(1, error=None), sms_row(2, error=""), sms_row(3, error="timeout"), sms_row(4, error="no credit")]
    with open_source(db.create({"sms": rows})) as source:
        table = source.log("sms")
        assert _ids(table, "error=") == [1, 2]
        assert _ids(table, "error!=") == [3, 4]
        assert _ids(table, "not error=") == [3, 4]
        # A NULL is "not timeout": negation returns exactly what the plain condition leaves out.
        assert _ids(table, "error!=timeout") == [1, 2, 4]
        assert _ids(table, "error!~o") == [1, 2]
        assert _ids(table, "business_unit_id=") == [1, 2, 3, 4]


def test_search_needs_every_word_somewhere(db: DbFactory) -> None:
    rows = [
        api_row(1, url="/alpha/beta", status=404),
        api_row(2, url="/alpha", remote_ip="10.0.0.404", status=200),
        api_row(3, url="/beta", status=404),
        api_row(4, url="/ALPHA/x", status=500, remote_ip="10.1.1.1"),
        api_row(404, url="/gamma", status=200),
    ]
    with open_source(db.create({"api": rows})) as source:
        table = source.log("api")
        assert _ids(table, search="alpha") == [1, 2, 4]
        assert _ids(table, search="alpha beta") == [1]
        assert _ids(table, search="alpha 404") == [1, 2]  # status 404, or "404" in the IP
        assert _ids(table, search="404") == [1, 2, 3, 404]  # the id is a number column too
        assert _ids(table, search="40") == [2]  # in the IP's text; number columns match only whole
        assert _ids(table, search='"alpha/x"') == [4]
        assert _ids(table, search="alpha", time_from=BASE + timedelta(minutes=2)) == [2, 4]
        assert _ids(table, search="   ") == [1, 2, 3, 4, 404]
