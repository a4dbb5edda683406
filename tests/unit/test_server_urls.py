"""Server URLs with parameters a driver does not take, and connections that die mid-export: one clear
message each, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditviewer.cli import main
from auditviewer.data.errors import SourceError, UrlParameterError
from auditviewer.data.source import open_source
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("Traceback", "Exception ignored", "Error closing cursor", "During handling")
CLOSED = {"mysql": "mysql://reader@127.0.0.1:1/logs", "postgresql": "postgresql://reader@127.0.0.1:1/logs"}


@pytest.mark.parametrize(
    ("backend", "query", "message"),
    [
        (
            "mysql",
            "charset=nonsense",
            r"the URL parameter charset='nonsense' is not valid: it takes a character set "
            r"MySQL and MariaDB know, e\.g\. utf8mb4",
        ),
        (
            "mysql",
            "connect_timeout=abc",
            r"the URL parameter connect_timeout='abc' is not valid: it takes a whole "
            r"number of seconds from 1 to",
        ),
        (
            "mysql",
            "foo=bar",
            r"MySQL/MariaDB takes no URL parameter 'foo'; the ones it takes: charset, collation, "
            r"compress, connect_timeout, .*schema, ssl_ca",
        ),
        ("mysql", "ssl_check_hostname=maybe", r"ssl_check_hostname='maybe' is not valid: it takes true or false"),
        (
            "mysql",
            "init_command=DELETE+FROM+api_logs",
            r"init_command cannot be used here: the viewer sets each "
            r"session up itself, read-only",
        ),
        ("mysql", "local_infile=1", r"local_infile cannot be used here: it would let the server read files"),
        (
            "mysql",
            "foo=1&bar=2&compress=perhaps",
            r"takes no URL parameters 'foo', 'bar'; .*; the URL parameter "
            r"compress='perhaps' is not valid",
        ),
        (
            "postgresql",
            "sslmode=bogus",
            r"the URL parameter sslmode='bogus' is not valid: it takes one of disable, "
            r"allow, prefer, require, verify-ca, verify-full",
        ),
        (
            "postgresql",
            "connect_timeout=abc",
            r"connect_timeout='abc' is not valid: it takes a whole number of seconds",
        ),
        (
            "postgresql",
            "foo=bar",
            r"PostgreSQL takes no URL parameter 'foo'; the ones it takes: application_name, "
            r".*sslmode",
        ),
        (
            "postgresql",
            "options=-c+default_transaction_read_only%3Doff",
            r"options cannot be used here: the viewer "
            r"sets the session options itself",
        ),
        ("postgresql", "sslmode=require&sslmode=disable", r"the URL parameter sslmode is given 2 times; give it once"),
    ],
    ids=[
        "mysql-charset",
        "mysql-connect_timeout",
        "mysql-unknown",
        "mysql-bool",
        "mysql-init_command",
        "mysql-local_infile",
        "mysql-several",
        "pg-sslmode",
        "pg-connect_timeout",
        "pg-unknown",
        "pg-options",
        "pg-twice",
    ],
)
def test_a_bad_url_parameter_is_named_before_connecting(backend: str, query: str, message: str, capsys) -> None:
    spec = f"{CLOSED[backend]}?{query}"
    with pytest.raises(UrlParameterError, match=message):
        open_source(spec)
    assert main(["info", spec]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("auditviewer-cli: error: ") and err.count("\n") == 1
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer.cli", "export", spec, "--log", "api", "--format", "csv", "-o", "-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert not any(word in done.stderr for word in NOISE), done.stderr


@pytest.mark.parametrize(
    "spec",
    [
        CLOSED["mysql"] + "?charset=latin1&connect_timeout=2&compress=false&ssl_check_hostname=true",
        CLOSED["postgresql"] + "?sslmode=disable&connect_timeout=2&application_name=audit&schema=acme",
    ],
)
def test_good_url_parameters_reach_the_driver(spec: str) -> None:
    """Accepted, they get as far as connecting (to a closed port here)."""
    with pytest.raises(SourceError) as caught:
        open_source(spec)
    assert not isinstance(caught.value, UrlParameterError)


# -- a connection that dies in the middle of an export ------------------------------------------------------


def _their_sessions(admin: sa.Engine, backend: str, marker: str) -> list[int]:
    with admin.connect() as conn:
        # Every session of the export (its pool may keep more than the one streaming rows).
        if backend == "postgresql":
            return list(
                conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :m"), {"m": marker}
                ).scalars()
            )
        return list(
            conn.execute(
                sa.text("SELECT id FROM information_schema.processlist WHERE db = :m"), {"m": marker}
            ).scalars()
        )


def _kill(admin: sa.Engine, backend: str, session: int) -> None:
    with admin.connect() as conn:
        if backend == "postgresql":
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": session})
        else:
            conn.execute(sa.text(f"KILL CONNECTION {int(session)}"))


@pytest.mark.server
@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("mysql", r"on 127\.0\.0\.1:3306: Lost connection to MySQL server during query \(MySQL error 2013\)"),
        ("postgresql", r"on 127\.0\.0\.1:5432: terminating connection due to administrator command"),
    ],
)
def test_a_connection_killed_mid_export_gives_one_message(backend: str, message: str, tmp_path: Path) -> None:
    factory = DbFactory(backend, tmp_path, server_url(backend))
    try:
        # More rows than socket buffers hold (~25 MB): the server is still sending when the kill comes.
        rows = [api_row(i, url=f"/v2/api/item/{i}/" + "x" * 400) for i in range(1, 60_001)]
        spec = factory.create({"api": rows})
        if backend == "postgresql":
            marker = f"av_kill_{uuid.uuid4().hex[:8]}"
            spec += f"&application_name={marker}"
        else:
            marker = sa.engine.make_url(spec).database
        export = subprocess.Popen(
            [sys.executable, "-m", "auditviewer.cli", "export", spec, "--log", "api", "--format", "csv", "-o", "-"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert factory.admin is not None and export.stdout is not None
            # Rows have started to arrive; nobody reads the rest until the kill, so the query is under way.
            first = export.stdout.readline() + export.stdout.readline()
            assert first.startswith("id,") and first.count("\n") == 2, first
            deadline = time.monotonic() + 60
            while not (sessions := _their_sessions(factory.admin, backend, marker)):
                assert time.monotonic() < deadline and export.poll() is None, "the export's query was not found"
                time.sleep(0.1)
            for session in sessions:
                _kill(factory.admin, backend, session)
            out, err = export.communicate(timeout=120)
            out = first + out
        finally:
            if export.poll() is None:
                export.kill()
                export.wait()
        assert export.returncode == 1
        assert 1 < out.count("\n") < len(rows)
        assert not any(word in err for word in NOISE), err
        assert err.count("\n") == 1, err
        assert err.startswith("auditviewer-cli: ")
        assert re.search(message, err), err
    finally:
        factory.close()
