"""A small log database with incidents planted on purpose, for the overview's tests.

Everything the overview should find is named here, with what it should say;
everything else is quiet background (office-hour logins from home, API calls
that work, SMS that arrive).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

BASE = datetime(2025, 1, 6)  # a Monday
HOME = {
    "anna@example.com": ("Poland", "83.24.1.1"),
    "ben@example.com": ("Germany", "91.64.1.1"),
    "carl@example.com": ("United Kingdom", "81.2.1.1"),
    "dora@example.com": ("Poland", "89.64.1.1"),
}

# -- what was planted ----------------------------------------------------------------------
#: anna fails 6 times within 4 minutes, then logs in a minute later (forgot her password).
ANNA_BURST = (BASE + timedelta(days=3, hours=10), 6)
ANNA_SUCCESS = ANNA_BURST[0] + timedelta(minutes=5)
#: ben fails 5 times, 15 minutes apart: a burst only when T is an hour.
BEN_SLOW = BASE + timedelta(days=4, hours=9)
#: carl fails 4 times within 3 minutes: a burst only when N is 4.
CARL_FOUR = BASE + timedelta(days=5, hours=11)
#: one IP tries 6 accounts once each within 3 minutes, at night.
SPRAYER = "45.155.205.17"
SPRAY = BASE + timedelta(days=8, hours=2)
SPRAY_ACCOUNTS = [f"user{i}@example.com" for i in range(6)]
#: dora logs in from Brazil (new, on a Thursday afternoon), after failing from Vietnam (a failure is no login).
DORA_BRAZIL = BASE + timedelta(days=10, hours=14)
DORA_VIETNAM = BASE + timedelta(days=9, hours=14)
#: ben logs in on a Saturday night and at 06:30 UTC on a Tuesday (07:30 in Warsaw: inside there).
BEN_SATURDAY = BASE + timedelta(days=5, hours=22)
BEN_EARLY = BASE + timedelta(days=8, hours=6, minutes=30)
#: carl logs in through a VPN and a proxy.
PRIVATE = {"10.1.2.3": 3, "192.168.0.5": 2}
#: API: an hour of outage with half the calls failing with 503; an integration that keeps 404-ing.
OUTAGE = BASE + timedelta(days=1, hours=14)
BROKEN_CALLER = "203.0.113.9"
WRITER = "198.51.100.4"
#: SMS: gateway "Legacy" fails 30% of its sends with "Gateway timeout" (Main: 2.7%).
BAD_GATEWAY = "Legacy"


def _login(
    i: int, when: datetime, email: str, outcome: str, ip: str | None = None, country: str | bool | None = True
) -> dict[str, Any]:
    home_country, home_ip = HOME.get(email, ("Netherlands", SPRAYER))
    return {
        "id": i,
        "date": when,
        "name": email.split("@")[0].title(),
        "email": email,
        "login": outcome,
        "country": home_country if country is True else country,
        "city": None,
        "remote_ip": ip or home_ip,
        "user_agent": "Mozilla/5.0",
    }


def logins() -> list[dict[str, Any]]:
    events: list[tuple[datetime, str, str, str | None, Any]] = []
    for day in range(14):
        if (BASE + timedelta(days=day)).weekday() >= 5:
            continue
        for k, email in enumerate(HOME):
            events.append((BASE + timedelta(days=day, hours=9, minutes=7 * k), email, "successful", None, True))
    start, n = ANNA_BURST
    events += [(start + timedelta(seconds=40 * k), "anna@example.com", "failed", None, True) for k in range(n)]
    events.append((ANNA_SUCCESS, "anna@example.com", "successful", None, True))
    events += [(BEN_SLOW + timedelta(minutes=15 * k), "ben@example.com", "failed", None, True) for k in range(5)]
    events += [(CARL_FOUR + timedelta(minutes=k), "carl@example.com", "failed", None, True) for k in range(4)]
    events += [
        (SPRAY + timedelta(seconds=25 * k), email, "failed", SPRAYER, "Netherlands")
        for k, email in enumerate(SPRAY_ACCOUNTS)
    ]
    events.append((DORA_VIETNAM, "dora@example.com", "failed", "113.161.42.7", "Vietnam"))
    events.append((DORA_BRAZIL, "dora@example.com", "successful", "177.92.48.113", "Brazil"))
    events.append((BEN_SATURDAY, "ben@example.com", "successful", None, True))
    events.append((BEN_EARLY, "ben@example.com", "successful", None, True))
    weekdays = iter((1, 2, 3, 4, 7, 8, 9))
    for ip, count in PRIVATE.items():
        for _ in range(count):
            events.append((BASE + timedelta(days=next(weekdays), hours=13), "carl@example.com", "successful", ip, None))
    events.sort(key=lambda e: e[0])
    return [
        _login(i, when, email, outcome, ip, country)
        for i, (when, email, outcome, ip, country) in enumerate(events, start=1)
    ]


def api() -> list[dict[str, Any]]:
    rows: list[tuple[datetime, str, str, int, str]] = []
    for minute in range(0, 2 * 24 * 60, 10):  # two days, a call every 10 minutes from each integration
        for k, ip in enumerate(("52.29.114.18", "35.205.61.7")):
            rows.append((BASE + timedelta(minutes=minute, seconds=k), "/v2/Api/Subscribers", "GET", 200, ip))
    for k in range(60):  # the outage hour: a call a minute, every other one a 503
        rows.append(
            (
                OUTAGE + timedelta(minutes=k, seconds=30),
                f"/v2/Api/Transactionals/{k % 3 + 1}",
                "POST",
                503 if k % 2 else 201,
                "52.29.114.18",
            )
        )
    for k in range(30):
        rows.append(
            (BASE + timedelta(hours=3, minutes=k * 20, seconds=7), "/v2/Api/Subscribers", "POST", 404, BROKEN_CALLER)
        )
    for k in range(15):
        rows.append(
            (
                BASE + timedelta(hours=20, minutes=k, seconds=11),
                f"/v2/Api/Newsletters/{k + 100}",
                "DELETE" if k < 10 else "PUT",
                204,
                WRITER,
            )
        )
    rows.sort(key=lambda r: r[0])
    return [
        {"id": i, "date": when, "url": url, "method": method, "status": status, "remote_ip": ip}
        for i, (when, url, method, status, ip) in enumerate(rows, start=1)
    ]


def sms() -> list[dict[str, Any]]:
    """Legacy sends every fourth SMS and fails 15 of its 50; Main fails 4 of its 150."""
    rows = []
    for k in range(200):
        legacy = k % 4 == 0
        failed = (k // 4) % 10 < 3 if legacy else k % 50 == 1
        rows.append(
            {
                "id": k + 1,
                "date": BASE + timedelta(minutes=17 * k),
                "message_id": f"m{k}",
                "campaign_description": "Summer sale" if k % 4 < 2 else "Newsletter, weekly",
                "subscriber_phone": "+48 500 000 000",
                "gateway_name": BAD_GATEWAY if legacy else "Main",
                "error": ("Gateway timeout" if legacy else "Number on blocklist") if failed else None,
            }
        )
    return rows


def panel() -> list[dict[str, Any]]:
    rows = []
    weights = {"anna@example.com": 30, "ben@example.com": 12, "carl@example.com": 5}
    k = 0
    for email, n in weights.items():
        for j in range(n):
            k += 1
            rows.append(
                {
                    "id": k,
                    "date": BASE + timedelta(hours=9, minutes=k),
                    "url": f"/Lists/Edit/{j}",
                    "method": "POST" if j % 3 == 0 else "GET",
                    "email": email,
                    "remote_ip": HOME[email][1],
                }
            )
    return rows


def tables() -> dict[str, list[dict[str, Any]]]:
    return {"logins": logins(), "api": api(), "sms": sms(), "panel": panel()}


INDEXES = [("*", "date"), ("*", "email"), ("*", "remote_ip"), ("api", "status"), ("sms", "gateway_name")]
