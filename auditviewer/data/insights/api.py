"""API: error rate over time and its spikes, who and what fails most, PUT/DELETE volume."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime

import sqlalchemy as sa

from auditviewer.data.insights.base import (
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
            values = tuple(100.0 * n / t if t else 0.0 for n, t in zip(found.counts, totals))
            series.append(ChartSeries(f"{found.label} (% of calls)", values, found.color))
    return Chart(
        "line", f"API error rate per {label_width(timeline.width)}", "% of calls", tuple(series), edges=timeline.edges
    )


def error_rate(ctx: Context) -> list[Finding]:
    """The share of 4xx and 5xx over time, and the hours when server errors spiked."""
    query = LogQuery(ctx.table, ctx.query.filter)
    hourly = compute_timeline(query, ctx.token, width=HOUR)
    if hourly.is_empty:
        return [Finding("api_error_rate", "API error rate", Severity.OK, "No API calls in the period.", "api")]
    span = hourly.edges[-1] - hourly.edges[0]
    shown_width = max(choose_width(span), HOUR)
    fine = hourly if shown_width == HOUR else hourly.regrouped(int(shown_width / HOUR))
    calls, totals = hourly.total, hourly.totals
    five = hourly.series_by_key("5xx")
    four = hourly.series_by_key("4xx")
    n5 = sum(five.counts) if five else 0
    n4 = sum(four.counts) if four else 0
    overall = n5 / calls if calls else 0.0
    spikes: list[tuple[datetime, datetime, int, int]] = []  # merged runs of spiking hours
    if five is not None:
        threshold = max(SPIKE_MIN_RATE, 5 * overall)
        for k, (errors, total) in enumerate(zip(five.counts, totals)):
            if errors >= SPIKE_MIN_ERRORS and total and errors / total >= threshold:
                start, end = hourly.edges[k], hourly.edges[k + 1]
                if spikes and spikes[-1][1] == start:
                    a, _b, e, t = spikes[-1]
                    spikes[-1] = (a, end, e + errors, t + total)
                else:
                    spikes.append((start, end, errors, total))
    summary = (
        f"{pct(n5, calls, 2)} of {fmt_int(calls)} calls failed on the server (5xx) and "
        f"{pct(n4, calls, 2)} were refused (4xx), {ctx.describe_period()}."
    )
    items = []
    for start, end, errors, total in spikes:
        items.append(
            Item(
                (f"{fmt_time(start)} – {fmt_time(end)}", fmt_int(total), fmt_int(errors), pct(errors, total)),
                ctx.link(*ctx.outcome("5xx"), time_from=start, time_to=end),
                Severity.ERROR,
            )
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
            tuple(items),
            _rate_chart(fine),
        )
    ]


def error_sources(ctx: Context) -> list[Finding]:
    """The endpoints and the callers with the most 4xx and 5xx: one pass over the failed calls."""
    failing = ["4xx", "5xx"]  # the outcomes API declares beside "ok"
    case = sa.case(*[(ctx.outcome_clause(k), k) for k in reversed(failing)], else_="")
    url, method, ip = ctx.col("url"), ctx.col("method"), ctx.col("remote_ip")
    stmt = (
        ctx.select(url, method, ip, case.label("outcome"), sa.func.count())
        .where(*ctx.clause(), sa.or_(*(ctx.outcome_clause(k) for k in failing)))
        .group_by(url, method, ip, sa.text("4"))
    )
    by_endpoint: dict[tuple[str, str], Counter] = defaultdict(Counter)
    urls: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_ip: dict[str, Counter] = defaultdict(Counter)
    for address, verb, caller, outcome, n in ((u, m, i, o, int(c)) for u, m, i, o, c in ctx.rows(stmt)):
        key = (str(verb), endpoint(str(address)))
        by_endpoint[key][outcome] += n
        if len(urls[key]) < 2:
            urls[key].add(str(address))
        by_ip[str(caller)][outcome] += n
    failed_total = sum(sum(c.values()) for c in by_ip.values())
    if not failed_total:
        return [
            Finding(
                "api_error_endpoints",
                "Endpoints with the most errors",
                Severity.OK,
                "No API call failed in the period.",
                "api",
            )
        ]
    n = ctx.params.top
    ranked = top({k: sum(c.values()) for k, c in by_endpoint.items()}, n)
    items, labels = [], []
    for (verb, pattern), total in ranked:
        counts = by_endpoint[(verb, pattern)]
        conditions = [eq("method", verb), *endpoint_conditions(pattern, sorted(urls[(verb, pattern)]))]
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
        tuple(ChartSeries(k, tuple(float(by_endpoint[e][k]) for e, _ in ranked), _COLORS[k]) for k in failing),
        categories=tuple(labels),
        stacked=True,
    )
    top_share = ranked[0][1] / failed_total
    endpoints = Finding(
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
    ranked_ips = top({k: sum(c.values()) for k, c in by_ip.items()}, n)
    ip_items = tuple(
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
        for caller, total in ranked_ips
    )
    ip_chart = Chart(
        "bar",
        "Failed calls by caller IP",
        "calls",
        tuple(ChartSeries(k, tuple(float(by_ip[c][k]) for c, _ in ranked_ips), _COLORS[k]) for k in failing),
        categories=tuple(c for c, _ in ranked_ips),
        stacked=True,
    )
    callers = Finding(
        "api_error_callers",
        "Callers with the most errors",
        Severity.WARNING,
        f"{plural(len(by_ip), 'caller IP')} had failed calls; the most: {ranked_ips[0][0]} with "
        f"{fmt_int(ranked_ips[0][1])} ({pct(ranked_ips[0][1], failed_total, 0)} of all failures).",
        "api",
        ctx.link("status>=400"),
        ("Caller IP", "4xx", "5xx", "Failed calls", "Share"),
        ip_items,
        ip_chart,
    )
    return [endpoints, callers]


def writes(ctx: Context) -> list[Finding]:
    """How many PUT and DELETE calls, when and from whom: changes and deletions of data."""
    low, high = ctx.window()
    span = (high - low) if low and high else None
    if span is None:
        first = ctx.scalar(ctx.select(sa.func.min(ctx.time)))
        last = ctx.scalar(ctx.select(sa.func.max(ctx.time)))
        span = (last - first) if isinstance(first, datetime) and isinstance(last, datetime) else DAY
    width = max(choose_width(span), HOUR)
    method, ip = ctx.col("method"), ctx.col("remote_ip")
    bucket = ctx.seconds(width.total_seconds()).label("bucket")
    stmt = (
        ctx.select(bucket, method, ip, sa.func.count())
        .where(*ctx.clause("method=PUT,DELETE"))
        .group_by(sa.text("1"), method, ip)
    )
    per_bucket: dict[int, Counter] = defaultdict(Counter)
    per_ip: dict[str, Counter] = defaultdict(Counter)
    for index, verb, caller, n in ctx.rows(stmt):
        if index is None:
            continue
        per_bucket[int(index)][str(verb).upper()] += int(n)
        per_ip[str(caller)][str(verb).upper()] += int(n)
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
    first, last = min(per_bucket), max(per_bucket)
    origin = datetime(1970, 1, 1)
    edges = tuple(origin + width * k for k in range(first, last + 2))
    colors = {"PUT": "#72b7b2", "DELETE": "#b279a2"}
    chart = Chart(
        "time",
        f"PUT and DELETE calls per {label_width(width)}",
        "calls",
        tuple(
            ChartSeries(v, tuple(float(per_bucket.get(k, Counter())[v]) for k in range(first, last + 1)), colors[v])
            for v in ("PUT", "DELETE")
        ),
        edges=edges,
        stacked=True,
    )
    daily = sorted(c["DELETE"] for c in per_bucket.values())
    median = daily[len(daily) // 2] if daily else 0
    busiest_k, busiest = max(per_bucket.items(), key=lambda kv: (kv[1]["DELETE"], -kv[0]))
    unusual = busiest["DELETE"] >= 20 and busiest["DELETE"] > 5 * max(median, 1)
    summary = (
        f"{fmt_int(puts)} PUT (change) and {fmt_int(deletes)} DELETE calls from "
        f"{plural(len(per_ip), 'caller IP')}. Most deletions in one {label_width(width)}: "
        f"{fmt_int(busiest['DELETE'])} from {fmt_time(edges[busiest_k - first])} UTC"
        + (f", more than five times the usual {fmt_int(median)}." if unusual else ".")
    )
    items = tuple(
        Item(
            (caller, fmt_int(per_ip[caller]["PUT"]), fmt_int(per_ip[caller]["DELETE"])),
            ctx.link(eq("remote_ip", caller), "method=PUT,DELETE"),
        )
        for caller, _n in top({c: sum(v.values()) for c, v in per_ip.items()}, ctx.params.top)
    )
    return [
        Finding(
            "api_writes",
            "PUT and DELETE volume",
            Severity.WARNING if unusual else Severity.OK,
            summary,
            "api",
            ctx.link("method=PUT,DELETE"),
            ("Caller IP", "PUT", "DELETE"),
            items,
            chart,
        )
    ]
