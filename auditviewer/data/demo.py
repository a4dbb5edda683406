"""A realistic, deterministic demo database in the exported format.

Why: the viewer needs something to open without a customer's data: for first
runs, screenshots, manual testing and benchmarks (millions of rows). The data
has the rhythm and the oddities of real logs (recurring users and IPs, office
hours, error spikes, failed-login bursts, hostile text) so that every feature
has something to show. Columns are generated in vectorised numpy chunks and
written with ``executemany``; a 10M-row demo takes a little over a minute.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from auditviewer.data.outfile import atomic_path

log = logging.getLogger(__name__)

#: Fixed so that the output does not depend on when it is generated.
END = np.datetime64("2025-06-30T23:59:59", "s")
DAYS = 365
START_DAY = END.astype("datetime64[D]") - (DAYS - 1)  # 2024-07-01, a Monday
SPAN = DAYS * 86400  # seconds covered
CHUNK = 250_000
MIN_ROWS = 60
#: Each table is generated whole in memory before it is written: keep it within reach.
MAX_ROWS = 100_000_000

SCRIPT_URL = "/Lists/Subscribers?search=<script>alert(1)</script>"
LONG_URL = "/Segments/Edit/17?rules=" + "(email%20contains%20%22%40example.com%22)%20OR%20" * 60
HOSTILE_UA = "Mozilla/5.0 \"Quoted\" <b>bold</b> 'single' (X11; Linux x86_64) Gecko/20100101"
EMOJI_CAMPAIGN = "Zażółć gęślą jaźń 🎉 – konkurs wakacyjny"

BUSINESS_UNITS = ((1, "Main brand"), (2, "Outlet store"), (3, "B2B newsletter"), (4, "DACH region"))
_COMMON = "id INTEGER PRIMARY KEY, business_unit_id INTEGER REFERENCES business_units(id), date TEXT NOT NULL"
SCHEMA = {
    "panel_logs": "url TEXT NOT NULL, method TEXT NOT NULL, email TEXT NOT NULL, "
    "remote_ip TEXT NOT NULL, api_method_status TEXT, user_agent TEXT",
    "api_logs": "url TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, remote_ip TEXT NOT NULL",
    "sms_logs": "message_id TEXT NOT NULL, campaign_description TEXT NOT NULL, "
    "subscriber_phone TEXT NOT NULL, gateway_name TEXT NOT NULL, error TEXT",
    "user_logins": "name TEXT NOT NULL, email TEXT NOT NULL, login TEXT NOT NULL, "
    "successful_login_date TEXT, last_failed_login_date TEXT, country TEXT, state TEXT, "
    "city TEXT, remote_ip TEXT NOT NULL, user_agent TEXT",
}
INDEXES = {
    "panel_logs": ("date", "email", "remote_ip"),
    "api_logs": ("date", "status", "remote_ip"),
    "sms_logs": ("date", "gateway_name"),
    "user_logins": ("date", "email", "remote_ip"),
}

# Traffic by hour of day (UTC) and the weekend factor: people work office hours
# in Europe, integrations run around the clock with a nightly batch.
OFFICE = ([1, 1, 1, 1, 2, 5, 14, 28, 36, 38, 34, 30, 33, 36, 34, 28, 18, 10, 7, 5, 4, 3, 2, 1], 0.12)
MACHINE = ([30, 40, 45, 30, 15, 15, 20, 30, 40, 45, 45, 45, 45, 45, 45, 45, 40, 35, 30, 28, 26, 25, 25, 26], 0.7)
TEXTING = ([0.2, 0.1, 0.1, 0.1, 0.3, 1, 4, 12, 20, 22, 20, 16, 14, 18, 20, 18, 14, 10, 6, 3, 1, 0.5, 0.3, 0.2], 0.5)

NAMES = {  # users by home country; the apostrophe is deliberate
    "Poland": "Anna Kowalska, Piotr Nowak, Katarzyna Wiśniewska, Tomasz Wójcik, Magdalena Kamińska, "
    "Michał Lewandowski, Agnieszka Zielińska, Paweł Szymański, Joanna Woźniak, "
    "Krzysztof Dąbrowski, Marta Kozłowska, Łukasz Jankowski, Ewa Mazur, Grzegorz Krawczyk, "
    "Aleksandra Piotrowska, Jakub Grabowski, Natalia Pawłowska, Bartosz Michalski, Zofia Król, "
    "Marcin Wieczorek",
    "Germany": "Lukas Müller, Anna Schmidt, Jonas Schneider, Lea Fischer, Felix Weber, Sophie Wagner, "
    "Maximilian Becker, Hannah Hoffmann, Jürgen Schäfer",
    "United Kingdom": "Siobhan O'Brien, Oliver Smith, Amelia Jones, Harry Taylor, George Brown, Isla Wilson, "
    "Charlotte Evans",
    "United States": "Emily Johnson, Michael Davis, Jessica Miller, Daniel Garcia",
}
CITIES = {  # (state, city); the first is where the office is
    "Poland": [
        ("Mazowieckie", "Warszawa"),
        ("Małopolskie", "Kraków"),
        ("Wielkopolskie", "Poznań"),
        ("Pomorskie", "Gdańsk"),
        ("Dolnośląskie", "Wrocław"),
    ],
    "Germany": [("Berlin", "Berlin"), ("Bayern", "München"), ("Hamburg", "Hamburg"), ("Nordrhein-Westfalen", "Köln")],
    "United Kingdom": [("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh")],
    "United States": [("New York", "New York"), ("Texas", "Austin"), ("Illinois", "Chicago")],
}
HOME_BU = {"Poland": (1, 2, 3), "Germany": (4,), "United Kingdom": (1, 3), "United States": (1, 3)}
IPV4 = {
    "Poland": ("83.24", "89.64", "178.36"),
    "Germany": ("91.64", "84.150", "93.211"),
    "United Kingdom": ("81.2", "86.150", "90.196"),
    "United States": ("73.15", "24.30", "98.207"),
}
IPV6 = {"Poland": "2a02:a31a", "Germany": "2003:e5", "United Kingdom": "2a00:23c6", "United States": "2601:647"}
FOREIGN = [  # (country, state, city, ip): nowhere our users live
    ("Brazil", "São Paulo", "São Paulo", "177.92.48.113"),
    ("Vietnam", "Hanoi", "Hanoi", "113.161.42.7"),
    ("Nigeria", "Lagos", "Lagos", "105.112.96.30"),
    ("Romania", "Bucharest", "Bucharest", "86.120.14.201"),
    ("India", "Maharashtra", "Mumbai", "49.36.112.9"),
]
ATTACKER = ("Netherlands", "North Holland", "Amsterdam", "45.155.205.17", "python-requests/2.31.0")

_AW, _GK = "AppleWebKit/537.36 (KHTML, like Gecko)", "Gecko/20100101"
USER_AGENTS = [
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_AW} Chrome/125.0.0.0 Safari/537.36",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_AW} Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.51",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) {_GK} Firefox/126.0",
    f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_AW} Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    f"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) {_GK} Firefox/125.0",
    f"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) {_GK} Firefox/126.0",
    f"Mozilla/5.0 (X11; Linux x86_64) {_AW} Chrome/124.0.0.0 Safari/537.36",
    # mobile ones, used as a user's second browser
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1",
    f"Mozilla/5.0 (Linux; Android 10; K) {_AW} Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
]
N_DESKTOP = 8

PANEL_PAGES = [  # (url, weight, share of POST, number of distinct ids or 0)
    ("/Dashboard", 10, 0, 0),
    ("/Lists", 6, 0, 0),
    ("/Lists/Subscribers/{}", 8, 0.05, 60),
    ("/Lists/Subscribers/Edit/{}", 9, 0.45, 2_000_000),
    ("/Lists/Subscribers/Add", 2, 0.7, 0),
    ("/Lists/Import", 1.5, 0.6, 0),
    ("/Messages/Newsletter", 6, 0, 0),
    ("/Messages/Newsletter/Edit/{}", 8, 0.5, 3000),
    ("/Messages/Newsletter/Preview/{}", 4, 0, 3000),
    ("/Messages/Newsletter/Send", 2, 1, 0),
    ("/Messages/Transactional/Edit/{}", 2, 0.5, 40),
    ("/Messages/Sms/Wizard", 1, 0.6, 0),
    ("/Segments/Edit/{}", 3, 0.5, 200),
    ("/Statistics/Messages/{}", 6, 0, 3000),
    ("/Statistics/Summary", 3, 0, 0),
    ("/Settings/Users", 1, 0.1, 0),
    ("/Settings/Users/Edit/{}", 0.6, 0.5, 60),
    ("/Settings/ApiKeys", 0.3, 0.3, 0),
    ("/Settings/Domains", 0.3, 0.2, 0),
    ("/Auditing/Logs", 0.5, 0, 0),
]
API_ENDPOINTS = [  # (group, url, method, weight, number of distinct ids or 0)
    ("subs", "/v2/Api/Subscribers", "POST", 6, 0),
    ("subs", "/v2/Api/Subscribers", "GET", 4, 0),
    ("subs", "/v2/Api/Subscribers", "PUT", 1.5, 0),
    ("subs", "/v2/Api/Subscribers", "DELETE", 0.4, 0),
    ("subs", "/v2/Api/RemovedSubscribers", "GET", 0.3, 0),
    ("trans", "/v2/Api/Transactionals/{}", "POST", 8, 40),
    ("lists", "/v2/Api/Lists", "GET", 1, 0),
    ("lists", "/v2/Api/DataTablesAddMultipleRows", "POST", 1, 0),
    ("lists", "/v2/Api/Segments/{}/Size", "GET", 0.8, 200),
    ("news", "/v2/Api/Newsletters", "POST", 0.5, 0),
    ("news", "/v2/Api/Newsletters/{}", "GET", 1, 3000),
    ("news", "/v2/Api/Newsletters/{}", "DELETE", 0.05, 3000),
    ("stats", "/v2/Api/MessageStatistics/{}", "GET", 2, 3000),
    ("stats", "/v2/Api/Activities/Opens", "GET", 0.5, 0),
    ("stats", "/v2/Api/Activities/Clicks", "GET", 0.5, 0),
    ("stats", "/v2/Api/Time", "GET", 0.3, 0),
]
API_CALLERS = [  # (ip, business unit, share of calls, endpoint groups, share of 4xx)
    ("52.29.114.18", 1, 0.38, ("subs", "trans"), 0.03),
    ("52.29.114.19", 1, 0.15, ("subs", "trans"), 0.03),
    ("35.205.61.7", 2, 0.15, ("trans", "subs"), 0.035),
    ("185.23.40.90", 3, 0.1, ("lists", "news", "stats"), 0.05),
    ("2a01:4f8:c17:2e5f::1", 4, 0.12, ("subs", "stats"), 0.04),
    ("91.204.11.5", 1, 0.1, ("stats", "news"), 0.09),
]
OK_STATUS = {"GET": 200, "POST": 201, "PUT": 204, "DELETE": 204}
C4XX, P4XX = [400, 401, 403, 404, 409, 429], [0.28, 0.12, 0.05, 0.30, 0.15, 0.10]
C5XX, P5XX = [500, 502, 503], [0.55, 0.2, 0.25]

CAMPAIGNS = [  # (description, business unit, months it runs in); the first three are automations
    ("Delivery notification", 1, ()),
    ("Abandoned cart reminder", 1, ()),
    ("Outlet: order ready for pickup", 2, ()),
    ("Summer sale -30%", 1, (6, 7, 8)),
    ("Black Friday early access", 1, (11,)),
    ("Christmas gift guide", 1, (11, 12)),
    ("New collection SS25", 1, (3, 4, 5)),
    ("Outlet clearance weekend", 2, ()),
    ("Loyalty points expiring", 2, ()),
    (EMOJI_CAMPAIGN, 1, (7, 8)),
    ("Webinar reminder: deliverability 101", 3, ()),
    ("Invitation: trade fair booth B12", 3, (9, 10, 2, 3)),
    ("Winterschlussverkauf", 4, (1, 2)),
    ("Flash sale 24h", 2, ()),
    ("Geburtstagsgutschein", 4, ()),
]
EMOJI_INDEX = [c[0] for c in CAMPAIGNS].index(EMOJI_CAMPAIGN)
GATEWAYS = ["SMSAPI main", "Orange PL bulk", "MessageBird DE", "Twilio UK", "Legacy backup route"]
GATEWAY_ERROR = np.array([0.018, 0.02, 0.015, 0.015, 0.12])  # the legacy route is the bad one
ERRORS = np.array(
    [
        "Gateway timeout",
        "Insufficient credit",
        "Number on blocklist",
        "Message rejected by operator",
        "Unknown subscriber",
    ],
    dtype=object,
)
P_ERROR, P_ERROR_LEGACY = [0.25, 0.15, 0.3, 0.15, 0.15], [0.6, 0, 0.05, 0.25, 0.1]
PL_PREFIX = [
    500,
    501,
    505,
    509,
    512,
    530,
    535,
    570,
    600,
    601,
    602,
    604,
    660,
    664,
    690,
    693,
    695,
    697,
    721,
    724,
    730,
    733,
    780,
    785,
    790,
    793,
    880,
    885,
    887,
]
DE_PREFIX = [1511, 1512, 1520, 1522, 1570, 1590, 160, 162, 170, 171, 172, 175, 176, 177, 178, 179]


class DemoCancelled(Exception):
    """The caller's ``cancelled`` callback asked to stop; no file was left behind."""


def _objects(values: Sequence[object]) -> np.ndarray:
    """An object array, so that fancy indexing hands back the same str objects (cheap .tolist())."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@cache
def _clock() -> tuple[np.ndarray, np.ndarray]:
    """Day and time-of-day strings: a date is two lookups and one concatenation, not a strftime."""
    days = np.arange(START_DAY, START_DAY + DAYS).astype(str)
    tods = [f" {h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    return _objects(list(days)), _objects(tods)


def _dates(secs: np.ndarray) -> list[str]:
    days, tods = _clock()
    dates: list[str] = (days[secs // 86400] + tods[secs % 86400]).tolist()
    return dates


def _timestamps(
    n: int, rhythm: tuple[Sequence[float], float], rng: np.random.Generator, boost: np.ndarray | None = None
) -> np.ndarray:
    """Sorted seconds since the start, following an hourly and weekly rhythm with a slow growth."""
    profile, weekend = rhythm
    hours = np.arange(SPAN // 3600)
    w = np.asarray(profile, dtype=float)[hours % 24] * np.where((hours // 24) % 7 >= 5, weekend, 1.0)
    w *= np.linspace(0.8, 1.2, w.size) * np.repeat(rng.lognormal(0, 0.15, DAYS), 24)
    xmas = int((np.datetime64("2024-12-24") - START_DAY).astype(int))
    w[xmas * 24 : (xmas + 9) * 24] *= 0.3
    if boost is not None:
        w *= boost
    secs = np.repeat(hours * 3600, rng.multinomial(n, w / w.sum())) + rng.integers(0, 3600, n)
    secs.sort()
    return secs


def _pool(
    entries: Sequence[tuple[str, float, int]], rng: np.random.Generator
) -> tuple[list[str], np.ndarray, list[int]]:
    """Expand url templates with ids into concrete urls; a few ids of each template are hot."""
    urls, weights, src = [], [], []
    for i, (template, weight, ids) in enumerate(entries):
        k = min(ids, 300) if ids else 1
        picked = rng.choice(ids, k, replace=False) + 1 if ids > 1000 else rng.permutation(max(ids, 1))[:k] + 1
        share = 1.0 / np.arange(1, k + 1) ** 0.9
        urls += [template.format(int(x)) for x in picked]
        weights += list(weight * share / share.sum())
        src += [i] * k
    w = np.asarray(weights)
    return urls, w / w.sum(), src


#: Where a user logs in from: (country, state, city, IP); no place for a VPN's private address.
Place = tuple[str | None, str | None, str | None, str]


def _email(name: str, rng: np.random.Generator) -> str:
    """first.last at the customer's domain (or at an agency's, for some), without diacritics."""
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    local = "".join(c for c in plain if not unicodedata.combining(c)).lower().replace(" ", ".")
    domain = "pixel-agency.example.net" if rng.random() < 0.15 else "northwind.example.com"
    return f"{local}@{domain}"


def _places(country: str, office: str, rng: np.random.Generator) -> list[Place]:
    """A user's usual places, most used first: work (the office or their own IP), maybe home, maybe a VPN."""
    state, city = CITIES[country][0 if rng.random() < 0.6 else rng.integers(len(CITIES[country]))]
    v4 = f"{rng.choice(IPV4[country])}.{rng.integers(1, 255)}.{rng.integers(1, 255)}"
    own: list[Place] = [(country, state, city, office if rng.random() < 0.5 else v4)]
    if rng.random() < 0.6:  # home broadband, sometimes IPv6
        home = (
            f"{IPV6[country]}:{rng.integers(1, 65536):x}:{rng.integers(1, 65536):x}::{rng.integers(1, 65536):x}"
            if rng.random() < 0.35
            else f"{rng.choice(IPV4[country])}.{rng.integers(1, 255)}.{rng.integers(1, 255)}"
        )
        own.append((country, state, city, home))
    if rng.random() < 0.3:  # VPN: a private address that geolocation cannot place
        vpn = (
            f"10.20.{rng.integers(0, 255)}.{rng.integers(1, 255)}"
            if rng.random() < 0.6
            else f"192.168.1.{rng.integers(2, 255)}"
        )
        own.append((None, None, None, vpn))
    return own


def _place_arrays(places: list[list[Place]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per user and slot (0-2): the cumulative chance of using that place, its IP, its (country, state, city)."""
    n = len(places)
    cum = np.ones((n, 3))
    ip, loc = np.empty((n, 3), dtype=object), np.empty((n, 3, 3), dtype=object)
    for u, own in enumerate(places):
        w = np.array([0.72, 0.23, 0.05][: len(own)])
        cum[u, : len(own)] = np.cumsum(w / w.sum())
        for s in range(3):
            c, st, ci, address = own[min(s, len(own) - 1)]
            ip[u, s], loc[u, s] = address, (c, st, ci)
    return cum, ip, loc


class _Users:
    """~40 recurring users, each with a home country, 1-3 usual places (IP + location) and browsers."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.name: list[str] = []
        self.email: list[str] = []
        bu: list[int] = []
        act: list[float] = []
        places: list[list[Place]] = []
        offices = {c: f"{IPV4[c][0]}.{rng.integers(1, 255)}.{rng.integers(1, 255)}" for c in IPV4}
        for country, names in NAMES.items():
            for name in names.split(", "):
                self.email.append(_email(name, rng))
                self.name.append(name)
                bu.append(int(rng.choice(HOME_BU[country])))
                places.append(_places(country, offices[country], rng))
                act.append(1.0 / (len(act) + 1) ** 0.8)
        n = len(self.name)
        self.bu = np.array(bu)
        self.activity = rng.permutation(np.asarray(act)) / sum(act)
        self.cum, self.ip, self.loc = _place_arrays(places)
        self.ua = (
            _objects(
                [USER_AGENTS[i] for i in rng.integers(0, N_DESKTOP, n)]
                + [USER_AGENTS[i] for i in rng.integers(0, len(USER_AGENTS), n)]
            )
            .reshape(2, n)
            .T
        )
        self.email_a = _objects(self.email)

    def slot(self, user: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Which of each user's places (0-2) a row comes from, by that user's habits."""
        u = rng.random(user.size)
        slots: np.ndarray = (u >= self.cum[user, 0]).astype(np.intp) + (u >= self.cum[user, 1])
        return slots

    def browser(self, user: np.ndarray, rng: np.random.Generator, second: float) -> np.ndarray:
        """Each user's usual browser, or their second one with probability ``second``."""
        browsers: np.ndarray = self.ua[user, (rng.random(user.size) < second).astype(np.intp)]
        return browsers


#: Builds the columns (after id) of rows [start, stop) of a table, in order.
Chunk = Callable[[int, int], list[list[Any]]]


def _panel(n: int, users: _Users, rng: np.random.Generator) -> Chunk:
    """Users clicking through the panel in office hours; ~78% GET."""
    secs = _timestamps(n, OFFICE, rng)
    urls, p, src = _pool([(t, w, ids) for t, w, _, ids in PANEL_PAGES], rng)
    urls_a, post_share = _objects(urls), np.array([PANEL_PAGES[i][2] for i in src])
    methods = _objects(["GET", "POST"])
    get_status = _objects([None, "OK", "Error: Not found"]), [0.85, 0.145, 0.005]
    post_status = (
        _objects(
            [
                "OK",
                "Error: Validation failed",
                "Error: Unauthorized",
                "Error: Not found",
                "Error: Internal server error",
            ]
        ),
        [0.94, 0.03, 0.015, 0.01, 0.005],
    )
    planted = {n // 3: (0, SCRIPT_URL), n // 2: (0, LONG_URL), 2 * n // 3: (5, HOSTILE_UA)}

    def chunk(start: int, stop: int) -> list[list[Any]]:
        m = stop - start
        user = rng.choice(len(users.name), m, p=users.activity)
        page = rng.choice(len(urls), m, p=p)
        post = rng.random(m) < post_share[page]
        status = np.where(
            post, post_status[0][rng.choice(5, m, p=post_status[1])], get_status[0][rng.choice(3, m, p=get_status[1])]
        )
        ua = users.browser(user, rng, 0.12)
        ua[rng.random(m) < 0.005] = None
        cols = [
            urls_a[page],
            methods[post.astype(np.intp)],
            users.email_a[user],
            users.ip[user, users.slot(user, rng)],
            status,
            ua,
        ]
        cols = [users.bu[user].tolist(), _dates(secs[start:stop])] + [c.tolist() for c in cols]
        for at, (col, value) in planted.items():
            if start <= at < stop:
                cols[2 + col][at - start] = value
        return cols

    return chunk


def _api(n: int, rng: np.random.Generator) -> Chunk:
    """A few integrations calling the API around the clock: ~4% 4xx, ~0.7% 5xx, two outages."""
    # Planted outages: two weekday hours when half the calls fail with 5xx and clients retry.
    spikes = [
        d * 24 + h
        for d, h in zip(rng.choice(np.arange(30, DAYS - 5, 7), 2, replace=False), rng.integers(10, 15, 2), strict=True)
    ]
    boost = np.ones(SPAN // 3600)
    boost[spikes] = 3.0
    secs = _timestamps(n, MACHINE, rng, boost)
    urls, p, src = _pool([(u, w, ids) for _, u, _, w, ids in API_ENDPOINTS], rng)
    urls_a, methods = _objects(urls), _objects([API_ENDPOINTS[i][2] for i in src])
    ok = np.array([OK_STATUS[m] for m in methods])
    group = np.array([API_ENDPOINTS[i][0] for i in src])
    caller_p = [p * np.isin(group, c[3]) / (p * np.isin(group, c[3])).sum() for c in API_CALLERS]
    ips, bus = _objects([c[0] for c in API_CALLERS]), np.array([c[1] for c in API_CALLERS])
    p4 = np.array([c[4] for c in API_CALLERS])

    def chunk(start: int, stop: int) -> list[list[Any]]:
        m, s = stop - start, secs[start:stop]
        caller = rng.choice(len(API_CALLERS), m, p=[c[2] for c in API_CALLERS])
        entry = np.empty(m, dtype=np.intp)
        for c, pc in enumerate(caller_p):
            mask = caller == c
            entry[mask] = rng.choice(len(urls), int(mask.sum()), p=pc)
        status, u = ok[entry], rng.random(m)
        p5 = np.where(np.isin(s // 3600, spikes), 0.5, 0.007)
        bad = u < p5 + p4[caller]
        status[bad] = rng.choice(C4XX, int(bad.sum()), p=P4XX)
        bad = u < p5
        status[bad] = rng.choice(C5XX, int(bad.sum()), p=P5XX)
        return [
            bus[caller].tolist(),
            _dates(s),
            urls_a[entry].tolist(),
            methods[entry].tolist(),
            status.tolist(),
            ips[caller].tolist(),
        ]

    return chunk


def _phones(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subscribers who recur across campaigns: Polish, German and UK mobile numbers, a few malformed."""
    country = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    a, b = rng.integers(0, 1000, n).tolist(), rng.integers(0, 10_000_000, n).tolist()
    pl, de = rng.choice(PL_PREFIX, n).tolist(), rng.choice(DE_PREFIX, n).tolist()
    phones = [
        f"+48 {pl[i]} {a[i]:03d} {b[i] % 1000:03d}"
        if c == 0
        else f"+49 {de[i]} {b[i]:07d}"
        if c == 1
        else f"+44 7{a[i]:03d} {b[i] % 1_000_000:06d}"
        for i, c in enumerate(country.tolist())
    ]
    bad = rng.random(n) < 0.004
    for i in np.flatnonzero(bad).tolist():
        phones[i] = phones[i][:-3]
    return _objects(phones), country, bad


def _sms(n: int, rng: np.random.Generator) -> Chunk:
    """Automations all year plus seasonal campaigns sent in bursts; one gateway fails far more."""
    weeks = DAYS // 7 + 1
    boost = np.ones(SPAN // 3600)  # campaign sends: two busy hours a week
    boost[
        (
            np.arange(weeks - 1)[:, None] * 168
            + rng.choice(np.arange(8, 16), (weeks - 1, 2))
            + 24 * rng.integers(0, 5, (weeks - 1, 2))
        ).ravel()
    ] = 12.0
    secs = _timestamps(n, TEXTING, rng, boost)
    phones, phone_country, malformed = _phones(min(max(n // 4, 100), 400_000), rng)
    months = (START_DAY + 7 * np.arange(weeks) + 3).astype("datetime64[M]").astype(int) % 12 + 1
    weekly = np.array(
        [rng.choice([i for i, c in enumerate(CAMPAIGNS[3:], 3) if not c[2] or mo in c[2]], 2) for mo in months.tolist()]
    )  # the campaigns of each week, in season
    camp_a, camp_bu = _objects([c[0] for c in CAMPAIGNS]), np.array([c[1] for c in CAMPAIGNS])
    gateways, salt = _objects(GATEWAYS), np.uint64(rng.integers(0, 2**62))

    def chunk(start: int, stop: int) -> list[list[Any]]:
        m, s = stop - start, secs[start:stop]
        ph = rng.integers(0, phones.size, m)
        pc = phone_country[ph]
        gw = np.where(pc == 0, (rng.random(m) < 0.4).astype(np.intp), pc + 1)
        gw[rng.random(m) < 0.1] = 4
        camp = np.where(rng.random(m) < 0.35, rng.integers(0, 3, m), weekly[s // (7 * 86400), rng.integers(0, 2, m)])
        if start <= n // 20 < stop:  # the emoji campaign (July), present even in a tiny demo
            camp[n // 20 - start] = EMOJI_INDEX
        error = np.full(m, None, dtype=object)
        failed = rng.random(m) < GATEWAY_ERROR[gw]
        error[failed] = np.where(
            gw[failed] == 4,
            ERRORS[rng.choice(5, int(failed.sum()), p=P_ERROR_LEGACY)],
            ERRORS[rng.choice(5, int(failed.sum()), p=P_ERROR)],
        )
        error[malformed[ph]] = "Invalid phone number"
        v = np.arange(start + 1, stop + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + salt
        v ^= v >> np.uint64(29)  # an odd multiplier and a xorshift are bijective: ids stay unique
        return [
            camp_bu[camp].tolist(),
            _dates(s),
            [f"{x:016x}" for x in v.tolist()],
            camp_a[camp].tolist(),
            phones[ph].tolist(),
            gateways[gw].tolist(),
            error.tolist(),
        ]

    return chunk


#: A planted login: (second, user, failed, (country, state, city), IP, user agent).
Planted = tuple[int, int, bool, tuple[str | None, str | None, str | None], str, str]


def _logins(n: int, users: _Users, rng: np.random.Generator) -> Chunk:
    """Background logins (~8% typos) plus planted incidents, merged in time order."""
    planted = _planted_logins(n, users, rng)[:n]
    secs, cols = _background_logins(max(n - len(planted), 0), users, rng)
    for _t, user, fails, (country, state, city), ip, ua in planted:
        for col, v in zip(cols, (user, fails, country, state, city, ip, ua), strict=True):
            col.append(v)
    secs = np.concatenate([secs, np.array([p[0] for p in planted], dtype=np.int64)])
    order = np.argsort(secs, kind="stable")
    user_o, failed, country_o, state_o, city_o, ip_o, ua_o = (_objects(c)[order].tolist() for c in cols)
    dates = _dates(secs[order])
    ok_date, lf_date = _login_dates(dates, user_o, failed)
    bu = users.bu[np.asarray(user_o, dtype=np.intp)].tolist()
    rows = [
        bu,
        dates,
        [users.name[u] for u in user_o],
        [users.email[u] for u in user_o],
        ["failed" if f else "successful" for f in failed],
        ok_date,
        lf_date,
        country_o,
        state_o,
        city_o,
        ip_o,
        ua_o,
    ]
    return lambda start, stop: [c[start:stop] for c in rows]


def _planted_logins(n: int, users: _Users, rng: np.random.Generator) -> list[Planted]:
    """Incidents for the overview to find: failed-login bursts, password guessing, new countries."""
    planted: list[Planted] = []

    def at() -> int:
        return int(rng.integers(0, SPAN - 3600))

    obrien = users.name.index("Siobhan O'Brien")
    for b in range(int(np.clip(n // 1500, 2, 40))):  # failed-login bursts against one account
        user, t = (obrien if b == 0 else int(rng.integers(len(users.name)))), at()
        if b % 2 == 0:  # the user, from their usual place
            loc, ip, ua = tuple(users.loc[user, 0]), users.ip[user, 0], users.ua[user, 0]
        else:  # someone guessing the password from abroad
            loc, ip, ua = FOREIGN[b % 5][:3], FOREIGN[b % 5][3], USER_AGENTS[0]
        for _ in range(int(rng.integers(6, 13))):
            t += int(rng.integers(5, 40))
            planted.append((t, user, True, loc, ip, ua))
        if b % 2 == 0:  # forgot the password, then got it right
            planted.append((t + int(rng.integers(30, 120)), user, False, loc, ip, ua))
    t = at()  # one foreign IP tries many accounts, at night
    t -= t % 86400 - 2 * 3600
    for user in rng.choice(len(users.name), min(10, len(users.name)), replace=False).tolist():
        t += int(rng.integers(3, 30))
        planted.append((t, user, True, ATTACKER[:3], ATTACKER[3], ATTACKER[4]))
    for k in range(3):  # a successful login from a country the user never used
        user, (c, st, ci, ip) = int(rng.integers(len(users.name))), FOREIGN[(k + 2) % 5]
        planted.append((at(), user, False, (c, st, ci), ip, users.ua[user, 1]))
    planted[len(planted) // 2] = (*planted[len(planted) // 2][:5], HOSTILE_UA)
    return planted


def _background_logins(m: int, users: _Users, rng: np.random.Generator) -> tuple[np.ndarray, list[list[Any]]]:
    """``m`` everyday logins: their seconds, and [user, failed, country, state, city, IP, user agent] as columns."""
    secs = _timestamps(m, OFFICE, rng)
    user = rng.choice(len(users.name), m, p=users.activity)
    slot = users.slot(user, rng)
    loc = users.loc[user, slot]
    return secs, [
        user.tolist(),
        (rng.random(m) < 0.08).tolist(),
        loc[:, 0].tolist(),
        loc[:, 1].tolist(),
        loc[:, 2].tolist(),
        users.ip[user, slot].tolist(),
        users.browser(user, rng, 0.2).tolist(),
    ]


def _login_dates(dates: list[str], users: list[int], failed: list[bool]) -> tuple[list[str | None], list[str | None]]:
    """successful_login_date (the row's own date when it succeeded) and the user's last failure before it."""
    last_failed: dict[int, str] = {}
    ok_date: list[str | None] = []
    lf_date: list[str | None] = []
    for d, u, f in zip(dates, users, failed, strict=True):
        lf_date.append(last_failed.get(u))
        ok_date.append(None if f else d)
        if f:
            last_failed[u] = d
    return ok_date, lf_date


def table_sizes(rows: int) -> dict[str, int]:
    """Rows per table for a demo whose api_logs has ``rows`` rows."""
    return {
        "panel_logs": max(MIN_ROWS, rows // 2),
        "api_logs": rows,
        "sms_logs": max(MIN_ROWS, rows // 5),
        "user_logins": max(MIN_ROWS, rows // 20),
    }


def create_demo(
    path: str | os.PathLike[str],
    rows: int = 200_000,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a demo database to ``path`` and return it.

    ``rows`` is the size of the largest log, api_logs; panel_logs gets rows//2,
    sms_logs rows//5 and user_logins rows//20, each at least 60 rows, so a tiny
    demo still has every table (planted incidents then weigh more than usual).
    The same ``seed`` and ``rows`` give the same contents. ``progress(done,
    total)`` is called (in rows) and ``cancelled()`` checked between chunks
    of inserted rows and between indexes; indexes are built after the last
    progress call (about half the time of a 10M demo, under a second for the
    default). On cancel ``DemoCancelled`` is raised. The file is built beside
    ``path`` under a temporary name and renamed into place, so a cancelled or
    failed run leaves nothing behind. An existing file is replaced only with
    ``overwrite=True``; otherwise FileExistsError.
    """
    target = Path(path)
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be at least 1 and at most {MAX_ROWS:,}, not {rows}")
    if seed < 0:
        raise ValueError(f"the seed must be zero or more, not {seed}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; choose another name or allow overwriting it")
    sizes = table_sizes(rows)
    steps = _Steps(sum(sizes.values()), progress, cancelled)
    log.info("creating demo database %s (%d rows, seed %d)", target, steps.total, seed)
    with atomic_path(target) as tmp:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            _create_tables(con)
            for table, chunk in _makers(sizes, seed):
                _fill(con, table, sizes[table], chunk, steps)
            _create_indexes(con, steps)
        finally:
            con.close()
    log.info("demo database ready: %s", target)
    return target


class _Steps:
    """Rows written so far, told to ``progress``; ``cancelled`` asked after every step."""

    def __init__(
        self, total: int, progress: Callable[[int, int], None] | None, cancelled: Callable[[], bool] | None
    ) -> None:
        self.total, self.done = total, 0
        self._progress, self._cancelled = progress, cancelled

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise DemoCancelled("demo database creation was cancelled")

    def rows_written(self, n: int) -> None:
        self.done += n
        if self._progress is not None:
            self._progress(self.done, self.total)
        self.check()


def _create_tables(con: sqlite3.Connection) -> None:
    """Fast settings for a file nobody reads yet, the business units and the empty log tables."""
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "locking_mode=EXCLUSIVE",
        "cache_size=-262144",
        "temp_store=MEMORY",
    ):
        con.execute(f"PRAGMA {pragma}")
    con.execute("CREATE TABLE business_units(id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    con.executemany("INSERT INTO business_units VALUES (?, ?)", BUSINESS_UNITS)
    for table, columns in SCHEMA.items():
        con.execute(f"CREATE TABLE {table}({_COMMON}, {columns})")


def _makers(sizes: dict[str, int], seed: int) -> Iterator[tuple[str, Chunk]]:
    """Each table with the maker of its rows, each table's random numbers a stream of its own."""
    users = _Users(np.random.default_rng([seed, 0]))
    makers: dict[str, Callable[[int, np.random.Generator], Chunk]] = {
        "panel_logs": lambda n, r: _panel(n, users, r),
        "api_logs": _api,
        "sms_logs": _sms,
        "user_logins": lambda n, r: _logins(n, users, r),
    }
    for k, (table, make) in enumerate(makers.items(), start=1):
        yield table, make(sizes[table], np.random.default_rng([seed, k]))


def _fill(con: sqlite3.Connection, table: str, n: int, chunk: Chunk, steps: _Steps) -> None:
    """Rows 1..n of ``table``, inserted CHUNK rows at a time in one transaction."""
    sql = f"INSERT INTO {table} VALUES ({', '.join('?' * (SCHEMA[table].count(',') + 4))})"
    con.execute("BEGIN")
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        con.executemany(sql, zip(range(start + 1, stop + 1), *chunk(start, stop), strict=True))
        steps.rows_written(stop - start)
    con.execute("COMMIT")
    log.debug("%s: %d rows", table, n)


def _create_indexes(con: sqlite3.Connection, steps: _Steps) -> None:
    for table, columns in INDEXES.items():
        for column in columns:
            con.execute(f"CREATE INDEX idx_{table}_{column} ON {table}({column})")
            steps.check()
    con.execute("PRAGMA analysis_limit=1000")
    con.execute("ANALYZE")
