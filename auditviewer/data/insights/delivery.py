"""SMS delivery (failure rate by gateway and campaign, the commonest errors) and panel activity.

Each is one grouped pass over its log; everything else is arithmetic on the
few hundred groups that come back.
"""

from __future__ import annotations

from collections import Counter, defaultdict

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


def _rates(groups: dict[str, Counter], overall: float) -> list[tuple[str, int, int, float, bool]]:
    """(name, sends, failed, rate, stands out), worst rate first."""
    rows = []
    for name, counts in groups.items():
        sends = counts["sent"] + counts["failed"]
        rate = counts["failed"] / sends if sends else 0.0
        bad = sends >= MIN_SENDS and rate >= max(HIGH_RATE, HIGH_FACTOR * overall)
        rows.append((name, sends, counts["failed"], rate, bad))
    return sorted(rows, key=lambda r: (-r[3], -r[1], r[0]))


def sms_delivery(ctx: Context) -> list[Finding]:
    gateway, campaign, error = ctx.col("gateway_name"), ctx.col("campaign_description"), ctx.col("error")
    by_gateway: dict[str, Counter] = defaultdict(Counter)
    by_campaign: dict[str, Counter] = defaultdict(Counter)
    errors: Counter = Counter()
    errors_by_gateway: dict[str, Counter] = defaultdict(Counter)
    # Sends per gateway and per campaign (an index on gateway_name serves the first), then
    # the failures alone, which are few, by gateway, campaign and error.
    for column, groups in ((gateway, by_gateway), (campaign, by_campaign)):
        for name, n in ctx.rows(ctx.select(column, sa.func.count()).where(*ctx.clause()).group_by(column)):
            groups[str(name)]["sends"] += int(n)
    stmt = (
        ctx.select(ctx.scan("gateway_name"), campaign, error, sa.func.count())
        .where(*ctx.clause(*ctx.outcome("error")))
        .group_by(sa.text("1"), sa.text("2"), sa.text("3"))
    )
    for gw, camp, text, n in ctx.rows(stmt):
        n = int(n)
        by_gateway[str(gw)]["failed"] += n
        by_campaign[str(camp)]["failed"] += n
        errors[str(text)] += n
        errors_by_gateway[str(gw)][str(text)] += n
    for groups in (by_gateway, by_campaign):
        for counts in groups.values():
            counts["sent"] = counts["sends"] - counts["failed"]
            del counts["sends"]
    sends = sum(c["sent"] + c["failed"] for c in by_gateway.values())
    if not sends:
        return [
            Finding("sms_gateways", "SMS failure rate by gateway", Severity.OK, "No SMS sent in the period.", "sms")
        ]
    failures = sum(errors.values())
    overall = failures / sends
    gateways = _rates(by_gateway, overall)
    bad = [g for g in gateways if g[4]]
    items = []
    for name, n, f, rate, stands_out in gateways:
        common = errors_by_gateway[name].most_common(1)
        items.append(
            Item(
                (name, fmt_int(n), fmt_int(f), pct(f, n), common[0][0] if common else ""),
                ctx.link(eq("gateway_name", name), not_empty("error")),
                Severity.WARNING if stands_out else Severity.OK,
            )
        )
    chart = Chart(
        "bar",
        "SMS failure rate by gateway",
        "% of sends",
        (ChartSeries("Failed (% of sends)", tuple(100 * g[3] for g in gateways), "#e45756"),),
        categories=tuple(g[0] for g in gateways),
    )
    summary = f"{pct(failures, sends)} of {fmt_int(sends)} sends failed ({ctx.describe_period()})."
    if bad:
        worst = bad[0]
        summary += (
            f" {plural(len(bad), 'gateway')} failed far more often than the others: {worst[0]} failed "
            f"{pct(worst[2], worst[1])} of its {fmt_int(worst[1])} sends"
            + (f', mostly "{errors_by_gateway[worst[0]].most_common(1)[0][0]}".' if worst[2] else ".")
        )
    findings = [
        Finding(
            "sms_gateways",
            "SMS failure rate by gateway",
            Severity.WARNING if bad else Severity.OK,
            summary,
            "sms",
            ctx.link(not_empty("error")),
            ("Gateway", "Sends", "Failed", "Failure rate", "Commonest error"),
            tuple(items),
            chart,
        )
    ]

    campaigns = _rates(by_campaign, overall)
    shown = campaigns[: ctx.params.top]
    bad_campaigns = [c for c in campaigns if c[4]]
    findings.append(
        Finding(
            "sms_campaigns",
            "SMS failure rate by campaign",
            Severity.WARNING if bad_campaigns else Severity.OK,
            f'{plural(len(campaigns), "campaign")} sent SMS; the highest failure rate: "{shown[0][0]}" with '
            f"{pct(shown[0][2], shown[0][1])} of {fmt_int(shown[0][1])} sends."
            + (f" {plural(len(bad_campaigns), 'campaign')} stand out." if bad_campaigns else ""),
            "sms",
            ctx.link(not_empty("error")),
            ("Campaign", "Sends", "Failed", "Failure rate"),
            tuple(
                Item(
                    (name, fmt_int(n), fmt_int(f), pct(f, n)),
                    ctx.link(eq("campaign_description", name), not_empty("error")),
                    Severity.WARNING if stands_out else Severity.OK,
                )
                for name, n, f, rate, stands_out in shown
            ),
            Chart(
                "bar",
                "SMS failure rate by campaign (highest first)",
                "% of sends",
                (ChartSeries("Failed (% of sends)", tuple(100 * c[3] for c in shown), "#e45756"),),
                categories=tuple(c[0] for c in shown),
            ),
        )
    )

    if errors:
        ranked = errors.most_common(ctx.params.top)
        findings.append(
            Finding(
                "sms_errors",
                "Most frequent SMS errors",
                Severity.WARNING if bad else Severity.OK,
                f'{plural(len(errors), "kind")} of error; the commonest, "{ranked[0][0]}", is '
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
        )
    return findings


def panel_activity(ctx: Context) -> list[Finding]:
    """Who does the most in the panel, from which IPs, and who changes things (POST).

    Actions per user and per IP are counts on their indexes where there are
    some; POSTs per user one pass over the table.
    """
    users: Counter = Counter()
    ips: Counter = Counter()
    for column, counter in (("email", users), ("remote_ip", ips)):
        col = ctx.col(column)
        for value, n in ctx.rows(ctx.select(col, sa.func.count()).where(*ctx.clause()).group_by(col)):
            counter[str(value)] += int(n)
    post_conditions = PANEL.outcomes[1].where  # the outcome that is not a plain GET: a change
    posts: Counter = Counter()
    stmt = ctx.select(ctx.scan("email"), sa.func.count()).where(*ctx.clause(*post_conditions)).group_by(sa.text("1"))
    for value, n in ctx.rows(stmt):
        posts[str(value)] += int(n)
    actions = sum(users.values())
    if not actions:
        return [
            Finding("panel_users", "Most active panel users", Severity.OK, "No panel actions in the period.", "panel")
        ]
    n = ctx.params.top
    colors = {o.key: o.color for o in PANEL.outcomes}
    ranked = top(dict(users), n)
    findings = [
        Finding(
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
                    ChartSeries("GET", tuple(float(total - posts[u]) for u, total in ranked), colors["get"]),
                    ChartSeries("POST", tuple(float(posts[u]) for u, _ in ranked), colors["post"]),
                ),
                categories=tuple(u for u, _ in ranked),
                stacked=True,
            ),
        )
    ]
    ranked_ips = top(dict(ips), n)
    findings.append(
        Finding(
            "panel_ips",
            "Most active IPs in the panel",
            Severity.OK,
            f"Panel actions came from {plural(len(ips), 'IP address', 'IP addresses')}; the busiest, "
            f"{ranked_ips[0][0]}, made {pct(ranked_ips[0][1], actions, 0)} of them.",
            "panel",
            None,
            ("IP", "Actions", "Share of all actions"),
            tuple(
                Item((i, fmt_int(total), pct(total, actions)), ctx.link(eq("remote_ip", i))) for i, total in ranked_ips
            ),
            Chart(
                "bar",
                "Panel actions by IP",
                "actions",
                (ChartSeries("Actions", tuple(float(t) for _, t in ranked_ips), colors["get"]),),
                categories=tuple(i for i, _ in ranked_ips),
            ),
        )
    )
    if posts:
        ranked_posts = top(dict(posts), n)
        total_posts = sum(posts.values())
        findings.append(
            Finding(
                "panel_posts",
                "POST actions by user",
                Severity.OK,
                f"{fmt_int(total_posts)} actions changed something (POST), by {plural(len(posts), 'user')}; "
                f"{ranked_posts[0][0]} made {pct(ranked_posts[0][1], total_posts, 0)} of them.",
                "panel",
                ctx.link(*post_conditions),
                ("User", "POST actions", "Share of their actions"),
                tuple(
                    Item((u, fmt_int(p), pct(p, users[u])), ctx.link(eq("email", u), *post_conditions))
                    for u, p in ranked_posts
                ),
                Chart(
                    "bar",
                    "POST actions by user",
                    "actions",
                    (ChartSeries("POST", tuple(float(p) for _, p in ranked_posts), colors["post"]),),
                    categories=tuple(u for u, _ in ranked_posts),
                ),
            )
        )
    return findings
