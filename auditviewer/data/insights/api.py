"""API: error rate over time and its spikes, who and what fails most, PUT/DELETE volume."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from auditviewer.data.insights.base import (
    EPOCH,
    Context,
    endpoint,
    endpoint_conditions,
    eq,
    fmt_int,
    fmt_time,
    pct,
    plural,
    top,
)
from auditviewer.data.insights.model import Chart, ChartSeries, Finding, Item
from auditviewer.data.logtypes import API, Severity
from auditviewer.data.query import LogQuery
from auditviewer.data.timeline import DAY, HOUR, Timeline, choose_width, compute_timeline, label_width

log = logging.getLogger(__name__)

#: An hour is a spike when at least this many calls failed on the server ...
SPIKE_MIN_ERRORS = 10
#: ... and its 5xx rate is at least this, and five times the period's.
SPIKE_MIN_RATE = 0.10
_COLORS = {o.key: o.color for o in API.outcomes}


def _rate_chart(timeline: Timeline) -> Chart:
    totals = timeline.totals
    series = []
    for key in ("4xx", "5xx"):
        found = timeline.series_by_key(key)
        if found is not None:
            values = tuple(100.0 * n / t if t else 0.0 for n, t in zip(found.counts, totals, strict=True))
            series.append(ChartSeries(f"{found.label} (% of calls)", values, found.color))
    return Chart(
        "line", f"API error rate per {label_width(timeline.width)}", "% of calls", tuple(series), edges=timeline.edges
    )


#: A run of hours when server errors spiked: [start, end), failed calls, calls.
Spike = tuple[datetime, datetime, int, int]


def error_rate(ctx: Context) -> list[Finding]:
    """The share of 4xx and 5xx over time, and the hours when server errors spiked."""
    query = LogQuery(ctx.table, ctx.query.filter)
    hourly = compute_timeline(query, ctx.token, width=HOUR)
    if hourly.is_empty:
        return [Finding("api_error_rate", "API error rate", Severity.OK, "No API calls in the period.", "api")]
    span = hourly.edges[-1] - hourly.edges[0]
    shown_width = max(choose_width(span), HOUR)
    fine = hourly if shown_width == HOUR else hourly.regrouped(int(shown_width / HOUR))
    calls = hourly.total
    five = hourly.series_by_key("5xx")
    four = hourly.series_by_key("4xx")
    n5 = sum(five.counts) if five else 0
    n4 = sum(four.counts) if four else 0
    overall = n5 / calls if calls else 0.0
    spikes = _spikes(hourly, max(SPIKE_MIN_RATE, 5 * overall))
    summary = (
        f"{pct(n5, calls, 2)} of {fmt_int(calls)} calls failed on the server (5xx) and "
        f"{pct(n4, calls, 2)} were refused (4xx), {ctx.describe_period()}."
    )
    items = tuple(
        Item(
            (f"{fmt_time(start)} – {fmt_time(end)}", fmt_int(total), fmt_int(errors), pct(errors, total)),
            ctx.link(*ctx.outcome("5xx"), time_from=start, time_to=end),
            Severity.ERROR,
        )
        for start, end, errors, total in spikes
    )
    if spikes:
        worst = max(spikes, key=lambda s: s[2] / s[3])
        summary += (
            f" Server errors spiked in {plural(len(spikes), 'period')}; the worst: "
            f"{pct(worst[2], worst[3], 0)} of calls from {fmt_time(worst[0])} to {fmt_time(worst[1])} UTC."
        )
        severity = Severity.ERROR
    else:
        severity = Severity.WARNING if overall >= 0.01 else Severity.OK
    return [
        Finding(
            "api_error_rate",
            "API error rate over time",
            severity,
            summary,
            "api",
            ctx.link(*ctx.outcome("5xx")),
            ("Period (UTC)", "Calls", "5xx", "5xx rate"),
            items,
            _rate_chart(fine),
        )
    ]


def _spikes(hourly: Timeline, threshold: float) -> list[Spike]:
    """The hours with at least SPIKE_MIN_ERRORS server errors at ``threshold`` of the calls or more,
    neighbours merged into one run."""
    five = hourly.series_by_key("5xx")
    if five is None:
        return []
    spikes: list[Spike] = []
    for k, (errors, total) in enumerate(zip(five.counts, hourly.totals, strict=True)):
        if errors >= SPIKE_MIN_ERRORS and total and errors / total >= threshold:
            start, end = hourly.edges[k], hourly.edges[k + 1]
            if spikes and spikes[-1][1] == start:
                a, _b, e, t = spikes[-1]
                spikes[-1] = (a, end, e + errors, t + total)
            else:
                spikes.append((start, end, errors, total))
    return spikes


#: The outcomes API declares beside "ok".
_FAILING = ("4xx", "5xx")


@dataclass
class _Failures:
    """Failed calls (by outcome) per endpoint (method, URL pattern) and per caller IP."""

    by_endpoint: dict[tuple[str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: Up to two URLs seen per endpoint: one alone is matched exactly, more by their common prefix.
    urls: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    by_ip: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def total(self) -> int:
        return sum(c.total() for c in self.by_ip.values())


def _failures(ctx: Context) -> _Failures:
    """One pass over the failed calls, grouped by URL, method, caller and outcome."""
    case = sa.case(*[(ctx.outcome_clause(k), k) for k in reversed(_FAILING)], else_="")
    url, method, ip = ctx.col("url"), ctx.col("method"), ctx.col("remote_ip")
    stmt = (
        ctx.select(url, method, ip, case.label("outcome"), sa.func.count())
        .where(*ctx.clause(), sa.or_(*(ctx.outcome_clause(k) for k in _FAILING)))
        .group_by(url, method, ip, sa.text("4"))
    )
    failures = _Failures()
    for address, verb, caller, outcome, n in ((u, m, i, o, int(c)) for u, m, i, o, c in ctx.rows(stmt)):
        key = (str(verb), endpoint(str(address)))
        failures.by_endpoint[key][outcome] += n
        if len(failures.urls[key]) < 2:
            failures.urls[key].add(str(address))
        failures.by_ip[str(caller)][outcome] += n
    return failures


def error_sources(ctx: Context) -> list[Finding]:
    """The endpoints and the callers with the most 4xx and 5xx: one pass over the failed calls."""
    failures = _failures(ctx)
    if not failures.total:
        return [
            Finding(
                "api_error_endpoints",
                "Endpoints with the most errors",
                Severity.OK,
                "No API call failed in the period.",
                "api",
            )
        ]
    return [_endpoints_finding(ctx, failures), _callers_finding(ctx, failures)]


def _endpoints_finding(ctx: Context, failures: _Failures) -> Finding:
    by_endpoint, failed_total = failures.by_endpoint, failures.total
    ranked = top({k: c.total() for k, c in by_endpoint.items()}, ctx.params.top)
    items, labels = [], []
    for (verb, pattern), total in ranked:
        counts = by_endpoint[(verb, pattern)]
        conditions = [eq("method", verb), *endpoint_conditions(pattern, sorted(failures.urls[(verb, pattern)]))]
        labels.append(f"{verb} {pattern}")
        items.append(
            Item(
                (f"{verb} {pattern}", fmt_int(counts["4xx"]), fmt_int(counts["5xx"]), fmt_int(total)),
                ctx.link(*conditions, "status>=400"),
                Severity.ERROR if counts["5xx"] else Severity.WARNING,
            )
        )
    chart = Chart(
        "bar",
        "Failed calls by endpoint",
        "calls",
        tuple(ChartSeries(k, tuple(float(by_endpoint[e][k]) for e, _ in ranked), _COLORS[k]) for k in _FAILING),
        categories=tuple(labels),
        stacked=True,
    )
    top_share = ranked[0][1] / failed_total
    return Finding(
        "api_error_endpoints",
        "Endpoints with the most errors",
        Severity.WARNING,
        f"{fmt_int(failed_total)} calls failed (4xx or 5xx) on {plural(len(by_endpoint), 'endpoint')}; "
        f"{labels[0]} alone had {pct(ranked[0][1], failed_total, 0)} of them."
        + (" Fixing that integration would remove most errors." if top_share >= 0.3 else ""),
        "api",
        ctx.link("status>=400"),
        ("Endpoint", "4xx", "5xx", "Failed calls"),
        tuple(items),
        chart,
    )


def _callers_finding(ctx: Context, failures: _Failures) -> Finding:
    by_ip, failed_total = failures.by_ip, failures.total
    ranked = top({k: c.total() for k, c in by_ip.items()}, ctx.params.top)
    items = tuple(
        Item(
            (
                caller,
                fmt_int(by_ip[caller]["4xx"]),
                fmt_int(by_ip[caller]["5xx"]),
                fmt_int(total),
                pct(total, failed_total),
            ),
            ctx.link(eq("remote_ip", caller), "status>=400"),
            Severity.WARNING,
        )
        for caller, total in ranked
    )
    chart = Chart(
        "bar",
        "Failed calls by caller IP",
        "calls",
        tuple(ChartSeries(k, tuple(float(by_ip[c][k]) for c, _ in ranked), _COLORS[k]) for k in _FAILING),
        categories=tuple(c for c, _ in ranked),
        stacked=True,
    )
    return Finding(
        "api_error_callers",
        "Callers with the most errors",
        Severity.WARNING,
        f"{plural(len(by_ip), 'caller IP')} had failed calls; the most: {ranked[0][0]} with "
        f"{fmt_int(ranked[0][1])} ({pct(ranked[0][1], failed_total, 0)} of all failures).",
        "api",
        ctx.link("status>=400"),
        ("Caller IP", "4xx", "5xx", "Failed calls", "Share"),
        items,
        chart,
    )


_WRITES = "method=PUT,DELETE"
_WRITE_COLORS = {"PUT": "#72b7b2", "DELETE": "#b279a2"}


def writes(ctx: Context) -> list[Finding]:
    """How many PUT and DELETE calls, when and from whom: changes and deletions of data."""
    width = max(choose_width(_period_span(ctx)), HOUR)
    per_bucket, per_ip = _writes_counts(ctx, width)
    puts = sum(c["PUT"] for c in per_ip.values())
    deletes = sum(c["DELETE"] for c in per_ip.values())
    if not puts and not deletes:
        return [
            Finding(
                "api_writes",
                "PUT and DELETE volume",
                Severity.OK,
                "No PUT or DELETE calls in the period: nothing was changed or deleted through the API.",
                "api",
            )
        ]
    busiest_start, busiest, median = _busiest_deletes(per_bucket, width)
    unusual = busiest >= 20 and busiest > 5 * max(median, 1)
    summary = (
        f"{fmt_int(puts)} PUT (change) and {fmt_int(deletes)} DELETE calls from "
        f"{plural(len(per_ip), 'caller IP')}. Most deletions in one {label_width(width)}: "
        f"{fmt_int(busiest)} from {fmt_time(busiest_start)} UTC"
        + (f", more than five times the usual {fmt_int(median)}." if unusual else ".")
    )
    items = tuple(
        Item(
            (caller, fmt_int(per_ip[caller]["PUT"]), fmt_int(per_ip[caller]["DELETE"])),
            ctx.link(eq("remote_ip", caller), _WRITES),
        )
        for caller, _n in top({c: v.total() for c, v in per_ip.items()}, ctx.params.top)
    )
    return [
        Finding(
            "api_writes",
            "PUT and DELETE volume",
            Severity.WARNING if unusual else Severity.OK,
            summary,
            "api",
            ctx.link(_WRITES),
            ("Caller IP", "PUT", "DELETE"),
            items,
            _writes_chart(per_bucket, width),
        )
    ]


def _busiest_deletes(per_bucket: dict[int, Counter[str]], width: timedelta) -> tuple[datetime, int, int]:
    """When the most deletions in one bucket began, how many, and the median per bucket with any writes."""
    daily = sorted(c["DELETE"] for c in per_bucket.values())
    median = daily[len(daily) // 2] if daily else 0
    busiest_k, busiest = max(per_bucket.items(), key=lambda kv: (kv[1]["DELETE"], -kv[0]))
    return EPOCH + width * busiest_k, busiest["DELETE"], median


def _writes_chart(per_bucket: dict[int, Counter[str]], width: timedelta) -> Chart:
    first, last = min(per_bucket), max(per_bucket)
    return Chart(
        "time",
        f"PUT and DELETE calls per {label_width(width)}",
        "calls",
        tuple(
            ChartSeries(
                v, tuple(float(per_bucket.get(k, Counter())[v]) for k in range(first, last + 1)), _WRITE_COLORS[v]
            )
            for v in ("PUT", "DELETE")
        ),
        edges=tuple(EPOCH + width * k for k in range(first, last + 2)),
        stacked=True,
    )


def _period_span(ctx: Context) -> timedelta:
    """How long the period is: its own bounds, else the log's first to last row (a day if unknown)."""
    low, high = ctx.window()
    if low and high:
        return high - low
    first = ctx.scalar(ctx.select(sa.func.min(ctx.time)))
    last = ctx.scalar(ctx.select(sa.func.max(ctx.time)))
    return (last - first) if isinstance(first, datetime) and isinstance(last, datetime) else DAY


def _writes_counts(ctx: Context, width: timedelta) -> tuple[dict[int, Counter[str]], dict[str, Counter[str]]]:
    """PUT and DELETE calls per ``width`` bucket (numbered from 1970) and per caller IP."""
    method, ip = ctx.col("method"), ctx.col("remote_ip")
    bucket = ctx.seconds(width.total_seconds()).label("bucket")
    stmt = (
        ctx.select(bucket, method, ip, sa.func.count()).where(*ctx.clause(_WRITES)).group_by(sa.text("1"), method, ip)
    )
    per_bucket: dict[int, Counter[str]] = defaultdict(Counter)
    per_ip: dict[str, Counter[str]] = defaultdict(Counter)
    for index, verb, caller, n in ctx.rows(stmt):
        if index is None:
            continue
        per_bucket[int(index)][str(verb).upper()] += int(n)
        per_ip[str(caller)][str(verb).upper()] += int(n)
    return per_bucket, per_ip
