"""Random filters over random rows find exactly what a plain Python reading of the filter finds.

The reference below is written from the filter language's documentation, not
from the SQL the viewer builds: conditions are parsed with ``parse_condition``
(or built as ``Condition`` values), and everything else is plain Python.

The texts stay where all three backends agree on what "equal" and "contains"
mean:

- lower-case ASCII letters only, so no two values differ only in case:
  MariaDB's default collation (utf8mb4_general_ci) compares without case,
  SQLite's ``=`` with case, and SQLite's LIKE folds ASCII letters only.
  Contains/starts-with ignore case on every backend, so their needles may be
  upper-cased;
- no leading or trailing spaces in stored values or ``=`` values: MariaDB's
  PAD SPACE collations ignore trailing spaces in ``=``. Contains and
  starts-with needles may have them, or be nothing but spaces: LIKE and
  instr() compare character by character everywhere;
- a single character outside the Basic Multilingual Plane (😀): that collation
  gives all of them one weight, so two different emoji would compare equal;
  and no accented letters, which it equates with their base letter.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditviewer.data.errors import FilterError
from auditviewer.data.filters import LIKE_MAX_BYTES, Condition, Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, normalise_url, open_source
from tests.helpers.dbfactory import DbFactory

UTC = UTC
START = datetime(2025, 1, 1)
SPAN_S = 3 * 86400  # rows fall within three days
ALPHABET = "abcxyz019 %_'\"/-\\.★😀"
CHOICES = ("GET", "POST", "PUT", "DELETE")
ZONES = {"UTC": UTC, "Europe/Warsaw": ZoneInfo("Europe/Warsaw"), "America/New_York": ZoneInfo("America/New_York")}
TEXT_COLUMNS = ("url", "method", "remote_ip", "note")
INT_COLUMNS = ("id", "business_unit_id", "status")

# -- rows ---------------------------------------------------------------------------------------

short_texts = st.text(ALPHABET, max_size=8).map(lambda s: s.strip(" "))
# Past LIKE_MAX_BYTES, so that needles cut from them take SQLite's instr() form.
long_texts = st.text(ALPHABET, min_size=2, max_size=5).map(lambda s: (s * 600)[: LIKE_MAX_BYTES + 300].strip(" "))
texts = st.one_of(short_texts, short_texts, short_texts, long_texts)
times = st.one_of(
    st.integers(0, SPAN_S - 1).map(lambda s: START + timedelta(seconds=s)),
    st.integers(0, 72).map(lambda h: START + timedelta(hours=h)),  # on the hour, at midnights, tied
)


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.integers(1, 500), unique=True, min_size=4, max_size=25))
    return [
        {
            "id": id_,
            "business_unit_id": draw(st.none() | st.integers(1, 3)),
            "date": draw(times),
            "url": draw(texts),
            "method": draw(st.sampled_from(CHOICES)),
            "status": draw(st.sampled_from([200, 201, 301, 404, 500, 503]) | st.integers(100, 599)),
            "remote_ip": draw(st.sampled_from(["10.0.0.1", "10.0.0.12", "::1", "fe80::1"]) | texts),
            "note": draw(st.none() | texts),
        }
        for id_ in ids
    ]


# -- filters --------------------------------------------------------------------------------------
# Filters come from a Random seeded by the rows and a drawn number. Hypothesis's own choices
# favour small, repeated values (60 examples give some 25 distinct seeds), so a filter built
# from its draws rarely reaches, say, "date>2025-01-02" on a day that holds rows.


def _text_form(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _random_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 6))).strip(" ")


def _random_time(rnd: random.Random) -> datetime:
    if rnd.random() < 0.3:
        return START + timedelta(hours=rnd.randint(0, 72))
    return START + timedelta(seconds=rnd.randrange(SPAN_S))


def _needle(rnd: random.Random, rows: list[dict[str, Any]], column: str) -> str:
    """A piece of a stored value (so that something matches), or any text; in any case."""
    stored = [_text_form(r[column]) for r in rows if r[column] is not None]
    if stored and rnd.random() < 0.7:
        value = rnd.choice(stored)
        start = rnd.randint(0, len(value))
        value = value[start : rnd.randint(start, len(value))]
    else:
        value = _random_text(rnd)
    if value and rnd.random() < 0.25:
        # A wildcard character in place of a real one: it must match only itself.
        at = rnd.randrange(len(value))
        value = value[:at] + rnd.choice("%_") + value[at + 1 :]
    if rnd.random() < 0.1:
        value = " " * rnd.randint(1, 2)  # spaces alone look for spaces, quoted or not
    elif rnd.random() < 0.1:
        value = rnd.choice(["x" * 50_001, "★" * (LIKE_MAX_BYTES // 3 + 1)])  # long (SQLite LIKE stops at 50,000 bytes)
    elif rnd.random() < 0.7:
        value = value.strip(" ")
    if not value:
        value = rnd.choice("xyz09")  # an empty needle is refused: every text contains it
    return value.upper() if rnd.random() < 0.5 else value


def _time_text(rnd: random.Random, rows: list[dict[str, Any]]) -> str:
    moment = rnd.choice(rows)["date"] if rnd.random() < 0.5 else _random_time(rnd)
    if rnd.random() < 0.12:  # at the ends of the datetime range, where a zone or a day's end goes past them
        return rnd.choice(
            [
                "0001-01-01",
                "9999-12-31",
                "9999-12-31 23:00",
                "0001-01-01 05:00",
                "0001-01-01 05:00+09:00",
                "9999-12-31 22:00-05:00",
            ]
        )
    shape = rnd.choice(["date", "date", "minute", "second", "offset", "z"])
    if shape == "date":
        return moment.strftime("%Y-%m-%d")
    if shape == "minute":
        return moment.strftime("%Y-%m-%d %H:%M")
    if shape == "second":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if shape == "z":
        return moment.strftime("%Y-%m-%d %H:%M:%SZ")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + rnd.choice(["+02:00", "-05:30", "+00:00"])


def _condition(rnd: random.Random, rows: list[dict[str, Any]]) -> Condition:
    # Dates weigh more: whole days, zones and offsets leave the most room for mistakes.
    column = rnd.choice(["id", "business_unit_id", "status", "date", "date", "url", "method", "remote_ip", "note"])
    negated = rnd.random() < 0.4
    enabled = rnd.random() < 0.9
    ops = ["=", "~", "^=", "empty"]
    if column in INT_COLUMNS or column == "date":
        ops += [">", ">=", "<", "<="]
    op = rnd.choice(ops)
    if op == "empty":
        return Condition(column, "=", (), negated, enabled)
    count = rnd.choice([1, 1, 2, 3]) if op in ("=", "~", "^=") else 1
    values = []
    for _ in range(count):
        stored = [r[column] for r in rows if r[column] is not None]
        if op in ("~", "^="):
            values.append(_needle(rnd, rows, column))
        elif column in INT_COLUMNS:
            values.append(str(rnd.choice(stored) if stored and rnd.random() < 0.6 else rnd.randint(-5, 600)))
        elif column == "date":
            values.append(_time_text(rnd, rows))
        elif column == "method":
            choice = rnd.choice(CHOICES)
            values.append(choice.lower() if rnd.random() < 0.5 else choice)  # choices in any case
        else:
            values.append(rnd.choice(stored) if stored and rnd.random() < 0.6 else _random_text(rnd))
    return Condition(column, op, tuple(values), negated, enabled)


def _search(rnd: random.Random, rows: list[dict[str, Any]]) -> str:
    terms = []
    for _ in range(rnd.choice([0, 0, 0, 0, 1, 2])):
        if rnd.random() < 0.6:
            row = rnd.choice(rows)
            column = rnd.choice(["url", "remote_ip", "note", "status", "id"])
            value = _text_form(row[column]) if row[column] is not None else "x"
            term = value[: rnd.randint(1, 4)] if column in TEXT_COLUMNS else value
        else:
            term = _random_text(rnd)
        term = "".join(c for c in term if c not in ' "')  # a search term is one word
        if term:
            terms.append(term)
    return " ".join(terms)


def _maybe(rnd: random.Random, value: Any) -> Any:
    return value if rnd.random() < 0.15 else None


@dataclass
class Case:
    rows: list[dict[str, Any]]
    filter: Filter
    zone: str


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rows = draw(tables())
    rnd = random.Random(f"{draw(st.integers(0, 2**32))}:{rows!r}")
    flt = Filter(
        conditions=tuple(_condition(rnd, rows) for _ in range(rnd.choice([1, 1, 2, 3]))),
        time_from=_maybe(rnd, _random_time(rnd)),
        time_to=_maybe(rnd, _random_time(rnd)),
        last=_maybe(rnd, timedelta(hours=rnd.randint(1, 80))),
        search=_search(rnd, rows),
    )
    return Case(rows, flt, rnd.choice(sorted(ZONES)))


# -- the reference ---------------------------------------------------------------------------------


def _user_time(text: str, zone: tzinfo) -> tuple[datetime, datetime | None, bool]:
    """A typed time as an aware start and end (None past 9999), and whether it was a date alone.

    Aware times compare across zones without being moved to UTC, so 0001-01-01 in Tokyo
    needs no year 0. A date alone runs from its midnight to the next one in ``zone``.
    """
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.strptime(text, "%Y-%m-%d").date()
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        end = None if day == day.max else datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        return start, end, True
    local = datetime.fromisoformat(text.replace("Z", "+00:00"))
    aware = local if local.tzinfo else local.replace(tzinfo=zone)
    return aware, aware, False


def _holds(row: dict[str, Any], cond: Condition, zone: tzinfo) -> bool:
    """Whether ``row`` meets the condition before any negation; NULL meets nothing but "empty"."""
    value = row[cond.column]
    if not cond.values:
        return value is None or value == ""
    if value is None:
        return False
    if cond.op in ("~", "^="):
        text = _text_form(value).lower()
        if cond.op == "~":
            return any(v.lower() in text for v in cond.values)
        return any(text.startswith(v.lower()) for v in cond.values)
    if cond.column == "date":
        value = value.replace(tzinfo=UTC)
        for typed in cond.values:
            moment, end, whole_day = _user_time(typed, zone)
            before_end = end is None or value < end
            if cond.op == "=" and (moment <= value and before_end if whole_day else value == moment):
                return True
            if cond.op == ">" and (end is not None and value >= end if whole_day else value > moment):
                return True
            if cond.op == ">=" and value >= moment:
                return True
            if cond.op == "<" and value < moment:
                return True
            if cond.op == "<=" and (before_end if whole_day else value <= moment):
                return True
        return False
    if cond.column in INT_COLUMNS:
        wanted = [int(v) for v in cond.values]
        compare = {
            "=": lambda a, b: a == b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }[cond.op]
        return any(compare(value, w) for w in wanted)
    if cond.column == "method":
        return value in [v.upper() for v in cond.values]
    return value in cond.values


def _found_by_search(row: dict[str, Any], search: str) -> bool:
    for term in search.split():
        in_text = any(row[c] is not None and term.lower() in row[c].lower() for c in TEXT_COLUMNS)
        is_number = re.fullmatch(r"-?\d{1,18}", term) is not None
        if not in_text and not (is_number and any(row[c] == int(term) for c in INT_COLUMNS)):
            return False
    return True


def reference(case: Case) -> list[int]:
    flt, zone = case.filter, ZONES[case.zone]
    time_from = flt.time_from
    if flt.last is not None and case.rows:
        since = max(r["date"] for r in case.rows) - flt.last
        time_from = since if time_from is None else max(time_from, since)
    kept = []
    for row in case.rows:
        if time_from is not None and row["date"] < time_from:
            continue
        if flt.time_to is not None and row["date"] >= flt.time_to:
            continue
        if not all(_holds(row, c, zone) != c.negated for c in flt.conditions if c.enabled):
            continue
        if _found_by_search(row, flt.search):
            kept.append(row)
    kept.sort(key=lambda r: (r["date"], r["id"]), reverse=True)
    return [r["id"] for r in kept]


# -- the test ---------------------------------------------------------------------------------------


class Reloader:
    """Replaces the rows of a log table between examples, as the test's own writer."""

    def __init__(self, spec: str) -> None:
        if "://" in spec:
            url, schema = normalise_url(spec)
        else:
            url, schema = sa.engine.make_url(f"sqlite:///{Path(spec)}"), None
        self.sqlite = url.get_backend_name() == "sqlite"
        self.engine = sa.create_engine(url)
        self.table = sa.Table("api_logs", sa.MetaData(schema=schema), autoload_with=self.engine)

    def load(self, rows: list[dict[str, Any]]) -> None:
        if self.sqlite:
            rows = [{**r, "date": r["date"].strftime("%Y-%m-%d %H:%M:%S")} for r in rows]
        with self.engine.begin() as conn:
            conn.execute(self.table.delete())
            if rows:
                conn.execute(self.table.insert(), rows)


@pytest.fixture
def api_table(db: DbFactory) -> Iterator[tuple[LogTable, Reloader]]:
    spec = db.create(
        {"api": []}, extra={"api": {"note": sa.Text()}}, indexes=[("*", "date"), ("*", "status"), ("*", "remote_ip")]
    )
    reloader = Reloader(spec)
    with open_source(spec) as source:
        yield source.log("api"), reloader
    reloader.engine.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(case=cases())
def test_random_filters_find_what_python_finds(api_table: tuple[LogTable, Reloader], case: Case) -> None:
    table, reloader = api_table
    for cond in case.filter.conditions:
        if "" not in cond.values:  # "col=" is the empty check; the empty text has no other spelling
            assert parse_condition(cond.text()) == Condition(cond.column, cond.op, cond.values, cond.negated)
    reloader.load(case.rows)
    flt = case.filter
    if flt.time_from is not None and flt.time_to is not None and flt.time_from >= flt.time_to:
        with pytest.raises(FilterError, match="is empty: its start must come before its end"):
            LogQuery(table, flt, Sort("date", True), columns=["id"], zone=ZONES[case.zone])
        return
    query = LogQuery(table, case.filter, Sort("date", True), columns=["id"], zone=ZONES[case.zone])
    expected = reference(case)
    assert [row[0] for row in query.first(1000).rows] == expected
    assert query.count() == len(expected)
