"""The overview finds what was planted (and nothing else), and every finding leads to its rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditviewer.data.cancel import CancelToken
from auditviewer.data.demo import ATTACKER, create_demo
from auditviewer.data.errors import QueryCancelled
from auditviewer.data.insights import Finding, Overview, Params, RowLink, compute_overview, steps_for
from auditviewer.data.insights.base import endpoint
from auditviewer.data.insights.render import link_arguments, render_text, to_dict
from auditviewer.data.logtypes import Severity
from auditviewer.data.query import LogQuery
from auditviewer.data.source import Source, open_source
from tests.helpers import planted
from tests.helpers.dbfactory import DbFactory


@pytest.fixture
def source(db: DbFactory) -> Iterator[Source]:
    with open_source(db.create(planted.tables(), indexes=planted.INDEXES)) as src:
        yield src


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    factory = DbFactory("sqlite", tmp_path_factory.mktemp("planted"))
    with open_source(factory.create(planted.tables(), indexes=planted.INDEXES)) as src:
        yield src


def findings(overview: Overview) -> dict[str, Finding]:
    return {f.kind: f for f in overview.findings}


def rows_behind(source: Source, link: RowLink | None) -> int:
    assert link is not None
    return LogQuery(source.log(link.log), link.filter()).count()


# -- login security --------------------------------------------------------------------------------


def test_failed_login_bursts_are_the_planted_ones(source: Source) -> None:
    found = findings(compute_overview(source))
    bursts = found["failed_login_bursts"]
    assert bursts.severity is Severity.ERROR  # one IP tried six accounts
    who = {item.cells[0]: item for item in bursts.items}
    assert set(who) == {"E-mail: anna@example.com", f"IP: {planted.SPRAYER}"}
    anna = who["E-mail: anna@example.com"]
    start, n = planted.ANNA_BURST
    assert anna.cells[1:4] == (str(n), str(start), str(start + timedelta(seconds=40 * (n - 1))))
    assert anna.cells[5] == f"logged in at {planted.ANNA_SUCCESS}"
    assert rows_behind(source, anna.link) == n + 1  # the failures and the success after them
    sprayer = who[f"IP: {planted.SPRAYER}"]
    assert sprayer.severity is Severity.ERROR and sprayer.cells[4] == "6 accounts (Netherlands)"
    assert rows_behind(source, sprayer.link) == 6
    assert (
        rows_behind(source, bursts.link)
        == LogQuery(source.log("logins"), RowLink("logins", ("login=failed",)).filter()).count()
    )
    assert bursts.chart is not None and bursts.chart.kind == "time"
    assert sum(bursts.chart.series[0].values) == rows_behind(source, bursts.link)


def test_success_right_after_a_burst(source: Source) -> None:
    after = findings(compute_overview(source))["success_after_burst"]
    assert [item.cells[0] for item in after.items] == ["E-mail: anna@example.com"]
    assert after.items[0].cells[3] == str(planted.ANNA_SUCCESS)
    assert after.severity is Severity.WARNING  # from her usual IP: a forgotten password, likely


@pytest.mark.parametrize(
    ("params", "who"),
    [
        (Params(burst_minutes=60), "E-mail: ben@example.com"),
        (Params(burst_failures=4), "E-mail: carl@example.com"),
    ],
)
def test_burst_rules_are_adjustable(sqlite_source: Source, params: Params, who: str) -> None:
    assert who not in {i.cells[0] for i in findings(compute_overview(sqlite_source))["failed_login_bursts"].items}
    bursts = findings(compute_overview(sqlite_source, params))["failed_login_bursts"]
    assert who in {i.cells[0] for i in bursts.items}


def test_a_new_country_is_a_successful_login_only(source: Source) -> None:
    new = findings(compute_overview(source))["new_country"]
    assert new.severity is Severity.ERROR
    assert [item.cells[:2] for item in new.items] == [("dora@example.com", "Brazil")]  # not Vietnam: it failed
    assert new.items[0].cells[3] == str(planted.DORA_BRAZIL) and new.items[0].cells[5] == "Poland"
    assert rows_behind(source, new.items[0].link) == 1


def test_logins_outside_business_hours_depend_on_the_zone(sqlite_source: Source) -> None:
    utc = findings(compute_overview(sqlite_source))["off_hours"]
    assert [(i.cells[0], i.cells[1]) for i in utc.items] == [("ben@example.com", "2")]
    assert utc.chart is not None and sum(utc.chart.series[1].values) == 2
    assert utc.chart.series[1].values[22] == 1 and utc.chart.series[1].values[6] == 1
    # 06:30 UTC on a Tuesday is 07:30 in Warsaw: within business hours there; the Saturday is not.
    warsaw = findings(compute_overview(sqlite_source, Params(zone="Europe/Warsaw")))["off_hours"]
    assert [(i.cells[0], i.cells[1]) for i in warsaw.items] == [("ben@example.com", "1")]
    assert warsaw.chart is not None and warsaw.chart.series[1].values[23] == 1
    late = findings(compute_overview(sqlite_source, Params(business_start=10, business_end=20)))["off_hours"]
    assert int(late.items[0].cells[1]) > 2  # the 09:xx logins are now early


def test_private_and_reserved_addresses(source: Source) -> None:
    odd = findings(compute_overview(source))["private_ip"]
    assert {i.cells[0]: (i.cells[1], i.cells[2]) for i in odd.items} == {
        "10.1.2.3": ("IPv4, private", "3"),
        "192.168.0.5": ("IPv4, private", "2"),
    }
    assert all(rows_behind(source, i.link) == int(i.cells[2]) for i in odd.items)


# -- API -----------------------------------------------------------------------------------------------


def test_the_outage_hour_is_an_error_spike(source: Source) -> None:
    rate = findings(compute_overview(source))["api_error_rate"]
    assert rate.severity is Severity.ERROR
    assert len(rate.items) == 1
    spike = rate.items[0]
    assert spike.cells == (f"{planted.OUTAGE} – {planted.OUTAGE + timedelta(hours=1)}", "72", "30", "41.7%")
    assert rows_behind(source, spike.link) == 30
    assert rate.chart is not None and rate.chart.kind == "line"
    assert [s.label for s in rate.chart.series] == ["4xx (% of calls)", "5xx (% of calls)"]


def test_endpoints_and_callers_with_the_most_errors(source: Source) -> None:
    found = findings(compute_overview(source))
    endpoints = found["api_error_endpoints"]
    assert [i.cells for i in endpoints.items] == [
        ("POST /v2/Api/Subscribers", "30", "0", "30"),
        ("POST /v2/Api/Transactionals/{id}", "0", "30", "30"),
    ]
    assert [rows_behind(source, i.link) for i in endpoints.items] == [30, 30]
    callers = found["api_error_callers"]
    assert [i.cells[0] for i in callers.items] == [planted.BROKEN_CALLER, "52.29.114.18"]
    assert endpoints.chart is not None and endpoints.chart.stacked


def test_put_and_delete_volume(source: Source) -> None:
    writes = findings(compute_overview(source))["api_writes"]
    assert [i.cells for i in writes.items] == [(planted.WRITER, "5", "10")]
    assert rows_behind(source, writes.link) == 15
    assert writes.chart is not None and sum(sum(s.values) for s in writes.chart.series) == 15


# -- SMS and panel -----------------------------------------------------------------------------------------


def test_sms_failures_by_gateway_campaign_and_error(source: Source) -> None:
    found = findings(compute_overview(source))
    gateways = found["sms_gateways"]
    assert gateways.severity is Severity.WARNING
    assert [i.cells for i in gateways.items] == [
        (planted.BAD_GATEWAY, "50", "15", "30.0%", "Gateway timeout"),
        ("Main", "150", "4", "2.7%", "Number on blocklist"),
    ]
    assert [i.severity for i in gateways.items] == [Severity.WARNING, Severity.OK]
    assert rows_behind(source, gateways.items[0].link) == 15
    campaigns = found["sms_campaigns"]
    assert [i.cells[:3] for i in campaigns.items] == [("Summer sale", "100", "17"), ("Newsletter, weekly", "100", "2")]
    assert rows_behind(source, campaigns.items[1].link) == 2  # a comma inside the value survives the link
    errors = found["sms_errors"]
    assert [i.cells[:2] for i in errors.items] == [("Gateway timeout", "15"), ("Number on blocklist", "4")]
    assert "did not answer in time" in errors.items[0].cells[3]


def test_panel_activity(source: Source) -> None:
    found = findings(compute_overview(source))
    assert [i.cells for i in found["panel_users"].items] == [
        ("anna@example.com", "30", "10", "63.8%"),
        ("ben@example.com", "12", "4", "25.5%"),
        ("carl@example.com", "5", "2", "10.6%"),
    ]
    assert [i.cells[0] for i in found["panel_ips"].items] == ["83.24.1.1", "91.64.1.1", "81.2.1.1"]
    posts = found["panel_posts"]
    assert [i.cells[:2] for i in posts.items] == [
        ("anna@example.com", "10"),
        ("ben@example.com", "4"),
        ("carl@example.com", "2"),
    ]
    assert rows_behind(source, posts.items[0].link) == 10


# -- the period, the whole, the renderers ----------------------------------------------------------------------


def test_a_period_limits_every_finding_and_its_links(sqlite_source: Source) -> None:
    start = planted.BASE + timedelta(days=10)
    end = planted.BASE + timedelta(days=13)
    found = findings(compute_overview(sqlite_source, Params(time_from=start, time_to=end)))
    assert found["failed_login_bursts"].severity is Severity.OK  # the bursts were before
    assert [i.cells[1] for i in found["new_country"].items] == ["Brazil"]
    assert found["new_country"].items[0].link.time_from == start
    assert found["new_country"].items[0].link.time_to == end
    assert found["api_writes"].severity is Severity.OK and not found["api_writes"].items


def test_the_last_days_count_back_from_each_logs_newest_row(sqlite_source: Source) -> None:
    found = findings(compute_overview(sqlite_source, Params(last=timedelta(days=4))))
    assert [i.cells[1] for i in found["new_country"].items] == ["Brazil"]
    link = found["new_country"].link
    assert link is not None and link.time_from is not None and link.time_to is not None
    assert link.time_to - link.time_from > timedelta(days=4)  # up to one second past the newest row


def test_most_severe_first_and_plain_renderings(sqlite_source: Source) -> None:
    overview = compute_overview(sqlite_source)
    severities = [f.severity for f in overview.sorted()]
    assert severities == sorted(severities, reverse=True)
    text = render_text(overview)
    assert text.startswith("Overview of ") and "[!!] Failed-login bursts" in text
    assert f"--where remote_ip={planted.SPRAYER}" in text or "--where" in text
    data = json.loads(json.dumps(to_dict(overview)))
    assert {f["kind"] for f in data["findings"]} >= {"failed_login_bursts", "new_country", "api_error_rate"}
    burst = next(f for f in data["findings"] if f["kind"] == "failed_login_bursts")
    assert burst["severity"] == "error" and burst["rows"]["log"] == "logins"
    assert (
        burst["chart"]["kind"] == "time"
        and len(burst["chart"]["edges"]) == len(burst["chart"]["series"][0]["values"]) + 1
    )


def test_link_arguments_are_what_export_takes() -> None:
    link = RowLink.of(
        "sms",
        'campaign_description="Newsletter, weekly"',
        "error!=",
        time_from=datetime(2025, 1, 1),
        time_to=datetime(2025, 1, 2, 3, 4, 5),
    )
    assert link_arguments(link) == (
        "--log sms --where 'campaign_description=\"Newsletter, weekly\"' "
        "--where 'error!=' --from '2025-01-01 00:00:00' --to '2025-01-02 03:04:05'"
    )
    view = link.view("Overview")
    assert view.time_preset == "custom" and view.to_filter() == link.filter()
    assert endpoint("/v2/Api/Newsletters/123?x=1") == "/v2/Api/Newsletters/{id}"


def test_cancelled(sqlite_source: Source) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(QueryCancelled):
        compute_overview(sqlite_source, token=token)


def test_steps_the_source_cannot_run_are_named(sqlite_db: DbFactory) -> None:
    tables = {"logins": planted.logins()}
    for row in tables["logins"]:
        row.pop("country")
    with open_source(sqlite_db.create(tables, omit={"logins": ["country"]})) as source:
        steps, skipped = steps_for(source)
        assert "new_countries" not in [s.key for s in steps]
        assert skipped == ["Logins from new countries: User logins lacks country"]
        overview = compute_overview(source)
        assert overview.problems == tuple(skipped)
        assert "failed_login_bursts" in findings(overview)


def test_bad_params_are_refused() -> None:
    for kwargs in (
        {"burst_failures": 1},
        {"burst_minutes": 0},
        {"business_start": 19, "business_end": 7},
        {"business_days": ()},
        {"top": 0},
    ):
        with pytest.raises(ValueError):
            Params(**kwargs)


@pytest.mark.slow
def test_the_demo_database_plants_are_found(tmp_path: Path) -> None:
    # Big enough for an outage hour to hold more than a handful of calls.
    with open_source(create_demo(tmp_path / "demo.db", rows=150_000, seed=2)) as source:
        found = findings(compute_overview(source))
    attacker = ATTACKER[3]
    sprayers = [i for i in found["failed_login_bursts"].items if i.cells[0] == f"IP: {attacker}"]
    assert sprayers and sprayers[0].cells[4].startswith("10 accounts")
    assert len(found["new_country"].items) == 3
    assert len(found["api_error_rate"].items) == 2  # the two outage hours
    assert found["sms_gateways"].items[0].cells[0] == "Legacy backup route"
    assert found["sms_gateways"].items[0].severity is Severity.WARNING
