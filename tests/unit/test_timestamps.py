"""Local time follows summer time, whatever the system calls its zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from auditviewer.data.timestamps import LocalZone, format_time, get_zone


@pytest.fixture
def warsaw(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_local_zone_without_a_name_still_knows_summer_time(warsaw: None) -> None:
    zone = LocalZone()
    assert format_time(datetime(2025, 1, 15, 12), zone) == "2025-01-15 13:00:00"
    assert format_time(datetime(2025, 7, 15, 12), zone) == "2025-07-15 14:00:00"
    assert zone.tzname(datetime(2025, 7, 15, 12)) == "CEST"


def test_local_is_the_named_zone_when_the_system_names_one(warsaw: None) -> None:
    zone = get_zone("local")
    assert getattr(zone, "key", None) == "Europe/Warsaw"
    assert format_time(datetime(2025, 7, 15, 12), zone) == "2025-07-15 14:00:00"


def test_unknown_zone_names_say_what_to_use() -> None:
    with pytest.raises(ValueError, match="IANA name such as Europe/Warsaw"):
        get_zone("Mars/Olympus_Mons")
