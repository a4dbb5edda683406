"""The query parameters of a server URL, checked before any connection is made.

Drivers take a URL's parameters as keyword arguments: a name they do not know or
a value of the wrong kind ends in a TypeError or ValueError from deep inside the
driver, or is silently dropped. Here each backend lists what it takes, and a bad
parameter gets a message that names it and says what would do. A few parameters
the drivers would take are refused: they would undo how the viewer keeps its
sessions read-only, or let the server read files on this computer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from auditviewer.data.errors import UrlParameterError

Check = Callable[[str], str | None]  # the value -> what is wrong with it, or None

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
#: Parameters this layer reads itself (not passed to a driver).
OWN = ("schema",)


def _boolean(value: str) -> str | None:
    return None if value.strip().lower() in _TRUE + _FALSE else "true or false (1 or 0)"


def _seconds(low: int, high: int) -> Check:
    def check(value: str) -> str | None:
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            return f"a whole number of seconds from {low:,} to {high:,}"
        return None

    return check


def _count(value: str) -> str | None:
    return None if value.strip().isdigit() else "a whole number, 0 or more"


def _one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else f"one of {', '.join(choices)}"

    return check


def _text(_value: str) -> str | None:
    return None


def _mysql_charset(value: str) -> str | None:
    try:
        from pymysql.charset import charset_by_name
    except ImportError:  # the driver's absence is reported when connecting
        return None
    if charset_by_name(value) is None:
        return "a character set MySQL and MariaDB know, e.g. utf8mb4 (the default) or latin1"
    return None


YEAR = 365 * 24 * 3600
#: What SQLAlchemy's pymysql dialect converts to the type the driver wants.
MYSQL: dict[str, Check] = {
    "charset": _mysql_charset,
    "collation": _text,  # the server says so clearly when it does not know one
    "connect_timeout": _seconds(1, YEAR),
    "read_timeout": _seconds(1, YEAR),
    "write_timeout": _seconds(1, YEAR),
    "compress": _boolean,
    "unix_socket": _text,
    "ssl_ca": _text,
    "ssl_cert": _text,
    "ssl_key": _text,
    "ssl_capath": _text,
    "ssl_cipher": _text,
    "ssl_check_hostname": _boolean,
    "program_name": _text,
}
MYSQL_REFUSED = {
    "init_command": "the viewer sets each session up itself, read-only",
    "local_infile": "it would let the server read files on this computer",
    "client_flag": "it could allow several statements in one, past the read-only guard",
    "autocommit": "sessions stay in read-only transactions",
    "read_default_file": "give the connection settings in the URL",
    "read_default_group": "give the connection settings in the URL",
}

_PG_VALUES: dict[str, Check] = {
    "connect_timeout": _seconds(1, YEAR),
    "sslmode": _one_of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": _one_of("disable", "prefer", "require"),
    "channel_binding": _one_of("disable", "prefer", "require"),
    "sslnegotiation": _one_of("postgres", "direct"),
    "sslcertmode": _one_of("disable", "allow", "require"),
    "target_session_attrs": _one_of("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "load_balance_hosts": _one_of("disable", "random"),
    "ssl_min_protocol_version": _one_of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "ssl_max_protocol_version": _one_of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "keepalives": _one_of("0", "1"),
    "sslcompression": _one_of("0", "1"),
    "sslsni": _one_of("0", "1"),
    "keepalives_idle": _count,
    "keepalives_interval": _count,
    "keepalives_count": _count,
    "tcp_user_timeout": _count,
}
POSTGRES_REFUSED = {
    "options": "the viewer sets the session options itself (read-only transactions, UTC)",
    "replication": "the viewer reads tables, not a replication stream",
}


def _postgres_names() -> set[str] | None:
    """The parameters the installed libpq takes, or None when the driver is not there."""
    try:
        from psycopg import pq
    except ImportError:
        return None
    return {d.keyword.decode() for d in pq.Conninfo.get_defaults()}


def check_url_parameters(backend: str, query: Mapping[str, str | tuple[str, ...]]) -> None:
    """Raise UrlParameterError naming every unknown, refused or badly valued parameter."""
    if backend == "mysql":
        label, known, refused = "MySQL/MariaDB", dict(MYSQL), MYSQL_REFUSED
    elif backend == "postgresql":
        label, refused = "PostgreSQL", POSTGRES_REFUSED
        names = _postgres_names()
        if names is None:
            return
        known = {name: _PG_VALUES.get(name, _text) for name in names - set(refused)}
    else:
        return
    problems, unknown = [], []
    for name, value in query.items():
        if name in OWN:
            continue
        if name in refused:
            problems.append(f"the URL parameter {name} cannot be used here: {refused[name]}")
        elif name not in known:
            unknown.append(name)
        elif isinstance(value, tuple):
            problems.append(f"the URL parameter {name} is given {len(value)} times; give it once")
        else:
            wrong = known[name](value)
            if wrong:
                problems.append(f"the URL parameter {name}={value!r} is not valid: it takes {wrong}")
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        problems.insert(
            0,
            f"{label} takes no URL parameter{'s' if len(unknown) > 1 else ''} {listed}; "
            f"the ones it takes: {', '.join(sorted([*known, *OWN]))}",
        )
    if problems:
        raise UrlParameterError("; ".join(problems))
