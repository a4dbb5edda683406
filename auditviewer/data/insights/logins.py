"""Login security: failed-login bursts, a success right after one, new countries, odd hours, odd addresses.

Bursts are found with window functions: among one e-mail's (or one IP's)
failed logins in time order, a failure whose (N-1)th successor is at most T
minutes later starts a burst; overlapping starts are one burst. Only failed
logins are read for that, and each burst's details are index lookups.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from auditviewer.data.details import ip_kind
from auditviewer.data.insights.base import Context, eq, fmt_int, fmt_time, pct, plural, top
from auditviewer.data.insights.model import Chart, ChartSeries, Finding, Item
from auditviewer.data.logtypes import Severity
from auditviewer.data.query import LogQuery
from auditviewer.data.timeline import compute_timeline
from auditviewer.data.timestamps import UTC

log = logging.getLogger(__name__)

#: Bursts looked at in detail (who else, what followed), largest first.
MAX_BURSTS = 200
KEYS = (("email", "E-mail"), ("remote_ip", "IP"))


@dataclass
class Burst:
    column: str
    value: str
    first: datetime
    last: datetime
    start_rn: int
    end_rn: int
    others: Counter[str] = field(default_factory=Counter)  # IPs of an e-mail's burst, e-mails of an IP's
    countries: Counter[str] = field(default_factory=Counter)
    success: tuple[datetime, str, str, str] | None = None  # (when, e-mail, IP, country)

    @property
    def failures(self) -> int:
        return self.end_rn - self.start_rn + 1


# -- bursts -------------------------------------------------------------------------------------


def find_bursts(ctx: Context, column: str) -> list[Burst]:
    """Runs of at least N failed logins within T minutes for one value of ``column``."""
    n, seconds = ctx.params.burst_failures, ctx.params.burst_minutes * 60
    key, time = ctx.col(column), ctx.time
    order = (time, ctx.col("id"))
    secs = ctx.seconds()
    inner = (
        ctx.select(
            key.label("k"),
            time.label("at"),
            secs.label("secs"),
            sa.func.lead(secs, n - 1).over(partition_by=key, order_by=order).label("nth_secs"),
            sa.func.lead(time, n - 1, type_=time.type).over(partition_by=key, order_by=order).label("nth_at"),
            sa.func.row_number().over(partition_by=key, order_by=order).label("rn"),
        )
        .where(*ctx.clause(*ctx.outcome("failed")), key.is_not(None))
        .subquery("failures")
    )
    stmt = (
        sa.select(inner.c.k, inner.c.at, inner.c.nth_at, inner.c.rn)
        .where(inner.c.nth_secs - inner.c.secs <= seconds)
        .order_by(inner.c.k, inner.c.rn)
    )
    bursts: list[Burst] = []
    current: Burst | None = None
    for value, at, nth_at, rn in ctx.rows(stmt):
        rn = int(rn)
        if current is not None and current.value == value and rn <= current.end_rn:
            current.end_rn, current.last = rn + n - 1, nth_at
            continue
        current = Burst(column, str(value), at, nth_at, rn, rn + n - 1)
        bursts.append(current)
    return bursts


def _burst_details(ctx: Context, burst: Burst) -> None:
    """Who else was involved, from where, and whether a success followed within T minutes.

    One read of every attempt in the burst's minutes (a range on the date
    index: few rows), sorted out here.
    """
    other = "remote_ip" if burst.column == "email" else "email"
    until = burst.last + timedelta(minutes=ctx.params.burst_minutes)
    names = ["email", "remote_ip"] + (["country"] if ctx.has("country") else [])
    failed = ctx.outcome_clause("failed")
    stmt = (
        ctx.select(*(ctx.col(n) for n in names), sa.case((failed, 1), else_=0), ctx.time)
        .where(ctx.time >= burst.first, ctx.time <= until)
        .order_by(ctx.time, ctx.col("id"))
    )
    for *values, is_failure, at in ctx.rows(stmt):
        row = dict(zip(names, values, strict=True))
        if str(row[burst.column]) != burst.value:
            continue
        if is_failure and at <= burst.last:
            burst.others[str(row[other])] += 1
            if row.get("country"):
                burst.countries[str(row["country"])] += 1
        elif not is_failure and at > burst.last and burst.success is None:
            burst.success = (at, str(row["email"]), str(row["remote_ip"]), str(row.get("country") or ""))


def _distinct(bursts: list[Burst]) -> list[Burst]:
    """Drop an IP's burst that is one account's burst seen by its IP: the same failures twice."""
    by_email = [b for b in bursts if b.column == "email"]

    def same_event(ip_burst: Burst) -> bool:
        if ip_burst.column != "remote_ip" or len(ip_burst.others) != 1:
            return False
        email = next(iter(ip_burst.others))
        return any(b.value == email and b.first <= ip_burst.last and ip_burst.first <= b.last for b in by_email)

    return [b for b in bursts if not same_event(b)]


def _who(burst: Burst) -> str:
    return f"{dict(KEYS)[burst.column]}: {burst.value}"


def _involved(burst: Burst) -> str:
    text = plural(len(burst.others), "IP" if burst.column == "email" else "account")
    if burst.countries:
        text += " (" + ", ".join(c for c, _ in burst.countries.most_common(3)) + ")"
    return text


def login_bursts(ctx: Context) -> list[Finding]:
    """Bursts of failed logins per e-mail address and per IP, and those a success followed."""
    p = ctx.params
    bursts = [b for column, _ in KEYS if ctx.has(column) for b in find_bursts(ctx, column)]
    bursts.sort(key=lambda b: (-b.failures, b.first))
    for burst in bursts[:MAX_BURSTS]:
        _burst_details(ctx, burst)
    bursts = _distinct(bursts)
    rule = f"{p.burst_failures} or more failed logins within {p.burst_minutes} minutes"
    failed = ctx.outcome("failed")
    chart = _failures_chart(ctx)
    if not bursts:
        return [
            Finding(
                "failed_login_bursts",
                "Failed-login bursts",
                Severity.OK,
                f"No e-mail address or IP had {rule} in {ctx.describe_period()}.",
                "logins",
                ctx.link(*failed),
                chart=chart,
            ),
            Finding(
                "success_after_burst",
                "Successful login right after failed ones",
                Severity.OK,
                "No burst of failed logins, so none was followed by a success.",
                "logins",
            ),
        ]
    spraying = [b for b in bursts if b.column == "remote_ip" and len(b.others) >= 3]
    return [
        Finding(
            "failed_login_bursts",
            "Failed-login bursts",
            Severity.ERROR if spraying else Severity.WARNING,
            _bursts_summary(bursts, spraying, rule),
            "logins",
            ctx.link(*failed),
            ("Who", "Failures", "From (UTC)", "To (UTC)", "Involved", "Then"),
            tuple(_burst_item(ctx, burst, spraying) for burst in bursts[:MAX_BURSTS]),
            chart,
        ),
        _success_after(ctx, bursts[:MAX_BURSTS], spraying),
    ]


def _bursts_summary(bursts: list[Burst], spraying: list[Burst], rule: str) -> str:
    """How many bursts, by e-mail and by IP, the largest, and the IPs that tried several accounts."""
    by_column = Counter(b.column for b in bursts)
    biggest = bursts[0]
    summary = (
        f"{plural(len(bursts), 'burst')} of {rule}: {plural(by_column['email'], 'e-mail address', 'e-mail addresses')}"
        f" and {plural(by_column['remote_ip'], 'IP address', 'IP addresses')}. The largest: {_who(biggest)}, "
        f"{biggest.failures} failures from {fmt_time(biggest.first)} to {fmt_time(biggest.last)} UTC."
    )
    if spraying:
        worst = max(spraying, key=lambda b: len(b.others))
        summary += (
            f" {plural(len(spraying), 'IP')} tried several accounts in one burst (password guessing), "
            f"e.g. {worst.value} tried {len(worst.others)} accounts."
        )
    return summary


def _burst_item(ctx: Context, burst: Burst, spraying: list[Burst]) -> Item:
    """One burst, linked to its rows up to the success that followed it, if one did."""
    then = f"logged in at {fmt_time(burst.success[0])}" if burst.success else ""
    end = (burst.success[0] if burst.success else burst.last) + timedelta(seconds=1)
    return Item(
        (
            _who(burst),
            fmt_int(burst.failures),
            fmt_time(burst.first),
            fmt_time(burst.last),
            _involved(burst),
            then,
        ),
        ctx.link(eq(burst.column, burst.value), time_from=burst.first, time_to=end),
        Severity.ERROR if burst in spraying else Severity.WARNING,
    )


def _success_after(ctx: Context, bursts: list[Burst], spraying: list[Burst]) -> Finding:
    followed = [b for b in bursts if b.success is not None]
    minutes = ctx.params.burst_minutes
    if not followed:
        return Finding(
            "success_after_burst",
            "Successful login right after failed ones",
            Severity.OK,
            f"No burst of failed logins was followed by a successful login within {minutes} minutes.",
            "logins",
        )
    items = []
    for burst in followed:
        assert burst.success is not None
        when, email, ip, country = burst.success
        new_place = burst.column == "email" and ip not in burst.others
        severity = Severity.ERROR if burst in spraying or new_place else Severity.WARNING
        items.append(
            Item(
                (
                    _who(burst),
                    fmt_int(burst.failures),
                    fmt_time(burst.last),
                    fmt_time(when),
                    email if burst.column == "remote_ip" else ip,
                    country,
                ),
                ctx.link(eq(burst.column, burst.value), time_from=burst.first, time_to=when + timedelta(seconds=1)),
                severity,
            )
        )
    worst = max(item.severity for item in items)
    summary = (
        f"{plural(len(followed), 'burst')} of failed logins ended in a successful login within {minutes} "
        f"minutes: a forgotten password, or a guessed one. Check the ones from another IP or country "
        f"than the failures, and any after an IP tried several accounts."
    )
    return Finding(
        "success_after_burst",
        "Successful login right after failed ones",
        worst,
        summary,
        "logins",
        ctx.link(*ctx.outcome("successful")),
        ("Who", "Failures", "Last failure (UTC)", "Success (UTC)", "E-mail / IP", "Country"),
        tuple(items),
    )


def _failures_chart(ctx: Context) -> Chart | None:
    timeline = compute_timeline(LogQuery(ctx.table, ctx.query.filter), ctx.token)
    failed = timeline.series_by_key("failed")
    if failed is None or timeline.is_empty:
        return None
    return Chart(
        "time",
        "Failed logins",
        "failed logins",
        (ChartSeries(failed.label, tuple(float(v) for v in failed.counts), failed.color),),
        edges=timeline.edges,
    )


# -- new countries ------------------------------------------------------------------------------------


def new_countries(ctx: Context) -> list[Finding]:
    """A successful login from a country the user had never logged in from before."""
    if not ctx.has("country"):
        return []
    low, high = ctx.window()
    items = []
    for user, places in _countries_seen(ctx).items():
        for first, place, n in places[1:]:  # the first country the user logged in from is home
            if (low is not None and first < low) or (high is not None and first >= high):
                continue
            before = sorted({p for f, p, _ in places if f < first})
            items.append(_new_country_item(ctx, user, place, first, n, before))
    items.sort(key=lambda i: i.cells[3], reverse=True)
    if not items:
        return [
            Finding(
                "new_country",
                "Logins from a new country",
                Severity.OK,
                f"No user logged in from a country they had not logged in from before ({ctx.describe_period()}).",
                "logins",
            )
        ]
    users = {i.cells[0] for i in items}
    summary = (
        f"{plural(len(users), 'user')} logged in successfully from a country they had never logged in "
        f"from before: {plural(len(items), 'new country', 'new countries')} in all. Make sure it was them."
    )
    return [
        Finding(
            "new_country",
            "Logins from a new country",
            Severity.ERROR,
            summary,
            "logins",
            ctx.link(*ctx.outcome("successful")),
            ("User", "New country", "City", "First login there (UTC)", "IP", "Countries before", "Logins there"),
            tuple(items),
        )
    ]


def _countries_seen(ctx: Context) -> dict[str, list[tuple[datetime, str, int]]]:
    """Per user, each country of a successful login: (first login there, country, logins), oldest first.

    The whole history, whatever the period: "never before" means never.
    """
    email, country = ctx.col("email"), ctx.col("country")
    stmt = (
        ctx.select(ctx.scan("email"), country, sa.func.min(ctx.time), sa.func.count())
        .where(ctx.outcome_clause("successful"), email.is_not(None), country.is_not(None), country != "")
        .group_by(sa.text("1"), sa.text("2"))
    )
    seen: dict[str, list[tuple[datetime, str, int]]] = defaultdict(list)
    for user, place, first, n in ctx.rows(stmt):
        seen[str(user)].append((first, str(place), int(n)))
    for places in seen.values():
        places.sort()
    return seen


def _new_country_item(ctx: Context, user: str, place: str, first: datetime, n: int, before: list[str]) -> Item:
    """A user's first login from a new country, with the IP and city of that login (an index lookup)."""
    email, country = ctx.col("email"), ctx.col("country")
    where = ctx.select(*(ctx.col(c) for c in ("remote_ip", "city") if ctx.has(c)))
    row = ctx.rows(where.where(email == user, country == place, ctx.time == first).limit(1))
    ip = str(row[0][0]) if row else ""
    city = str(row[0][1] or "") if row and len(row[0]) > 1 else ""
    return Item(
        (user, place, city, fmt_time(first), ip, ", ".join(before), fmt_int(n)),
        ctx.link(eq("email", user), eq("country", place), *ctx.outcome("successful")),
        Severity.ERROR,
    )


# -- business hours -------------------------------------------------------------------------------------


@dataclass
class _LoginHours:
    """Successful logins by local hour of the day, inside and outside business hours, and per user."""

    inside: list[int] = field(default_factory=lambda: [0] * 24)
    outside: list[int] = field(default_factory=lambda: [0] * 24)
    #: user -> [logins inside business hours, outside]
    per_user: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    #: user -> start (UTC) of the latest hour they logged in outside business hours
    latest: dict[str, datetime] = field(default_factory=dict)

    def add(self, user: str, start: datetime, local_hour: int, business: bool, n: int) -> None:
        (self.inside if business else self.outside)[local_hour] += n
        self.per_user[user][0 if business else 1] += n
        if not business and (user not in self.latest or start > self.latest[user]):
            self.latest[user] = start


def _login_hours(ctx: Context) -> _LoginHours:
    """One grouped pass: successful logins per user and hour since 1970, each hour placed in the zone."""
    p = ctx.params
    hour = ctx.seconds(3600).label("hour")
    stmt = (
        ctx.select(ctx.scan("email"), hour, sa.func.count())
        .where(*ctx.clause(*ctx.outcome("successful")))
        .group_by(sa.text("1"), sa.text("2"))
    )
    found = _LoginHours()
    hours: dict[int, tuple[datetime, int, bool]] = {}  # hour since 1970 -> (start, local hour, business)
    for user, index, n in ctx.rows(stmt):
        if index is None:
            continue
        if int(index) not in hours:
            start = datetime(1970, 1, 1) + timedelta(hours=int(index))
            local = start.replace(tzinfo=UTC).astimezone(ctx.zone)
            hours[int(index)] = (
                start,
                local.hour,
                local.weekday() in p.business_days and p.business_start <= local.hour < p.business_end,
            )
        found.add(str(user), *hours[int(index)], int(n))
    return found


def off_hours(ctx: Context) -> list[Finding]:
    """Successful logins outside business hours, by user; a chart of logins by hour of the day."""
    p = ctx.params
    found = _login_hours(ctx)
    per_user, latest = found.per_user, found.latest
    total_in, total_out = sum(found.inside), sum(found.outside)
    chart = Chart(
        "bar",
        f"Successful logins by hour of the day ({p.zone})",
        "logins",
        (
            ChartSeries("Business hours", tuple(map(float, found.inside)), "#54a24b"),
            ChartSeries("Outside business hours", tuple(map(float, found.outside)), "#f58518"),
        ),
        categories=tuple(f"{h:02d}" for h in range(24)),
        stacked=True,
    )
    rule = p.describe_business_hours()
    if not total_out:
        return [
            Finding(
                "off_hours",
                "Logins outside business hours",
                Severity.OK,
                f"Every successful login was within business hours, {rule}.",
                "logins",
                chart=chart,
            )
        ]
    ranked = top({u: c[1] for u, c in per_user.items() if c[1]}, p.top)
    items = tuple(
        Item(
            (user, fmt_int(n), pct(n, sum(per_user[user])), fmt_time(latest[user]) + " UTC"),
            ctx.link(eq("email", user), *ctx.outcome("successful")),
            Severity.WARNING,
        )
        for user, n in ranked
    )
    summary = (
        f"{fmt_int(total_out)} of {fmt_int(total_in + total_out)} successful logins "
        f"({pct(total_out, total_in + total_out)}) were outside business hours, {rule}, by "
        f"{plural(sum(1 for c in per_user.values() if c[1]), 'user')}."
    )
    return [
        Finding(
            "off_hours",
            "Logins outside business hours",
            Severity.WARNING,
            summary,
            "logins",
            ctx.link(*ctx.outcome("successful")),
            ("User", "Logins outside hours", "Share of their logins", "Latest outside hours (hour starting)"),
            items,
            chart,
        )
    ]


# -- private and reserved addresses -------------------------------------------------------------------------


def odd_addresses(ctx: Context) -> list[Finding]:
    """Login attempts from addresses that are not someone on the internet (VPNs, proxies, typos)."""
    failed = ctx.outcome_clause("failed")
    stmt = (
        ctx.select(
            ctx.scan("remote_ip"),
            sa.func.count(),
            sa.func.sum(sa.case((failed, 1), else_=0)),
            sa.func.count(sa.distinct(ctx.col("email"))),
            sa.func.max(ctx.time),
        )
        .where(*ctx.clause())
        .group_by(sa.text("1"))
    )
    items = []
    attempts = 0
    for address, n, failures, users, last in ctx.rows(stmt):
        kind = ip_kind(str(address)) if address is not None else "not an IP address"
        if kind.endswith("public"):
            continue
        attempts += int(n)
        items.append(
            Item(
                (str(address), kind, fmt_int(n), fmt_int(failures or 0), fmt_int(users), fmt_time(last)),
                ctx.link(eq("remote_ip", address)),
                Severity.WARNING,
            )
        )
    if not items:
        return [
            Finding(
                "private_ip",
                "Logins from private or reserved addresses",
                Severity.OK,
                "Every login attempt came from a public internet address.",
                "logins",
            )
        ]
    items.sort(key=lambda i: (-int(i.cells[2].replace(",", "")), i.cells[0]))
    summary = (
        f"{fmt_int(attempts)} login attempts came from {plural(len(items), 'address', 'addresses')} that "
        f"are private, reserved or not an IP at all: a VPN or a proxy in between, so the place of the "
        f"attempt is unknown."
    )
    return [
        Finding(
            "private_ip",
            "Logins from private or reserved addresses",
            Severity.WARNING,
            summary,
            "logins",
            None,
            ("IP", "Kind", "Attempts", "Failed", "Users", "Latest (UTC)"),
            tuple(items[:50]),
        )
    ]
