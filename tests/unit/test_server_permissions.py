"""A server account that may read some log tables only: the others open, the unreadable one is named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditviewer.cli import main
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row, panel_row

pytestmark = pytest.mark.server


@pytest.fixture
def restricted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(backend, spec of the schema as a reader allowed only some of it, the spec's schema/database)."""
    backend, grants = request.param
    factory = DbFactory(backend, tmp_path, server_url(backend))
    spec = factory.create({"api": [api_row(1), api_row(2)], "panel": [panel_row(1)]}, business_units=[(1, "North")])
    url = sa.engine.make_url(spec)
    role = f"av_reader_{uuid.uuid4().hex[:8]}"
    admin = factory.admin
    assert admin is not None
    hosts = ("%", "localhost")
    try:
        with admin.connect() as conn:
            if backend == "postgresql":
                schema = url.query["schema"]
                conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
                conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
                for grant in grants:
                    conn.execute(sa.text(grant.format(schema=f'"{schema}"', role=f'"{role}"')))
                where = schema
            else:
                where = url.database
                for host in hosts:
                    conn.execute(sa.text(f"CREATE USER '{role}'@'{host}'"))
                    for grant in grants:
                        conn.execute(sa.text(grant.format(schema=f"`{where}`", role=f"'{role}'@'{host}'")))
        yield backend, url.set(username=role).render_as_string(hide_password=False), where
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
            else:
                for host in hosts:
                    conn.execute(sa.text(f"DROP USER IF EXISTS '{role}'@'{host}'"))
        factory.close()


PANEL_ONLY = ["GRANT SELECT ON {schema}.panel_logs TO {role}"]
SOME_API_COLUMNS = [*PANEL_ONLY, "GRANT SELECT (id, date) ON {schema}.api_logs TO {role}"]


@pytest.mark.parametrize(
    "restricted",
    [("postgresql", PANEL_ONLY), ("postgresql", SOME_API_COLUMNS)],
    indirect=True,
    ids=["table", "columns"],
)
def test_postgresql_lists_the_log_the_role_may_not_read(restricted: tuple[str, str, str], capsys) -> None:
    _, spec, schema = restricted
    with open_source(spec) as source:
        assert list(source.logs) == ["panel"]
        assert LogQuery(source.log("panel")).count() == 1
        assert source.problems["api"] == (
            f"{source.display_name}: table api_logs cannot be read: permission denied for table api_logs"
        )
        assert source.business_units == []  # not readable either: the logs show without names for units
    assert main(["info", spec]) == 1
    out, err = capsys.readouterr()
    assert "Panel logs (table panel_logs)" in out and "rows:     1" in out
    assert "API logs" not in out
    assert f"problem: test.{schema} on 127.0.0.1:5432: table api_logs cannot be read: permission denied" in err
    assert main(["export", spec, "--log", "panel", "--format", "csv", "-o", "-"]) == 0
    assert capsys.readouterr().out.count("\n") == 2
    assert main(["export", spec, "--log", "api", "--format", "csv", "-o", "-"]) == 1
    assert "table api_logs cannot be read: permission denied" in capsys.readouterr().err


@pytest.mark.parametrize("restricted", [("mysql", PANEL_ONLY)], indirect=True, ids=["table"])
def test_mysql_shows_the_logs_the_account_may_read(restricted: tuple[str, str, str], capsys) -> None:
    """MariaDB hides tables an account has no privilege on, so there is nothing to name: the rest opens."""
    _, spec, _ = restricted
    with open_source(spec) as source:
        assert list(source.logs) == ["panel"]
        assert LogQuery(source.log("panel")).count() == 1
    assert main(["info", spec]) == 0
    assert "Panel logs (table panel_logs)" in capsys.readouterr().out
