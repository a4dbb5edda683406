"""Fixtures shared by every test: backends, generated databases, Qt hygiene."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.dbfactory import DbFactory

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SERVER_ENV = {
    "postgresql": "AUDITVIEWER_TEST_POSTGRES_URL",
    "mysql": "AUDITVIEWER_TEST_MYSQL_URL",
}


def server_url(backend: str) -> str:
    """The server's URL from the environment; skip (fail under CI) when it is not set."""
    env = SERVER_ENV[backend]
    url = os.environ.get(env)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{env} is not set: under CI the {backend} server tests must run")
        pytest.skip(f"{env} is not set; set it to a {backend} URL to run this test against a real server")
    return url


BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.server),
    pytest.param("mysql", marks=pytest.mark.server),
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DbFactory]:
    """A maker of log databases on each backend in turn."""
    backend = request.param
    url = None if backend == "sqlite" else server_url(backend)
    factory = DbFactory(backend, tmp_path, url)
    yield factory
    factory.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[DbFactory]:
    factory = DbFactory("sqlite", tmp_path)
    yield factory
    factory.close()
