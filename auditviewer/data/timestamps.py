"""Timestamps as each backend stores them, and as users type them.

The data layer speaks naive ``datetime`` values in UTC. SQLite keeps
timestamps as text, so values bound in a query are written in the very text
form the file uses: comparisons then stay text comparisons that an index on
``date`` can serve. Server columns are native timestamps.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC as UTC  # the one UTC of the program, imported from here
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: The first and the last instant a ``datetime`` holds (naive UTC). A time typed past either is
#: clamped to it: "up to 9999-12-31" reaches the end of time, it does not overflow.
BEGINNING = datetime.min
END_OF_TIME = datetime.max


class Beyond(Enum):
    """An instant no ``datetime`` holds: a zone shift or a day's end took it past year 1 or 9999 (UTC)."""

    BEFORE = "before the year 1"
    AFTER = "after the year 9999"


#: A naive UTC instant, or one beyond either end of the ``datetime`` range.
Instant = datetime | Beyond


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def utc_instant(value: datetime) -> Instant:
    """:func:`to_naive_utc`, or :class:`Beyond` when the shift to UTC leaves the ``datetime`` range."""
    try:
        return to_naive_utc(value)
    except OverflowError:
        return Beyond.BEFORE if value.year < 5000 else Beyond.AFTER


def clamp(value: Instant) -> datetime:
    """An instant as a ``datetime``: one beyond either end becomes that end."""
    if value is Beyond.BEFORE:
        return BEGINNING
    if value is Beyond.AFTER:
        return END_OF_TIME
    return value


def minus(value: datetime, span: timedelta) -> datetime:
    """``value - span``, stopping at the beginning of time ("the last 99999999 days" is all of it)."""
    try:
        return value - span
    except OverflowError:
        return BEGINNING


def to_zone(value: datetime, zone: tzinfo) -> datetime:
    """A naive UTC instant as an aware time in ``zone``; in UTC where the zone's time would pass year 1 or 9999."""
    aware = value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(zone)
    except OverflowError:
        return aware


def parse_stored(value: object) -> object:
    """A stored timestamp as a naive UTC datetime; odd values come back as they are."""
    if isinstance(value, str):
        try:
            return to_naive_utc(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return to_naive_utc(value)
    return value


class SqliteTextTimestamp(TypeDecorator[object]):
    """A timestamp kept as text in SQLite, bound in the file's own format.

    Read back as a naive UTC datetime; a value that is no time comes back as it is.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, sep: str = " ", suffix: str = "") -> None:
        super().__init__()
        self.sep = sep
        self.suffix = suffix

    def process_bind_param(self, value: object, dialect: Dialect) -> Any:
        if isinstance(value, datetime):
            value = to_naive_utc(value)
            # The year by hand: strftime writes year 1 as "1", which sorts after "0999" as text.
            text = f"{value.year:04d}-{value:%m-%d}{self.sep}{value:%H:%M:%S}"
            if value.microsecond:
                text += f".{value.microsecond:06d}"
            return text + self.suffix
        return value

    def process_result_value(self, value: object, dialect: Dialect) -> object:
        return parse_stored(value)


class ServerTimestamp(TypeDecorator[object]):
    """A native timestamp column on PostgreSQL or MySQL, holding UTC."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self, with_timezone: bool = False) -> None:
        super().__init__()
        self.with_timezone = with_timezone

    def process_bind_param(self, value: object, dialect: Dialect) -> Any:
        if isinstance(value, datetime):
            value = to_naive_utc(value)
            return value.replace(tzinfo=UTC) if self.with_timezone else value
        return value

    def process_result_value(self, value: object, dialect: Dialect) -> object:
        return parse_stored(value)


# -- what users type ---------------------------------------------------------

# The forms the filter language documents, and no others: "20250601" or "2025-W22" are refused
# rather than read as something the user may not have meant.
_USER_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
TIME_FORMS = "YYYY-MM-DD (a whole day) or YYYY-MM-DD HH:MM[:SS], optionally with a zone (+02:00, Z)"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class LocalZone(tzinfo):
    """The machine's local time with its summer-time rules, from the C library.

    Used where the system names no IANA zone; a fixed offset taken today would
    put every row from the other half of the year an hour off.
    """

    @staticmethod
    def _local(dt: datetime) -> time.struct_time:
        naive = dt.replace(tzinfo=None)
        try:
            return time.localtime(time.mktime((*naive.timetuple()[:8], -1)))
        except (OverflowError, OSError, ValueError):  # before 1970 on some platforms
            return time.localtime()

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._local(dt or datetime.now()).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1) if self._local(dt or datetime.now()).tm_isdst > 0 else timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return self._local(dt or datetime.now()).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        naive = dt.replace(tzinfo=None)
        try:
            offset = time.localtime((naive - datetime(1970, 1, 1)).total_seconds()).tm_gmtoff
        except (OverflowError, OSError, ValueError):
            offset = time.localtime().tm_gmtoff
        return (naive + timedelta(seconds=offset)).replace(tzinfo=self)

    def __repr__(self) -> str:
        return "LocalZone()"


def local_zone() -> tzinfo:
    """The machine's zone: its IANA zone when the system names one, else :class:`LocalZone`."""
    key = os.environ.get("TZ", "").lstrip(":")
    if not key:
        try:
            target = os.path.realpath("/etc/localtime")
        except OSError:
            target = ""
        if "zoneinfo/" in target:
            key = target.split("zoneinfo/", 1)[1]
    if key:
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return LocalZone()


def get_zone(name: str | None) -> tzinfo:
    """A time zone by IANA name ("Europe/Warsaw"), "UTC" or "local"."""
    if not name or name.upper() == "UTC":
        return UTC
    if name.lower() == "local":
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Warsaw, or UTC") from exc


@dataclass(frozen=True)
class UserTime:
    """A time as typed, as the naive UTC instants ``[start, end)`` it covers.

    A date alone is its whole day in the zone, from midnight to the next
    midnight (23 or 25 hours on a day summer time starts or ends); a date and
    time is one instant (``end == start``). Either end can lie :class:`Beyond`
    the ``datetime`` range, e.g. 0001-01-01 in Tokyo starts before year 1 in UTC.
    """

    start: Instant
    end: Instant
    whole_day: bool

    @property
    def first(self) -> datetime:
        """The start as a ``datetime``, clamped to the beginning or the end of time."""
        return clamp(self.start)

    @property
    def until(self) -> datetime:
        """The exclusive end as a ``datetime`` (a whole day's next midnight), clamped like :attr:`first`."""
        return clamp(self.end)


def parse_user_range(text: str, zone: tzinfo = UTC) -> UserTime:
    """Parse a date or date-time typed by a user; a zone in the text ("+02:00", "Z") wins over ``zone``.

    ValueError, naming the accepted forms, for anything else.
    """
    raw = text.strip()
    if not raw:
        raise ValueError(f"a date is required: {TIME_FORMS}, e.g. 2025-06-01 or 2025-06-01 14:30")
    match = _USER_TIME.fullmatch(raw)
    if not match:
        raise ValueError(f"{text!r} is not a date; use {TIME_FORMS}, e.g. 2025-06-01 or 2025-06-01 14:30")
    try:
        day = date.fromisoformat(match["date"])
        if match["hour"] is None:
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            return UserTime(utc_instant(start), _day_end(day, zone), True)
        fraction = (match["fraction"] or "").ljust(6, "0")
        moment = datetime.combine(day, datetime.min.time()).replace(
            hour=int(match["hour"]),
            minute=int(match["minute"]),
            second=int(match["second"] or 0),
            microsecond=int(fraction or 0),
            tzinfo=_offset(match["zone"]) or zone,
        )
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}; dates run from 0001-01-01 to 9999-12-31") from None
    instant = utc_instant(moment)
    return UserTime(instant, instant, False)


def _day_end(day: date, zone: tzinfo) -> Instant:
    """The next midnight after ``day`` in ``zone``, in UTC."""
    if day < date.max:
        return utc_instant(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone))
    # No date follows 9999-12-31: its last microsecond, one microsecond on (past 9999 in UTC too east of it).
    last = utc_instant(datetime.combine(day, datetime.max.time(), tzinfo=zone))
    if isinstance(last, Beyond) or last == END_OF_TIME:
        return Beyond.AFTER
    return last + timedelta(microseconds=1)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text} is not a zone offset")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_user_time(text: str, zone: tzinfo = UTC) -> tuple[datetime, bool]:
    """The naive UTC start of what the user typed, and whether it was a date alone (a whole day)."""
    typed = parse_user_range(text, zone)
    return typed.first, typed.whole_day


#: The longest span ``timedelta`` holds, in each unit.
_MAX_SPAN = {
    "s": 999_999_999 * 86400,
    "m": 999_999_999 * 1440,
    "h": 999_999_999 * 24,
    "d": 999_999_999,
    "w": 999_999_999 // 7,
}


def parse_duration(text: str) -> timedelta:
    """ "24h", "7d", "30d", "90m", "2w" as a timedelta; longer than the log is the whole log."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; use a number and a unit, e.g. 24h, 7d, 30d, 15m")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise ValueError(f"{text!r}: the duration must be more than zero")
    if amount > _MAX_SPAN[unit]:
        raise ValueError(f"{text!r} is too long a span: at most {_MAX_SPAN[unit]}{unit}")
    return timedelta(**{_UNITS[unit]: amount})


def format_time(value: object, zone: tzinfo = UTC, seconds: bool = True) -> str:
    """A stored value as text in ``zone``; anything not a datetime prints as it is."""
    if isinstance(value, datetime):
        shown = to_zone(value, zone)
        text = f"{shown.year:04d}-" + shown.strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")
        return text if shown.tzinfo is zone or zone is UTC else f"{text} UTC"
    return "" if value is None else str(value)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    """``1 Jun 2025``: a date no reader misreads, whatever their country's order of day and month."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_day(value: datetime, zone: tzinfo = UTC) -> str:
    """A naive UTC instant in words, in ``zone``: ``1 Jun 2025``, or ``1 Jun 2025 09:30`` off midnight."""
    shown = to_zone(value, zone)
    text = day_text(shown.date())
    if (shown.hour, shown.minute, shown.second, shown.microsecond) == (0, 0, 0, 0):
        return text
    text = f"{text} {shown:%H:%M:%S}" if shown.second else f"{text} {shown:%H:%M}"
    return text if shown.tzinfo is zone or zone is UTC else f"{text} UTC"


def zone_name(zone: tzinfo) -> str:
    """How a zone is named to a reader: its IANA name, ``UTC``, or a fixed offset's abbreviation and offset."""
    key = getattr(zone, "key", None)
    if key:
        return str(key)
    if zone is UTC:
        return "UTC"
    now = datetime.now(zone)
    offset = now.utcoffset()
    name = now.tzname() or ""
    if offset is None:
        return name or str(zone)
    total = int(offset.total_seconds()) // 60
    if total == 0 and name in ("", "UTC", "GMT"):
        return "UTC"
    sign = "+" if total >= 0 else "-"
    text = f"UTC{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"
    return f"{name} ({text})" if name and not name.startswith("UTC") else text
