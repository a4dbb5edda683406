"""No password leaves a source URL: not in masks, keys, names, errors, tracebacks, log lines or CLI output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator

import pytest

from auditviewer.data import secrets
from auditviewer.data.errors import SourceError
from auditviewer.data.secrets import RedactingFormatter, mask_url, redact, secrets_of, source_key
from auditviewer.data.source import open_source
from tests.conftest import server_url
from tests.helpers.dbfactory import DbFactory
from tests.helpers.secret_urls import FAILING, SecretCase, opening_cases
from tests.unit.logrows import api_row


@pytest.fixture(autouse=True)
def nothing_remembered() -> Iterator[None]:
    """Each case starts with no secret remembered, so each path has to hide its own."""
    secrets.forget_secrets()
    yield
    secrets.forget_secrets()


def _formatted(records: list[logging.LogRecord]) -> str:
    """The records as the program's log file writes them."""
    formatter = RedactingFormatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in records)


# -- the masking function ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.id)
def test_masks_hide_every_password(case: SecretCase) -> None:
    masked = mask_url(case.url)
    assert not case.leaked(masked), masked
    assert not case.leaked(source_key(case.url))
    assert masked.split("://")[0] == case.url.split("://")[0]  # still says what it is
    assert not case.leaked(redact(f"error: {case.url!r} failed", case.url))
    assert set(case.secrets) & set(secrets_of(case.url)), "secrets_of finds what must be scrubbed"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://auditor:pw@db:5432/logs?schema=acme", "postgresql://auditor@db:5432/logs?schema=acme"),
        ("postgresql://auditor@db/logs?sslpassword=x&sslmode=require", "postgresql://auditor@db/logs?sslmode=require"),
        ("mysql://root:pw@h/db?charset=utf8mb4&Password=x", "mysql://root@h/db?charset=utf8mb4"),
        ("postgresql://auditor:S3cret!@127.0.0.1:notaport/test", "postgresql://auditor:***@127.0.0.1:notaport/test"),
        ("postgresql://u:a@b@h:x/db?token=t&x=1", "postgresql://u:***@h:x/db?token=***&x=1"),
        ("sqlite:///tmp/logs.db", "sqlite:///tmp/logs.db"),
        ("/tmp/logs.db", "/tmp/logs.db"),
    ],
)
def test_mask_keeps_what_identifies_the_source(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_redact_hides_remembered_secrets_anywhere_in_a_text() -> None:
    secrets.remember_secrets("postgresql://u:Remember-Me@h/db?api_key=KeyOfMine")
    text = redact("driver said: bad value 'Remember-Me' near KeyOfMine (see https://sqlalche.me/e/20/e3q8)")
    assert "Remember-Me" not in text and "KeyOfMine" not in text
    assert "https://sqlalche.me/e/20/e3q8" in text  # a URL without a password is left as it is
    assert redact("not a secret: abc") == "not a secret: abc"


# -- opening: error texts, tracebacks, log records -----------------------------------------------------


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.id)
def test_a_source_that_cannot_open_never_shows_its_password(case: SecretCase, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as caught:
        open_source(case.url)
    message = str(caught.value)
    assert not case.leaked(message), message
    # What the window's "Show Details" and a log.exception would print, chained exceptions included.
    assert not case.leaked("".join(traceback.format_exception(caught.value)))
    try:
        raise RuntimeError("opening failed") from caught.value
    except RuntimeError:
        logging.getLogger("auditviewer.test").exception("could not open %s", mask_url(case.url))
    assert not case.leaked(_formatted(caplog.records))
    assert not case.leaked("\n".join(r.getMessage() for r in caplog.records))


def test_sqlalchemys_own_message_is_not_chained_for_an_unreadable_url() -> None:
    url = "postgresql://postgres:" + "S3cretPW!" + "@127.0.0.1:notaport/test"
    with pytest.raises(SourceError) as caught:
        open_source(url)
    text = "".join(traceback.format_exception(caught.value))  # as it is, not redacted
    assert "S3cretPW!" not in text
    assert "is not a database URL" in str(caught.value) and "%40" in str(caught.value)


@pytest.mark.server
def test_an_opened_server_source_keeps_no_password_in_its_names(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    factory = DbFactory("postgresql", tmp_path, server_url("postgresql"))
    try:
        spec = factory.create({"api": [api_row(1), api_row(2)]})
        for case in opening_cases(spec):
            with open_source(case.url) as source:
                for text in (source.key, source.display_name, repr(source), mask_url(source.url)):
                    assert not case.leaked(text), (case.id, text)
                assert "postgres@127.0.0.1" in source.key  # the user is kept, as before
                assert source.logs
        assert not any(case.leaked(_formatted(caplog.records)) for case in opening_cases(spec))
    finally:
        factory.close()


# -- the command line ----------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "auditviewer.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.id)
def test_cli_failures_never_print_the_password(case: SecretCase) -> None:
    done = _cli("-v", "info", case.url)
    assert done.returncode != 0
    assert "auditviewer-cli:" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not case.leaked(done.stderr + done.stdout), done.stderr


@pytest.mark.server
def test_cli_info_on_a_server_source_never_prints_the_password(tmp_path) -> None:
    factory = DbFactory("postgresql", tmp_path, server_url("postgresql"))
    try:
        spec = factory.create({"api": [api_row(1)]})
        for case in opening_cases(spec):
            done = _cli("-v", "info", case.url)
            assert done.returncode == 0, done.stderr
            assert "API logs" in done.stdout
            assert not case.leaked(done.stderr + done.stdout), (case.id, done.stderr)
    finally:
        factory.close()
