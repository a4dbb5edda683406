"""Opening an exported log database read-only and discovering its log tables.

A source is a path to a SQLite file or a SQLAlchemy URL. SQLite files are
opened with ``mode=ro``, ``immutable=1`` for a WAL database with nothing in its
``-wal``, or through a private snapshot when the file's journal state needs a
write to be read right (see sqlitefile.py), so the file and its folder stay
exactly as they were. Server sessions start every transaction read-only.
"""

from __future__ import annotations

import logging
import operator
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, ReflectedColumn
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.sql.elements import ColumnElement, KeyedColumnElement

from auditviewer.data.errors import FilterError, SchemaError, SourceError
from auditviewer.data.logtypes import LOG_TYPES, ColumnSpec, Kind, LogType
from auditviewer.data.secrets import is_ambiguous, is_url, mask_url, redact, remember_secrets
from auditviewer.data.sqlitefile import SQLITE_READONLY_ROLLBACK, How, Snapshot, changed_since, prepare, stamp, uri
from auditviewer.data.timestamps import ServerTimestamp, SqliteTextTimestamp
from auditviewer.data.urlparams import check_url_parameters

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


@dataclass(frozen=True)
class Column:
    """A column as the database has it, tied to its declaration."""

    name: str  # documented name (lower case), or the column's own name for extras
    db_name: str  # the name in the database, in its own case
    spec: ColumnSpec
    nullable: bool
    indexed: bool  # leads an index, so filters and sorts on it can use one
    extra: bool = False

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def label(self) -> str:
        return self.spec.label


@dataclass
class LogTable:
    """One log table of a source: its declaration and what the database has."""

    log_type: LogType
    db_name: str
    columns: list[Column]
    #: The table; for the activity timeline, a subquery over several.
    table: sa.FromClause
    source: Source = field(repr=False)
    #: Where ``id`` is not a key (no primary key: repeated or NULL ids), the unique column that
    #: breaks ties in sort order, so paging meets every row once (SQLite's rowid); else None.
    tiebreak: str | None = None

    def column(self, name: str) -> Column | None:
        lowered = name.strip().lower()
        for col in self.columns:
            if col.name.lower() == lowered:
                return col
        return None

    def has(self, name: str) -> bool:
        return self.column(name) is not None

    def require_column(self, name: str) -> Column:
        """The column called ``name``; FilterError names the columns there are."""
        col = self.column(name)
        if col is None:
            raise FilterError(
                f"{self.log_type.label} has no column {name!r}; valid columns: {', '.join(self.column_names)}"
            )
        return col

    def sa_column(self, name: str) -> KeyedColumnElement[Any]:
        col = self.column(name)
        if col is None:
            raise KeyError(name)
        return self.table.c[col.db_name]

    def raw_column(self, name: str) -> ColumnElement[Any]:
        """A column as stored: SQLite's text timestamps stay text, so they compare (and sort) as the file has them.

        For keyset keys and time buckets; a filter compares with :meth:`sa_column`, whose type binds values.
        """
        expr = self.sa_column(name)
        if isinstance(expr.type, SqliteTextTimestamp):
            return sa.type_coerce(expr, sa.String())
        return expr

    @property
    def time(self) -> Column:
        """The time axis; a required column, so every discovered table has it (and ``id``)."""
        return self.require_column(self.log_type.time_column)

    @property
    def id(self) -> Column:
        return self.require_column(self.log_type.id_column)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def text_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind is Kind.TEXT]


@dataclass(frozen=True)
class BusinessUnit:
    id: int
    name: str


class Source:
    """An open exported database. Create with :func:`open_source`."""

    def __init__(self, spec: str, engine: Engine, url: URL, path: Path | None, schema: str | None) -> None:
        self.spec = spec
        self.engine = engine
        self.url = url
        self.path = path
        self.schema = schema
        self.logs: dict[str, LogTable] = {}
        self.problems: dict[str, str] = {}
        self.business_units: list[BusinessUnit] = []
        #: A sentence for the user when the source is not read quite as usual (a private snapshot).
        self.notice: str | None = None
        self.snapshot: Snapshot | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_name(self) -> str:
        """The file name, or the URL with its password hidden."""
        if self.path is not None:
            return self.path.name
        where = self.url.host or "localhost"
        if self.url.port:
            where += f":{self.url.port}"
        database = self.url.database or ""
        if self.schema:
            database += f".{self.schema}"
        return f"{database} on {where}"

    @property
    def key(self) -> str:
        """What settings remember this source by: a path, or a URL without password."""
        if self.path is not None:
            return str(self.path)
        return mask_url(self.spec)

    def log(self, key: str) -> LogTable:
        if key in self.logs:
            return self.logs[key]
        if key in self.problems:
            raise SchemaError(self.problems[key])
        present = ", ".join(self.logs) or "none"
        raise SchemaError(f"{self.display_name} has no {key} log (log types present: {present})")

    def business_unit_name(self, unit_id: int | None) -> str:
        for unit in self.business_units:
            if unit.id == unit_id:
                return unit.name
        return "" if unit_id is None else str(unit_id)

    def close(self) -> None:
        self.engine.dispose()
        if self.snapshot is not None:
            self.snapshot.remove()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Source {self.display_name} ({self.dialect})>"


def normalise_url(spec: str) -> tuple[URL, str | None]:
    """The URL with the driver we ship, and the schema named by ``?schema=``."""
    if is_ambiguous(spec):
        # The URL is quoted masked, and SQLAlchemy's own error (which may quote it whole) is not chained.
        raise SourceError(
            f"{mask_url(spec)!r} is not a database URL; use e.g. postgresql://user@host:5432/db "
            "(an @ in the password is written %40)"
        )
    url = make_url(spec)
    backend = url.get_backend_name()
    if backend in _DRIVERS:
        url = url.set(drivername=_DRIVERS[backend])
    elif backend != "sqlite":
        raise SourceError(f"unsupported database {backend!r}: use a SQLite file, postgresql:// or mysql://")
    query = dict(url.query)
    check_url_parameters(url.get_backend_name(), query)
    schema = query.pop("schema", None)
    if isinstance(schema, tuple):
        schema = schema[-1]
    if url.get_backend_name() == "mysql":
        query.setdefault("charset", "utf8mb4")
    return url.set(query=query), schema


def open_source(spec: str | os.PathLike[str]) -> Source:
    """Open a SQLite file or a server URL read-only and discover its logs."""
    spec = os.fspath(spec)
    if is_url(spec):
        remember_secrets(spec)  # so that no message or log line of this process can show them
        url, schema = normalise_url(spec)
        if url.get_backend_name() == "sqlite":
            if not url.database:
                raise SourceError("a sqlite:// URL must name a file: sqlite:///path/to/logs.db")
            return _open_sqlite(spec, Path(url.database))
        source = _open_server(spec, url, schema)
    else:
        source = _open_sqlite(spec, Path(spec))
    return source


# -- SQLite -----------------------------------------------------------------


def _open_sqlite(spec: str, path: Path) -> Source:
    plan, snapshot = prepare(path)
    read_path, how = (snapshot.db, How.IMMUTABLE) if snapshot is not None else (path, plan.how)
    opened = stamp(path)

    def connect() -> sqlite3.Connection:
        changed = changed_since(path, how, opened) if snapshot is None else None
        if changed:
            raise SourceError(changed)
        conn = sqlite3.connect(uri(read_path, how), uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        # SQLite stores whatever bytes it is given as TEXT: show invalid UTF-8 with U+FFFD
        # instead of failing the whole page or export on one cell (costs ~1 us a row).
        conn.text_factory = _decode_text
        return conn

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=4)
    source = Source(spec, engine, make_url(f"sqlite:///{path}"), path.resolve(), None)
    if snapshot is not None:
        source.snapshot = snapshot
        source.notice = f"{path.name} is read from a private copy, because {snapshot.reason}."
    return _discovered(source, f"{path} cannot be read")


#: Text as SQLite stored it, invalid UTF-8 shown as U+FFFD. A C callable, not a Python function: a
#: signal handler (Ctrl-C, SIGTERM) then never runs inside the driver's fetch, where its exception
#: would leave SQLAlchemy closing a cursor of a connection it has already closed.
_decode_text = operator.methodcaller("decode", "utf-8", "replace")


# -- servers ------------------------------------------------------------------


def _open_server(spec: str, url: URL, schema: str | None) -> Source:
    backend = url.get_backend_name()
    connect_args: dict[str, object] = {"connect_timeout": _connect_timeout(url)}
    if backend == "postgresql":
        # Every transaction of every session is read-only, enforced by the server.
        connect_args["options"] = "-c default_transaction_read_only=on -c TimeZone=UTC"
    elif backend == "mysql":
        connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    try:
        engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, pool_size=4)
    except ImportError as exc:
        extra = "postgres" if backend == "postgresql" else "mysql"
        raise SourceError(f"the {backend} driver is not installed: pip install 'auditviewer[{extra}]'") from exc
    if backend == "mysql":
        sa.event.listen(engine, "connect", _mysql_session_utc)
        sa.event.listen(engine, "handle_error", _mysql_forget_lost_results)
    source = Source(spec, engine, url, None, schema)
    return _discovered(source, mask_url(url))


def _connect_timeout(url: URL) -> int:
    """Seconds to wait for the server: the URL's own value (checked to be a whole number, urlparams.py)."""
    value = url.query.get("connect_timeout")
    if value is None:
        return CONNECT_TIMEOUT_S
    return int(value[-1] if isinstance(value, tuple) else value)


def _discovered(source: Source, where: str) -> Source:
    """``source`` with its logs discovered; on any failure its connections are closed."""
    try:
        _discover(source)
    except sa.exc.DBAPIError as exc:
        source.close()
        raise SourceError(redact(f"{where}: {describe_db_error(exc)}", source.spec)) from exc
    except BaseException:
        source.close()
        raise
    return source


def _mysql_session_utc(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # TIMESTAMP columns and TIMESTAMPDIFF follow the session zone: make it UTC.
    cur = dbapi_connection.cursor()
    try:
        cur.execute("SET time_zone = '+00:00'")
    finally:
        cur.close()


def permission_denied(exc: BaseException) -> bool:
    """Whether a server refused a statement for lack of a privilege (the rest of the source may be fine)."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) == "42501":  # PostgreSQL: insufficient_privilege
        return True
    args: tuple[object, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in (1142, 1143)  # MySQL: SELECT command denied (table, column)


def _mysql_forget_lost_results(context: sa.engine.ExceptionContext) -> None:
    """When the connection is gone (killed, server restarted), a streamed pymysql result still
    counts as unread: closing or collecting it then reads from the closed socket, and each try
    prints a traceback ("Error closing cursor", "Exception ignored in ..."). Nothing is left to
    read: mark it finished, so the one message that matters is the only one."""
    # (SQLAlchemy 2.1 declares ExceptionContext.cursor but may leave it unset: ask the execution too.)
    cursor = getattr(context, "cursor", None) or getattr(context.execution_context, "cursor", None)
    conn = getattr(cursor, "connection", None)
    if conn is None or getattr(conn, "_sock", True) is not None:  # not pymysql, or still connected
        return
    for result in (getattr(cursor, "_result", None), getattr(conn, "_result", None)):
        if result is not None and getattr(result, "unbuffered_active", False):
            result.unbuffered_active = False


def describe_db_error(exc: BaseException) -> str:
    """The driver's own message, first line only, without SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    args: tuple[object, ...] = getattr(orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):  # pymysql: (code, text)
        text = f"{args[1].strip()} (MySQL error {args[0]})"
    if "malformed" in text or "not a database" in text:
        return f"the database is damaged ({text})"
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_READONLY_ROLLBACK:
        return (
            "a program writing to the file stopped in the middle of a transaction; "
            "open the file again to read its committed rows"
        )
    return text


# -- discovery ----------------------------------------------------------------


def _column_kind(sa_type: sa.types.TypeEngine[Any]) -> Kind:
    if isinstance(sa_type, sa.Integer):
        return Kind.INT
    if isinstance(sa_type, (sa.DateTime, sa.Date)):
        return Kind.DATETIME
    return Kind.TEXT


def _discover(source: Source) -> None:
    inspector = sa.inspect(source.engine)
    names = inspector.get_table_names(schema=source.schema)
    by_lower = {name.lower(): name for name in names}
    where = source.display_name
    for log_type in LOG_TYPES:
        db_name = by_lower.get(log_type.table)
        if db_name is None:
            continue
        try:
            table = _describe_table(source, inspector, log_type, db_name)
            if source.dialect != "sqlite":  # a server role may see a table it may not read
                with source.engine.connect() as conn:
                    conn.execute(sa.select(*table.table.c).limit(0)).all()
            source.logs[log_type.key] = table
        except SchemaError as exc:
            source.problems[log_type.key] = str(exc)
            log.warning("%s", exc)
        except sa.exc.DBAPIError as exc:
            if not permission_denied(exc):
                raise
            source.problems[log_type.key] = f"{where}: table {db_name} cannot be read: {describe_db_error(exc)}"
            log.warning("%s", source.problems[log_type.key])
    if not source.logs and not source.problems:
        expected = ", ".join(lt.table for lt in LOG_TYPES)
        raise SchemaError(f"{where} holds no log tables (expected at least one of: {expected})")
    if "business_units" in by_lower:
        _read_business_units(source, by_lower["business_units"])


def _describe_table(source: Source, inspector: sa.Inspector, log_type: LogType, db_name: str) -> LogTable:
    """A log table as the database has it: its columns (documented, then extra), indexes and key."""
    reflected = inspector.get_columns(db_name, schema=source.schema)
    by_lower = {c["name"].lower(): c for c in reflected}
    missing = [name for name in log_type.required_columns if name not in by_lower]
    if missing:
        raise SchemaError(
            f"{source.display_name}: table {db_name} lacks the required column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    leading, id_unique = _index_facts(source, inspector, db_name, log_type.id_column)
    columns = _columns(log_type, reflected, leading)
    sa_columns = [sa.column(col.db_name, _sa_type(source, db_name, col, by_lower[col.name.lower()])) for col in columns]
    table = sa.table(db_name, *sa_columns, schema=source.schema)
    tiebreak = None if id_unique else _rowid_name(source, db_name, set(by_lower))
    return LogTable(log_type, db_name, columns, table, source, tiebreak)


def _index_facts(source: Source, inspector: sa.Inspector, db_name: str, id_name: str) -> tuple[set[str], bool]:
    """The columns (lower case) that lead an index or the primary key, and whether ``id`` alone is unique."""
    leading = set()
    id_unique = False
    for index in inspector.get_indexes(db_name, schema=source.schema):
        cols = index.get("column_names") or []
        if cols and cols[0]:
            leading.add(cols[0].lower())
        id_unique = id_unique or (bool(index.get("unique")) and [str(c).lower() for c in cols] == [id_name])
    pk = inspector.get_pk_constraint(db_name, schema=source.schema).get("constrained_columns") or []
    if pk:
        leading.add(pk[0].lower())
    id_unique = id_unique or [c.lower() for c in pk] == [id_name]
    return leading, id_unique


def _columns(log_type: LogType, reflected: list[ReflectedColumn], leading: set[str]) -> list[Column]:
    """The documented columns the table has, in documented order, then its own extra columns."""
    by_lower = {c["name"].lower(): c for c in reflected}
    columns: list[Column] = []
    for spec in log_type.columns:
        info = by_lower.get(spec.name)
        if info is None:
            continue
        columns.append(Column(spec.name, info["name"], spec, bool(info.get("nullable", True)), spec.name in leading))
    documented = {c.name for c in log_type.columns}
    for info in reflected:
        if info["name"].lower() in documented:
            continue
        spec = ColumnSpec(info["name"], info["name"], _column_kind(info["type"]), required=False)
        columns.append(
            Column(
                info["name"],
                info["name"],
                spec,
                bool(info.get("nullable", True)),
                info["name"].lower() in leading,
                extra=True,
            )
        )
    return columns


def _sa_type(source: Source, db_name: str, col: Column, info: ReflectedColumn) -> sa.types.TypeEngine[Any]:
    """How values of a column are bound and read: timestamps as the database stores them."""
    if col.kind is Kind.DATETIME:
        return _timestamp_type(source, db_name, col.db_name, info["type"])
    if col.kind is Kind.INT:
        return sa.BigInteger()  # values bound as BIGINT: PostgreSQL casts them to the column's type
    return sa.String()


def _rowid_name(source: Source, table: str, columns: set[str]) -> str | None:
    """SQLite's own row id under a name no column hides, or None (a server, a WITHOUT ROWID table)."""
    if source.dialect != "sqlite":
        return None
    name = next((n for n in ("rowid", "_rowid_", "oid") if n not in columns), None)
    if name is None:
        return None
    quoted = source.engine.dialect.identifier_preparer.quote(table)
    try:
        with source.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT {name} FROM {quoted} LIMIT 0")
    except sa.exc.DBAPIError:
        return None
    return name


def _timestamp_type(
    source: Source, table: str, column: str, reflected: sa.types.TypeEngine[Any]
) -> sa.types.TypeEngine[Any]:
    if source.dialect != "sqlite":
        return ServerTimestamp(with_timezone=bool(getattr(reflected, "timezone", False)))
    # Bind values in the very text form the file uses ("T" or " ", trailing "Z").
    quoted = sa.table(table, sa.column(column))
    stmt = sa.select(quoted.c[column]).where(quoted.c[column].is_not(None)).limit(1)
    with source.engine.connect() as conn:
        sample = conn.execute(stmt).scalar()
    sep, suffix = " ", ""
    if isinstance(sample, str) and len(sample) >= 19:
        sep = sample[10] if sample[10] in "T " else " "
        suffix = "Z" if sample.endswith("Z") else ""
    return SqliteTextTimestamp(sep, suffix)


def _read_business_units(source: Source, db_name: str) -> None:
    try:
        reflected = {
            c["name"].lower(): c["name"] for c in sa.inspect(source.engine).get_columns(db_name, schema=source.schema)
        }
        if "id" not in reflected or "name" not in reflected:
            log.warning("%s: business_units lacks id or name; ignoring it", source.display_name)
            return
        table = sa.table(db_name, sa.column(reflected["id"]), sa.column(reflected["name"]), schema=source.schema)
        stmt = sa.select(table.c[reflected["id"]], table.c[reflected["name"]]).order_by(table.c[reflected["id"]])
        with source.engine.connect() as conn:
            rows = conn.execute(stmt).all()
    except sa.exc.DBAPIError as exc:
        log.warning("%s: business units unreadable: %s", source.display_name, describe_db_error(exc))
        return
    units = []
    for unit_id, name in rows:
        try:
            number = int(unit_id)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None or not -(2**63) <= number < 2**63:  # no such id can be in a log row
            log.warning("%s: skipping business unit with id %r", source.display_name, unit_id)
            continue
        units.append(BusinessUnit(number, "" if name is None else str(name)))
    source.business_units = units
