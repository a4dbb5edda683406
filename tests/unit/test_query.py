"""Pages, jumps, counts, charts and facets agree with a plain Python reading of the same rows."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from auditviewer.data.filters import Filter, Sort, condition_clause, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import BASE, panel_row

# Dates repeat (ties broken by id) and do not follow the ids; the nullable
# api_method_status has NULLs and ties. Its texts are lower-case letters only,
# which every backend's collation orders the same way.
STATUSES = [None, "ok", "bad", "zz", None, "ok", "denied"]
ROWS = [
    panel_row(
        i,
        date=BASE + timedelta(minutes=(i * 7) % 13),
        url=f"/panel/{i}",
        api_method_status=STATUSES[i % len(STATUSES)],
        method=("GET", "POST")[i % 2],
    )
    for i in range(1, 44)
]
FILTER = Filter((parse_condition("url!~/1"),))  # drops ids 1 and 10-19


def _kept(row: dict[str, Any]) -> bool:
    return "/1" not in row["url"]


def _expected(column: str, descending: bool, rows: list[dict[str, Any]]) -> list[int]:
    """Ids in the documented order: ties by id; NULLs last ascending, first descending."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        if column == "id":
            return (row["id"],)
        value = row[column]
        return (value is None, "" if value is None else value, row["id"])

    return [r["id"] for r in sorted(rows, key=key, reverse=descending)]


SORTS = [
    pytest.param("date", True, False, id="date-desc"),
    pytest.param("id", False, False, id="id-asc"),
    pytest.param("id", True, False, id="id-desc"),
    pytest.param("api_method_status", False, False, id="nullable-text-asc"),
    pytest.param("api_method_status", True, False, id="nullable-text-desc"),
    pytest.param("api_method_status", False, True, id="nullable-indexed-text-asc"),
    pytest.param("api_method_status", True, True, id="nullable-indexed-text-desc"),
]


@pytest.fixture
def make_table(db: DbFactory) -> Iterator[Callable[..., LogTable]]:
    sources = []

    def make(rows: list[dict[str, Any]] = ROWS, indexed: tuple[str, ...] = (), **kwargs: Any) -> LogTable:
        indexes = [("*", "date")] + [("*", name) for name in indexed]
        source = open_source(db.create({"panel": rows}, indexes=indexes, **kwargs))
        sources.append(source)
        return source.log("panel")

    yield make
    for source in sources:
        source.close()


def _ids(rows: list[tuple[Any, ...]]) -> list[int]:
    return [row[0] for row in rows]


@pytest.mark.parametrize(("column", "descending", "indexed"), SORTS)
def test_walking_pages_forward_and_back(
    make_table: Callable[..., LogTable], column: str, descending: bool, indexed: bool
) -> None:
    table = make_table(indexed=(column,) if indexed else ())
    expected = _expected(column, descending, [r for r in ROWS if _kept(r)])
    query = LogQuery(table, FILTER, Sort(column, descending), columns=["id", column])
    assert _ids(query.first(1000).rows) == expected

    forward, page, steps = [], query.first(4), 0
    while page.rows:
        assert len(page.rows) == len(page.keys) <= 4
        forward += _ids(page.rows)
        page = query.after(page.keys[-1], 4)
        steps += 1
        assert steps <= len(expected)
    assert forward == expected

    backward, page, steps = [], query.last(4), 0
    while page.rows:
        backward = _ids(page.rows) + backward
        page = query.before(page.keys[0], 4)
        steps += 1
        assert steps <= len(expected)
    assert backward == expected


@pytest.mark.parametrize(("column", "descending", "indexed"), SORTS)
def test_jumping_to_a_position(
    make_table: Callable[..., LogTable], column: str, descending: bool, indexed: bool
) -> None:
    table = make_table(indexed=(column,) if indexed else ())
    query = LogQuery(table, FILTER, Sort(column, descending), columns=["id"])
    everything = query.first(1000)
    expected, keys, total = _ids(everything.rows), everything.keys, len(everything.rows)
    n = 5
    for offset in range(total + 1):
        want = expected[offset : offset + n]
        assert _ids(query.at(offset, n).rows) == want, f"from the start to {offset}"
        assert _ids(query.at(offset, n, total=total).rows) == want, f"from the end to {offset}"
        for position in (0, 7, total // 2, total - 1):
            page = query.at(offset, n, anchor=(position, keys[position]))
            assert _ids(page.rows) == want, f"from row {position} to {offset}"
            assert page.keys == keys[offset : offset + n]


@pytest.mark.parametrize(("column", "descending", "indexed"), SORTS[:5])
def test_key_samples_are_the_keys_at_every_step(
    make_table: Callable[..., LogTable], column: str, descending: bool, indexed: bool
) -> None:
    query = LogQuery(make_table(), FILTER, Sort(column, descending))
    keys = query.first(1000).keys
    for step in (1, 3, 7, len(keys), len(keys) + 1):
        assert query.key_samples(step) == keys[step - 1 :: step]


def test_counts_and_time_range(make_table: Callable[..., LogTable]) -> None:
    table = make_table()
    kept = [r for r in ROWS if _kept(r)]
    query = LogQuery(table, FILTER)
    assert query.count() == len(kept)
    assert LogQuery(table).count() == len(ROWS)
    assert query.count_capped(10) == (10, False)
    assert query.count_capped(len(kept)) == (len(kept), True)
    assert query.count_capped(1000) == (len(kept), True)
    assert query.time_range() == (min(r["date"] for r in kept), max(r["date"] for r in kept))
    nothing = LogQuery(table, Filter((parse_condition("url=/nowhere"),)))
    assert nothing.count() == 0
    assert nothing.count_capped(5) == (0, True)
    assert nothing.time_range() == (None, None)
    assert nothing.first(5).rows == [] and nothing.last(5).rows == []
    assert nothing.key_samples(2) == []


def test_facets_equal_a_counter(make_table: Callable[..., LogTable]) -> None:
    table = make_table()
    kept = [r for r in ROWS if _kept(r)]
    for column in ("api_method_status", "method", "date"):
        counter = Counter(r[column] for r in kept)
        facets = LogQuery(table, FILTER).facets(column, limit=100)
        assert dict(facets) == counter
        assert [c for _, c in facets] == sorted(counter.values(), reverse=True)
        top = LogQuery(table, FILTER).facets(column, limit=2)
        assert [c for _, c in top] == [c for _, c in counter.most_common(2)]


# -- histograms --------------------------------------------------------------------------

SPREAD = [
    panel_row(
        i,
        date=BASE + timedelta(seconds=(i * 379) % 10800),
        method=("GET", "POST")[i % 3 == 0],
        api_method_status=STATUSES[i % len(STATUSES)],
    )
    for i in range(1, 201)
]  # three hours, seconds apart, in no order
# Rows exactly on bucket edges (start + 7 min + k * 20 min) land in the later bucket.
SPREAD += [panel_row(300 + k, date=BASE + timedelta(minutes=7 + 20 * k), api_method_status="edge") for k in range(3)]


def _python_counts(rows: list[dict[str, Any]], start: datetime, width: timedelta, buckets: int) -> list[int]:
    counts = [0] * buckets
    for row in rows:
        if row["date"] >= start and row["date"] < start + width * buckets:
            counts[(row["date"] - start) // width] += 1
    return counts


HISTOGRAM_CASES = [
    pytest.param(True, "", "_range_counts", id="index-no-filter"),
    pytest.param(True, "method=POST", "_grouped_counts", id="index-filter"),
    pytest.param(True, "api_method_status=", "_grouped_counts", id="index-empty-check"),
    pytest.param(False, "", "_grouped_counts", id="no-index"),
]


@pytest.mark.parametrize(("indexed", "condition", "strategy"), HISTOGRAM_CASES)
def test_histogram_counts(db: DbFactory, indexed: bool, condition: str, strategy: str) -> None:
    spec = db.create({"panel": SPREAD}, indexes=[("*", "date")] if indexed else [])
    flt = Filter((parse_condition(condition),)) if condition else Filter()
    start, end, width = BASE + timedelta(minutes=7), BASE + timedelta(minutes=150), timedelta(minutes=20)
    with open_source(spec) as source:
        query = LogQuery(source.log("panel"), flt)
        with mock.patch.object(LogQuery, strategy, autospec=True, side_effect=getattr(LogQuery, strategy)) as spy:
            buckets = query.histogram(start, end, width)
        assert spy.called
    # Edges as asked: from start, every 20 minutes, the last one reaching past the end.
    assert [b.start for b in buckets] == [start + width * k for k in range(8)]
    assert all(b.end - b.start == width for b in buckets)
    assert buckets[-1].end >= end > buckets[-1].start
    if condition == "method=POST":
        rows = [r for r in SPREAD if r["method"] == "POST"]
    elif condition:
        rows = [r for r in SPREAD if r.get("api_method_status") is None]
    else:
        rows = SPREAD
    assert [b.count for b in buckets] == _python_counts(rows, start, width, len(buckets))
    assert sum(b.count for b in buckets) > 0


def test_histogram_with_a_stacking_slice(db: DbFactory) -> None:
    with open_source(db.create({"panel": SPREAD})) as source:
        table = source.log("panel")
        start, width = BASE, timedelta(hours=1)
        buckets = LogQuery(table).histogram(
            start, BASE + timedelta(hours=3), width, extra=condition_clause(table, parse_condition("method=GET"))
        )
    rows = [r for r in SPREAD if r["method"] == "GET"]
    assert [b.count for b in buckets] == _python_counts(rows, start, width, 3)


def test_last_span_resolves_against_the_newest_row(db: DbFactory) -> None:
    with open_source(db.create({"panel": SPREAD})) as source:
        table = source.log("panel")
        newest = max(r["date"] for r in SPREAD)
        since = newest - timedelta(hours=1)
        recent = [r for r in SPREAD if r["date"] >= since]
        query = LogQuery(table, Filter(last=timedelta(hours=1)), Sort("id", False), columns=["id"])
        assert _ids(query.first(1000).rows) == sorted(r["id"] for r in recent)
        assert query.count() == len(recent)
        assert query.time_range() == (min(r["date"] for r in recent), newest)
        # The span is counted back from the newest row of the log, not of the filtered rows.
        posts = LogQuery(table, Filter((parse_condition("method=POST"),), last=timedelta(hours=1)))
        assert posts.count() == sum(1 for r in recent if r["method"] == "POST")
        # An explicit start later than the span wins.
        later = LogQuery(table, Filter(last=timedelta(hours=1), time_from=newest - timedelta(minutes=10)))
        assert later.count() == sum(1 for r in SPREAD if r["date"] >= newest - timedelta(minutes=10))
        buckets = query.histogram(since, newest + timedelta(seconds=1), timedelta(minutes=15))
        assert sum(b.count for b in buckets) == len(recent)


def test_iter_rows_streams_every_row_in_order(make_table: Callable[..., LogTable]) -> None:
    query = LogQuery(make_table(), FILTER, Sort("date", True))
    expected = query.first(1000).rows
    assert list(query.iter_rows(batch=3)) == expected
    assert list(query.iter_rows(limit=5)) == expected[:5]


def test_an_abandoned_stream_is_closed(make_table: Callable[..., LogTable]) -> None:
    """Stopping after the first rows closes the (server-side) cursor: no warning, no leak."""
    query = LogQuery(make_table(), sort=Sort("id", False), columns=["id"])
    rows = query.iter_rows(batch=5)
    assert next(rows) == (1,)
    rows.close()
    gc.collect()
    assert [row[0] for row in query.iter_rows(batch=5)] == [r["id"] for r in ROWS]
