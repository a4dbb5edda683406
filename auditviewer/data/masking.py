"""Personal data partly hidden, for reports handed to people who need the pattern, not the person.

What is masked follows the column's declared :class:`Role` (one source of
truth: ``logtypes``): e-mail addresses keep their first two characters and the
domain, phone numbers their country/operator prefix and last two digits, IPv4
addresses their first two octets, IPv6 addresses their first two groups, and
names their initials. Free-text columns (URLs, browsers, anything else) keep
their text, but any e-mail address inside them is masked too.

A value that does not look like what its role says is masked all the same,
more bluntly: a mask never lets an odd value through whole.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from auditviewer.data.logtypes import Role

STARS = "***"
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_DIGIT = re.compile(r"\d")

Masker = Callable[[Sequence[Any]], list[Any]]


def mask_email(value: str) -> str:
    """``anna.nowak@example.com`` -> ``an***@example.com``."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return _blunt(value)
    return f"{local[:2] if len(local) > 2 else local[:1]}{STARS}@{domain}"


def mask_phone(value: str) -> str:
    """``+48 600 123 456`` -> ``+48 600 *** *56``: at most the first five digits and the last two stay.

    Spaces, dashes and the plus sign stay where they were, so the number keeps its shape.
    """
    digits = len(_DIGIT.findall(value))
    if digits == 0:
        return _blunt(value)
    hidden = max(digits - 2, 1) if digits <= 6 else max(4, digits - 7)
    keep_head = max(digits - 2 - hidden, 0)
    out, seen = [], 0
    for char in value:
        if char.isdigit():
            out.append("*" if keep_head <= seen < keep_head + hidden else char)
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def mask_ip(value: str) -> str:
    """``83.24.121.131`` -> ``83.24.*.*``; IPv6 keeps its first two groups (``2001:db8:*:*:*:*:*:*``)."""
    text = value.strip()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return _blunt(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        first, second, _, _ = str(address).split(".")
        return f"{first}.{second}.*.*"
    groups = address.exploded.split(":")
    return ":".join([g.lstrip("0") or "0" for g in groups[:2]] + ["*"] * 6)


def mask_name(value: str) -> str:
    """``Joanna Woźniak`` -> ``J*** W***``."""
    words = value.split()
    if not words:
        return value
    return " ".join(f"{word[0]}{STARS}" for word in words)


def mask_emails_in(text: str) -> str:
    """Free text with every e-mail address in it masked (a URL with ``?email=...``, say)."""
    if "@" not in text:
        return text
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)


_IP_LIKE = re.compile(r"[0-9A-Fa-f]*[.:][0-9A-Fa-f.:]+")


def mask_text(text: str) -> str:
    """Words about the data (a title, a filter) with the e-mail and IP addresses in them masked."""
    text = mask_emails_in(text)

    def ip(match: re.Match[str]) -> str:
        try:
            ipaddress.ip_address(match.group(0))
        except ValueError:
            return match.group(0)
        return mask_ip(match.group(0))

    return _IP_LIKE.sub(ip, text)


def _blunt(value: str) -> str:
    """Whatever the value is, show at most its first two characters."""
    return f"{value[:2]}{STARS}" if len(value) > 4 else STARS if value else value


_BY_ROLE: dict[Role, Callable[[str], str]] = {
    Role.EMAIL: mask_email,
    Role.PHONE: mask_phone,
    Role.IP: mask_ip,
    Role.NAME: mask_name,
}


def mask_value(value: Any, role: Role) -> Any:
    """``value`` masked as its role says; numbers, dates and NULL come back as they are."""
    if not isinstance(value, str) or not value:
        return value
    masker = _BY_ROLE.get(role)
    return masker(value) if masker is not None else mask_emails_in(value)


def row_masker(roles: Sequence[Role]) -> Masker:
    """A function masking a row whose cells have these roles, in this order."""
    plan = [(i, _BY_ROLE.get(role, mask_emails_in)) for i, role in enumerate(roles)]

    def mask(row: Sequence[Any]) -> list[Any]:
        cells = list(row)
        for i, masker in plan:
            value = cells[i]
            if isinstance(value, str) and value:
                cells[i] = masker(value)
        return cells

    return mask
