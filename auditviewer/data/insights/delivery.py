"""SMS delivery (failure rate by gateway and campaign, the commonest errors) and panel activity.

Each is one grouped pass over its log; everything else is arithmetic on the
few hundred groups that come back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from auditviewer.data.details import sms_error_words
from auditviewer.data.insights.base import Context, eq, fmt_int, not_empty, pct, plural, top
from auditviewer.data.insights.model import Chart, ChartSeries, Finding, Item
from auditviewer.data.logtypes import PANEL, Severity

#: A gateway or campaign stands out when its failure rate is at least this ...
HIGH_RATE = 0.05
#: ... and this many times the overall rate, over at least MIN_SENDS sends.
HIGH_FACTOR = 2.0
MIN_SENDS = 20


class _Rate(NamedTuple):
    name: str
    sends: int
    failed: int
    rate: float
    stands_out: bool


def _rates(groups: dict[str, Counter[str]], overall: float) -> list[_Rate]:
    """Each group's failure rate, worst first; whether it stands out from ``overall``."""
    rows = []
    for name, counts in groups.items():
        sends = counts["sent"] + counts["failed"]
        rate = counts["failed"] / sends if sends else 0.0
        bad = sends >= MIN_SENDS and rate >= max(HIGH_RATE, HIGH_FACTOR * overall)
        rows.append(_Rate(name, sends, counts["failed"], rate, bad))
    return sorted(rows, key=lambda r: (-r.rate, -r.sends, r.name))


@dataclass
class _SmsCounts:
    """Sent and failed per gateway and per campaign, and the failures by error text."""

    by_gateway: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_campaign: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter[str] = field(default_factory=Counter)
    errors_by_gateway: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def sends(self) -> int:
        return sum(c["sent"] + c["failed"] for c in self.by_gateway.values())

    @property
    def failures(self) -> int:
        return sum(self.errors.values())

    def commonest_error(self, gateway: str) -> str:
        common = self.errors_by_gateway[gateway].most_common(1)
        return common[0][0] if common else ""


def _sms_counts(ctx: Context) -> _SmsCounts:
    """Sends per gateway and per campaign (an index on gateway_name serves the first), then
    the failures alone, which are few, by gateway, campaign and error."""
    gateway, campaign, error = ctx.col("gateway_name"), ctx.col("campaign_description"), ctx.col("error")
    counts = _SmsCounts()
    for column, groups in ((gateway, counts.by_gateway), (campaign, counts.by_campaign)):
        for name, n in ctx.rows(ctx.select(column, sa.func.count()).where(*ctx.clause()).group_by(column)):
            groups[str(name)]["sends"] += int(n)
    stmt = (
        ctx.select(ctx.scan("gateway_name"), campaign, error, sa.func.count())
        .where(*ctx.clause(*ctx.outcome("error")))
        .group_by(sa.text("1"), sa.text("2"), sa.text("3"))
    )
    for gw, camp, text, n in ctx.rows(stmt):
        n = int(n)
        counts.by_gateway[str(gw)]["failed"] += n
        counts.by_campaign[str(camp)]["failed"] += n
        counts.errors[str(text)] += n
        counts.errors_by_gateway[str(gw)][str(text)] += n
    for groups in (counts.by_gateway, counts.by_campaign):
        for group in groups.values():
            group["sent"] = group["sends"] - group["failed"]
            del group["sends"]
    return counts


def sms_delivery(ctx: Context) -> list[Finding]:
    """Failure rates by gateway and by campaign, and the commonest errors: one grouped pass each."""
    counts = _sms_counts(ctx)
    sends = counts.sends
    if not sends:
        return [
            Finding("sms_gateways", "SMS failure rate by gateway", Severity.OK, "No SMS sent in the period.", "sms")
        ]
    overall = counts.failures / sends
    gateways = _gateways_finding(ctx, counts, overall)
    findings = [gateways, _campaigns_finding(ctx, counts, overall)]
    if counts.errors:
        findings.append(_errors_finding(ctx, counts, gateways.severity))
    return findings


def _gateways_finding(ctx: Context, counts: _SmsCounts, overall: float) -> Finding:
    sends, failures = counts.sends, counts.failures
    gateways = _rates(counts.by_gateway, overall)
    bad = [g for g in gateways if g.stands_out]
    items = tuple(
        Item(
            (g.name, fmt_int(g.sends), fmt_int(g.failed), pct(g.failed, g.sends), counts.commonest_error(g.name)),
            ctx.link(eq("gateway_name", g.name), not_empty("error")),
            Severity.WARNING if g.stands_out else Severity.OK,
        )
        for g in gateways
    )
    chart = Chart(
        "bar",
        "SMS failure rate by gateway",
        "% of sends",
        (ChartSeries("Failed (% of sends)", tuple(100 * g.rate for g in gateways), "#e45756"),),
        categories=tuple(g.name for g in gateways),
    )
    summary = f"{pct(failures, sends)} of {fmt_int(sends)} sends failed ({ctx.describe_period()})."
    if bad:
        worst = bad[0]
        summary += (
            f" {plural(len(bad), 'gateway')} failed far more often than the others: {worst.name} failed "
            f"{pct(worst.failed, worst.sends)} of its {fmt_int(worst.sends)} sends"
            + (f', mostly "{counts.commonest_error(worst.name)}".' if worst.failed else ".")
        )
    return Finding(
        "sms_gateways",
        "SMS failure rate by gateway",
        Severity.WARNING if bad else Severity.OK,
        summary,
        "sms",
        ctx.link(not_empty("error")),
        ("Gateway", "Sends", "Failed", "Failure rate", "Commonest error"),
        items,
        chart,
    )


def _campaigns_finding(ctx: Context, counts: _SmsCounts, overall: float) -> Finding:
    campaigns = _rates(counts.by_campaign, overall)
    shown = campaigns[: ctx.params.top]
    bad = [c for c in campaigns if c.stands_out]
    return Finding(
        "sms_campaigns",
        "SMS failure rate by campaign",
        Severity.WARNING if bad else Severity.OK,
        f'{plural(len(campaigns), "campaign")} sent SMS; the highest failure rate: "{shown[0].name}" with '
        f"{pct(shown[0].failed, shown[0].sends)} of {fmt_int(shown[0].sends)} sends."
        + (f" {plural(len(bad), 'campaign')} stand out." if bad else ""),
        "sms",
        ctx.link(not_empty("error")),
        ("Campaign", "Sends", "Failed", "Failure rate"),
        tuple(
            Item(
                (c.name, fmt_int(c.sends), fmt_int(c.failed), pct(c.failed, c.sends)),
                ctx.link(eq("campaign_description", c.name), not_empty("error")),
                Severity.WARNING if c.stands_out else Severity.OK,
            )
            for c in shown
        ),
        Chart(
            "bar",
            "SMS failure rate by campaign (highest first)",
            "% of sends",
            (ChartSeries("Failed (% of sends)", tuple(100 * c.rate for c in shown), "#e45756"),),
            categories=tuple(c.name for c in shown),
        ),
    )


def _errors_finding(ctx: Context, counts: _SmsCounts, severity: Severity) -> Finding:
    """The commonest errors, as severe as the gateways' finding: a bad gateway makes them worth a look."""
    failures = counts.failures
    ranked = counts.errors.most_common(ctx.params.top)
    return Finding(
        "sms_errors",
        "Most frequent SMS errors",
        severity,
        f'{plural(len(counts.errors), "kind")} of error; the commonest, "{ranked[0][0]}", is '
        f"{pct(ranked[0][1], failures, 0)} of the {fmt_int(failures)} failures.",
        "sms",
        ctx.link(not_empty("error")),
        ("Error", "Failures", "Share", "What it means"),
        tuple(
            Item((text, fmt_int(n), pct(n, failures), sms_error_words(text) or ""), ctx.link(eq("error", text)))
            for text, n in ranked
        ),
        Chart(
            "bar",
            "Most frequent SMS errors",
            "failures",
            (ChartSeries("Failures", tuple(float(n) for _, n in ranked), "#e45756"),),
            categories=tuple(t for t, _ in ranked),
        ),
    )


def panel_activity(ctx: Context) -> list[Finding]:
    """Who does the most in the panel, from which IPs, and who changes things (POST).

    Actions per user and per IP are counts on their indexes where there are
    some; POSTs per user one pass over the table.
    """
    users, ips, posts = _panel_counts(ctx)
    if not users.total():
        return [
            Finding("panel_users", "Most active panel users", Severity.OK, "No panel actions in the period.", "panel")
        ]
    findings = [_users_finding(ctx, users, posts), _ips_finding(ctx, ips, users.total())]
    if posts:
        findings.append(_posts_finding(ctx, posts, users))
    return findings


#: The panel's outcome that is not a plain GET: a change.
_POST_CONDITIONS = PANEL.outcomes[1].where
_PANEL_COLORS = {o.key: o.color for o in PANEL.outcomes}


def _panel_counts(ctx: Context) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Actions per user, actions per IP, POSTs per user."""
    users: Counter[str] = Counter()
    ips: Counter[str] = Counter()
    for column, counter in (("email", users), ("remote_ip", ips)):
        col = ctx.col(column)
        for value, n in ctx.rows(ctx.select(col, sa.func.count()).where(*ctx.clause()).group_by(col)):
            counter[str(value)] += int(n)
    posts: Counter[str] = Counter()
    stmt = ctx.select(ctx.scan("email"), sa.func.count()).where(*ctx.clause(*_POST_CONDITIONS)).group_by(sa.text("1"))
    for value, n in ctx.rows(stmt):
        posts[str(value)] += int(n)
    return users, ips, posts


def _users_finding(ctx: Context, users: Counter[str], posts: Counter[str]) -> Finding:
    actions = users.total()
    ranked = top(dict(users), ctx.params.top)
    return Finding(
        "panel_users",
        "Most active panel users",
        Severity.OK,
        f"{plural(len(users), 'user')} performed {fmt_int(actions)} actions; the most active, {ranked[0][0]}, "
        f"{pct(ranked[0][1], actions, 0)} of them.",
        "panel",
        None,
        ("User", "Actions", "POST (changes)", "Share of all actions"),
        tuple(
            Item((u, fmt_int(total), fmt_int(posts[u]), pct(total, actions)), ctx.link(eq("email", u)))
            for u, total in ranked
        ),
        Chart(
            "bar",
            "Panel actions by user",
            "actions",
            (
                ChartSeries("GET", tuple(float(total - posts[u]) for u, total in ranked), _PANEL_COLORS["get"]),
                ChartSeries("POST", tuple(float(posts[u]) for u, _ in ranked), _PANEL_COLORS["post"]),
            ),
            categories=tuple(u for u, _ in ranked),
            stacked=True,
        ),
    )


def _ips_finding(ctx: Context, ips: Counter[str], actions: int) -> Finding:
    ranked = top(dict(ips), ctx.params.top)
    return Finding(
        "panel_ips",
        "Most active IPs in the panel",
        Severity.OK,
        f"Panel actions came from {plural(len(ips), 'IP address', 'IP addresses')}; the busiest, "
        f"{ranked[0][0]}, made {pct(ranked[0][1], actions, 0)} of them.",
        "panel",
        None,
        ("IP", "Actions", "Share of all actions"),
        tuple(Item((i, fmt_int(total), pct(total, actions)), ctx.link(eq("remote_ip", i))) for i, total in ranked),
        Chart(
            "bar",
            "Panel actions by IP",
            "actions",
            (ChartSeries("Actions", tuple(float(t) for _, t in ranked), _PANEL_COLORS["get"]),),
            categories=tuple(i for i, _ in ranked),
        ),
    )


def _posts_finding(ctx: Context, posts: Counter[str], users: Counter[str]) -> Finding:
    ranked = top(dict(posts), ctx.params.top)
    total_posts = posts.total()
    return Finding(
        "panel_posts",
        "POST actions by user",
        Severity.OK,
        f"{fmt_int(total_posts)} actions changed something (POST), by {plural(len(posts), 'user')}; "
        f"{ranked[0][0]} made {pct(ranked[0][1], total_posts, 0)} of them.",
        "panel",
        ctx.link(*_POST_CONDITIONS),
        ("User", "POST actions", "Share of their actions"),
        tuple(Item((u, fmt_int(p), pct(p, users[u])), ctx.link(eq("email", u), *_POST_CONDITIONS)) for u, p in ranked),
        Chart(
            "bar",
            "POST actions by user",
            "actions",
            (ChartSeries("POST", tuple(float(p) for _, p in ranked), _PANEL_COLORS["post"]),),
            categories=tuple(u for u, _ in ranked),
        ),
    )
