"""Row builders for the data-layer tests: complete rows with overridable fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

BASE = datetime(2025, 1, 1)


def api_row(id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "date": BASE + timedelta(minutes=id),
        "url": f"/v2/api/item/{id}",
        "method": "GET",
        "status": 200,
        "remote_ip": "10.0.0.1",
    }
    row.update(fields)
    return row


def panel_row(id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "date": BASE + timedelta(minutes=id),
        "url": f"/panel/page/{id}",
        "method": "GET",
        "email": f"user{id}@example.com",
        "remote_ip": "10.0.0.1",
    }
    row.update(fields)
    return row


def sms_row(id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "date": BASE + timedelta(minutes=id),
        "message_id": f"m{id}",
        "campaign_description": "campaign",
        "subscriber_phone": "+48123456789",
        "gateway_name": "gw",
    }
    row.update(fields)
    return row
