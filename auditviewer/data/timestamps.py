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
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

UTC = timezone.utc


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


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


class SqliteTextTimestamp(TypeDecorator):
    """A timestamp kept as text in SQLite, bound in the file's own format."""

    impl = sa.String
    cache_ok = True

    def __init__(self, sep: str = " ", suffix: str = "") -> None:
        super().__init__()
        self.sep = sep
        self.suffix = suffix

    def process_bind_param(self, value, dialect):  # noqa: ANN001 - SQLAlchemy hook
        if isinstance(value, datetime):
            value = to_naive_utc(value)
            text = value.strftime(f"%Y-%m-%d{self.sep}%H:%M:%S")
            if value.microsecond:
                text += f".{value.microsecond:06d}"
            return text + self.suffix
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return parse_stored(value)


class ServerTimestamp(TypeDecorator):
    """A native timestamp column on PostgreSQL or MySQL, holding UTC."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self, with_timezone: bool = False) -> None:
        super().__init__()
        self.with_timezone = with_timezone

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if isinstance(value, datetime):
            value = to_naive_utc(value)
            return value.replace(tzinfo=UTC) if self.with_timezone else value
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return parse_stored(value)


# -- what users type ---------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
            return time.localtime(time.mktime(naive.timetuple()[:8] + (-1,)))
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


def parse_user_time(text: str, zone: tzinfo = UTC) -> tuple[datetime, bool]:
    """Parse an ISO date or date-time typed by a user.

    Returns the naive UTC instant and whether only a date was given (a date
    stands for the whole day, from its midnight in ``zone``). A time zone in
    the text ("+02:00", "Z") wins over ``zone``.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("a date is required, e.g. 2025-06-01 or 2025-06-01 14:30")
    date_only = bool(_DATE_ONLY.match(raw))
    try:
        if date_only:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(raw.replace("T", " ", 1))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], optionally with +HH:MM"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return to_naive_utc(parsed), date_only


def parse_duration(text: str) -> timedelta:
    """"24h", "7d", "30d", "90m", "2w" as a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; use a number and a unit, e.g. 24h, 7d, 30d, 15m")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise ValueError(f"{text!r}: the duration must be more than zero")
    return timedelta(**{_UNITS[unit]: amount})


def format_time(value: object, zone: tzinfo = UTC, seconds: bool = True) -> str:
    """A stored value as text in ``zone``; anything not a datetime prints as it is."""
    if isinstance(value, datetime):
        shown = value.replace(tzinfo=UTC).astimezone(zone)
        return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    """``1 Jun 2025``: a date no reader misreads, whatever their country's order of day and month."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_day(value: datetime, zone: tzinfo = UTC) -> str:
    """A naive UTC instant in words, in ``zone``: ``1 Jun 2025``, or ``1 Jun 2025 09:30`` off midnight."""
    shown = value.replace(tzinfo=UTC).astimezone(zone)
    text = day_text(shown.date())
    if (shown.hour, shown.minute, shown.second, shown.microsecond) == (0, 0, 0, 0):
        return text
    return f"{text} {shown:%H:%M:%S}" if shown.second else f"{text} {shown:%H:%M}"


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
