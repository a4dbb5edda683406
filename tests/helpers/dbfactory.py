"""Writable test databases in the exported format, on SQLite or a server.

The viewer only ever reads; these helpers are the test's own writer. Each
database lives in a temp folder (SQLite), its own schema (PostgreSQL) or its
own database (MariaDB), dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from auditviewer.data.logtypes import LOG_TYPES, Kind, LogType
from auditviewer.data.source import normalise_url

Row = Mapping[str, Any]


def columns_for(
    log_type: LogType,
    omit: Iterable[str] = (),
    extra: Mapping[str, sa.types.TypeEngine] | None = None,
    dialect: str = "sqlite",
    names: Mapping[str, str] | None = None,
) -> list[sa.Column]:
    """The table's columns; ``names`` renames documented columns (e.g. remote_ip -> Remote_IP)."""
    names = names or {}
    cols: list[sa.Column[Any]] = []
    for spec in log_type.columns:
        if spec.name in omit:
            continue
        name = names.get(spec.name, spec.name)
        if spec.name == "id":
            cols.append(sa.Column(name, sa.Integer, primary_key=True, autoincrement=False))
        elif spec.kind is Kind.INT:
            cols.append(sa.Column(name, sa.Integer, nullable=not spec.required))
        elif spec.kind is Kind.DATETIME:
            type_: sa.types.TypeEngine = sa.Text() if dialect == "sqlite" else sa.DateTime()
            cols.append(sa.Column(name, type_, nullable=not spec.required))
        else:
            type_ = sa.Text() if dialect != "mysql" else sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
            cols.append(sa.Column(name, type_, nullable=not spec.required))
    for name, type_ in (extra or {}).items():
        cols.append(sa.Column(name, type_, nullable=True))
    return cols


def _stored(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime) and dialect == "sqlite":
        text = f"{value.year:04d}-{value:%m-%d %H:%M:%S}"  # strftime writes year 1 as "1"
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")
    return value


class DbFactory:
    """Makes log databases on one backend; ``spec`` of each is what the viewer opens."""

    def __init__(self, backend: str, tmp_path: Path, server_url: str | None = None) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.server_url = server_url
        self._cleanups: list[tuple[str, str]] = []
        self.admin: sa.Engine | None = None
        if server_url:
            url, _ = normalise_url(server_url)
            self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> str:
        return "mysql" if self.backend == "mysql" else self.backend

    def create(
        self,
        tables: Mapping[str, Sequence[Row]],
        *,
        omit: Mapping[str, Iterable[str]] | None = None,
        extra: Mapping[str, Mapping[str, sa.types.TypeEngine]] | None = None,
        indexes: Iterable[tuple[str, str]] = (("*", "date"),),
        business_units: list[tuple[int, str]] | None = None,
        table_names: Mapping[str, str] | None = None,
        column_names: Mapping[str, Mapping[str, str]] | None = None,
    ) -> str:
        """Create the given log tables (keyed by log type key) and return the source spec.

        Rows are keyed by the documented (lower-case) column names even when
        ``column_names`` gives a column another name in the database.
        """
        engine, spec, schema = self._new_database()
        metadata = sa.MetaData(schema=schema)
        created = {}
        for log_type in LOG_TYPES:
            if log_type.key not in tables:
                continue
            name = (table_names or {}).get(log_type.key, log_type.table)
            created[log_type.key] = sa.Table(
                name,
                metadata,
                *columns_for(
                    log_type,
                    (omit or {}).get(log_type.key, ()),
                    (extra or {}).get(log_type.key),
                    self.dialect,
                    (column_names or {}).get(log_type.key),
                ),
            )
        for key, column in indexes:
            for log_key, table in created.items():
                db_column = (column_names or {}).get(log_key, {}).get(column, column)
                if key in ("*", log_key) and db_column in table.c:
                    sa.Index(f"idx_{table.name}_{db_column}", table.c[db_column])
        if business_units is not None:
            bu = sa.Table(
                "business_units",
                metadata,
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("name", sa.Text),
            )
        metadata.create_all(engine)
        with engine.begin() as conn:
            for key, rows in tables.items():
                if rows:
                    renamed = (column_names or {}).get(key, {})
                    conn.execute(
                        created[key].insert(),
                        [{renamed.get(k, k): _stored(v, self.dialect) for k, v in row.items()} for row in rows],
                    )
            if business_units:
                conn.execute(bu.insert(), [{"id": i, "name": n} for i, n in business_units])
        engine.dispose()
        return spec

    def _new_database(self) -> tuple[sa.Engine, str, str | None]:
        if self.backend == "sqlite":
            path = self.tmp_path / f"logs-{uuid.uuid4().hex[:8]}.db"
            return sa.create_engine(f"sqlite:///{path}"), str(path), None
        assert self.admin is not None and self.server_url is not None
        name = f"av_test_{uuid.uuid4().hex[:10]}"
        url, _ = normalise_url(self.server_url)
        if self.backend == "postgresql":
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
            self._cleanups.append(("schema", name))
            sep = "&" if "?" in self.server_url else "?"
            return sa.create_engine(url), f"{self.server_url}{sep}schema={name}", name
        with self.admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        self._cleanups.append(("database", name))
        db_url = url.set(database=name)
        spec = make_spec(self.server_url, name)
        return sa.create_engine(db_url), spec, None

    def close(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for kind, name in self._cleanups:
                if kind == "schema":
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                else:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        self.admin.dispose()


def make_spec(server_url: str, database: str) -> str:
    url = sa.engine.make_url(server_url).set(database=database)
    return url.render_as_string(hide_password=False)
