"""Keeping passwords out of everything shown, logged or remembered.

One place decides what is secret in a source: the password of a URL's user
part, and every query parameter whose name says password, secret, token or key
(``password``, ``sslpassword``, ``api_key``, ...). :func:`mask_url` is the only
way a URL is written anywhere a person or a file can see it; it hides the
secrets of URLs SQLAlchemy cannot read too (a bad port, an unbalanced ``[``,
an ``@`` in the password), by pattern.

Messages that may quote a secret some other way (a driver's error text, a
chained exception in a traceback) go through :func:`redact`: the secrets of
every source opened in this process are remembered in memory
(:func:`remember_secrets`) and replaced by ``***``, and URL-shaped text is
masked. :class:`RedactingFormatter` does that to every log line.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from sqlalchemy.engine import URL, make_url

MASK = "***"
#: Shorter secrets are not replaced in free text: they would garble every message and identify nothing.
MIN_REDACTED_LENGTH = 4

#: Query parameter names that carry a secret (matched anywhere in the name, any case).
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|api_?key|access_?key|private_?key|credential", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][\w+.-]*://")
#: A URL inside free text: a scheme, then everything up to white space or a closing quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][\w+.-]*://[^\s'\"<>]+")
#: ``name=value`` in a query string whose name says it is secret; the value runs to the next separator.
_SECRET_QUERY = re.compile(r"(?P<name>[^?&;=\s/]+)=(?P<value>[^&;#\s'\"]*)")

_remembered: set[str] = set()
_lock = threading.Lock()


def is_url(spec: str) -> bool:
    return "://" in spec


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a secret (password, token, key...)."""
    return bool(_SECRET_NAME.search(name))


def _parse(spec: str) -> URL | None:
    """The URL, or None where SQLAlchemy cannot read it or reads it ambiguously.

    An unencoded ``@`` in a password makes SQLAlchemy split the URL at the wrong
    ``@``: what is left of the password lands in the host or the database name.
    Such a URL is treated as unreadable, so no piece of the password is shown
    as a host name (nor sent to a name server as one).
    """
    try:
        url = make_url(spec)
    except Exception:  # ArgumentError, or ValueError for a port that is not a number
        return None
    if "@" in (url.host or "") or (url.password is not None and "@" in (url.database or "")):
        return None
    return url


def is_ambiguous(spec: str) -> bool:
    """Whether ``spec`` looks like a URL but cannot be read safely (see :func:`mask_url`)."""
    return is_url(spec) and _parse(spec) is None


def mask_url(url: URL | str) -> str:
    """A URL fit to show, log or remember: no password, in the user part or the query.

    The password is left out rather than starred: a remembered URL is reopened,
    and ``***`` would be tried as the password. A text SQLAlchemy cannot read
    is masked by pattern, with ``***`` where the password was.
    """
    if isinstance(url, str):
        if not is_url(url):
            return url
        parsed = _parse(url)
        if parsed is None:
            return _mask_unparsed(url)
        url = parsed
    url = url._replace(password=None)  # URL.set() treats None as "leave as it is"
    query = {k: v for k, v in url.query.items() if not is_secret_param(k)}
    return url.set(query=query).render_as_string(hide_password=False)


def source_key(spec: str) -> str:
    """How a source is remembered and recognised: a file's absolute path, or the masked URL."""
    if not is_url(spec):
        return str(Path(spec).expanduser().resolve())
    return mask_url(spec)


def _split_userinfo(text: str, greedy: bool = True) -> tuple[int, int] | None:
    """Where the password of ``scheme://user:password@...`` lies in ``text``, by pattern.

    Greedy, the password runs from the first ``:`` of the user part to the LAST
    ``@``: a password may hold ``@``, ``:`` and ``/``, and hiding too much is
    better than hiding too little. Not greedy, it ends at the first ``@`` after
    the ``:``, where SQLAlchemy ends it.
    """
    scheme = _SCHEME.match(text)
    if scheme is None:
        return None
    start = scheme.end()
    at = text.rfind("@", start)
    if at < 0:
        return None
    colon = text.find(":", start, at)
    if colon < 0:
        return None
    if not greedy:
        at = text.find("@", colon)
    return colon + 1, at


def _mask_unparsed(text: str) -> str:
    span = _split_userinfo(text)
    if span is not None:
        text = text[: span[0]] + MASK + text[span[1] :]
    return _mask_query(text)


def _mask_query(text: str) -> str:
    """``name=value`` pairs whose name says secret, with the value as ``***``."""
    if "?" not in text and "&" not in text:
        return text

    def replace(m: re.Match[str]) -> str:
        return f"{m['name']}={MASK}" if is_secret_param(m["name"]) and m["value"] != MASK else m[0]

    head, sep, query = text.partition("?")
    return head + sep + _SECRET_QUERY.sub(replace, query)


def secrets_of(spec: str) -> list[str]:
    """The secrets a URL carries (user part and secret query values), as typed and as decoded.

    For replacing in messages and for keeping in memory only; never to be shown.
    """
    if not is_url(spec):
        return []
    found: list[str] = []
    url = _parse(spec)
    if url is not None:
        if url.password:
            found.append(str(url.password))
        for key, value in url.query.items():
            if is_secret_param(key):
                found += [value] if isinstance(value, str) else list(value)
    span = _split_userinfo(spec, greedy=url is None)
    if span is not None:
        raw = spec[span[0] : span[1]]
        found += [raw, unquote(raw)]
    _head, _sep, query = spec.partition("?")
    for m in _SECRET_QUERY.finditer(query):
        if is_secret_param(m["name"]):
            found += [m["value"], unquote(m["value"]), unquote_plus(m["value"])]
    unique = dict.fromkeys(s for s in found if s)
    return sorted(unique, key=len, reverse=True)  # longest first: a secret may contain another


def remember_secrets(spec: str) -> None:
    """Keep the secrets of a source being opened, so :func:`redact` hides them from any text."""
    found = [s for s in secrets_of(spec) if len(s) >= MIN_REDACTED_LENGTH]
    if found:
        with _lock:
            _remembered.update(found)


def forget_secrets() -> None:
    """Forget every remembered secret (for tests, which each start from nothing)."""
    with _lock:
        _remembered.clear()


def redact(text: str, *specs: str) -> str:
    """``text`` with every secret it may quote replaced by ``***``.

    Hides the secrets of ``specs`` and of every source opened in this process,
    and masks whatever in the text looks like a URL with a password.
    """
    if not text:
        return text
    with _lock:
        known = set(_remembered)
    for spec in specs:
        known.update(s for s in secrets_of(spec) if len(s) >= MIN_REDACTED_LENGTH)
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:  # a URL quoted in the text: its password and secret parameters as ***
        text = _URL_IN_TEXT.sub(lambda m: _mask_unparsed(m[0]), text)
    return text


class RedactingFormatter(logging.Formatter):
    """A log formatter that passes every line, traceback included, through :func:`redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
