"""Files a user may hand the viewer that it did not make: one table of cases, built with plain ``sqlite3``.

Each case says what must happen: a correct read (the rows of each log), or a clear
refusal (a pattern the message must match), at opening or when the rows are read.
The command-line and window suites run over the same table.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import journals

API = journals.API_TABLE
PANEL = (
    "CREATE TABLE panel_logs (id INTEGER PRIMARY KEY, date TEXT NOT NULL, url TEXT, method TEXT, "
    "email TEXT, remote_ip TEXT, business_unit_id INTEGER, api_method_status TEXT, user_agent TEXT)"
)
LOGINS = (
    "CREATE TABLE user_logins (id INTEGER PRIMARY KEY, date TEXT, name TEXT, email TEXT, login TEXT, "
    "country TEXT, city TEXT, remote_ip TEXT, user_agent TEXT)"
)
BIG = 2_000_000  # characters in one cell


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    #: a correct read: rows of each log as `info` counts them (and as an export writes them)
    rows: dict[str, int] = field(default_factory=dict)
    #: a clear refusal: what the message says (a regular expression)
    refused: str | None = None
    #: the source opens, but reading the rows fails with `refused` (damage past the schema)
    fails_when_read: bool = False
    #: logs the source lists as unreadable, with what their problem says
    problems: dict[str, str] = field(default_factory=dict)
    #: the log exported by the command-line runs
    log: str = "api"
    #: open it from a read-only folder (chmod 0555)
    read_only_folder: bool = False
    #: text the exports must carry exactly (a value read back as stored)
    exported: tuple[str, ...] = ()
    #: the source is read from a private snapshot, and says so
    snapshot: bool = False


def _db(folder: Path, *statements: str | tuple[str, tuple], name: str = "logs.db") -> Path:
    path = folder / name
    with closing(sqlite3.connect(path)) as conn, conn:
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(*statement)
            else:
                conn.execute(statement)
    return path


def _api_rows_portable(n: int = 500, first: int = 1) -> list[tuple[str, tuple]]:
    return [
        (
            "INSERT INTO api_logs (id, date, url, method, status, remote_ip) VALUES (?, ?, ?, 'GET', ?, '10.0.0.1')",
            (
                i,
                f"2025-01-{1 + i // 1440 % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}:00",
                f"/v2/api/item/{i}/" + "q" * 120,
                200 + i % 3 * 100,
            ),
        )
        for i in range(first, first + n)
    ]


def good_api(folder: Path, name: str = "logs.db", n: int = 500) -> Path:
    return _db(folder, API, "CREATE INDEX idx_api_date ON api_logs (date)", *_api_rows_portable(n), name=name)


# -- not databases -------------------------------------------------------------------------------------


def text_file(folder: Path) -> Path:
    path = folder / "logs.db"
    path.write_text("id,date,url\n1,2025-01-01,/\n", encoding="utf-8")
    return path


def zero_bytes(folder: Path) -> Path:
    path = folder / "logs.db"
    path.touch()
    return path


def png(folder: Path) -> Path:
    path = folder / "logs.db"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        b"\x1f\x15\xc4\x89" + b"\x00" * 200
    )
    return path


def zip_file(folder: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("logs.db", "SQLite format 3\x00 inside a zip")
    path = folder / "logs.db"
    path.write_bytes(buffer.getvalue())
    return path


def folder_named_db(folder: Path) -> Path:
    path = folder / "logs.db"
    path.mkdir()
    return path


def missing(folder: Path) -> Path:
    return folder / "logs.db"


def unrelated_tables(folder: Path) -> Path:
    return _db(
        folder, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO customers VALUES (1, 'Acme')"
    )


# -- damaged databases -------------------------------------------------------------------------------------


def _damaged(keep: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = good_api(folder, n=3000)
        path.write_bytes(keep(path.read_bytes()))
        return path

    build.__name__ = keep.__name__
    return build


def cut_in_header(data: bytes) -> bytes:
    return data[:50]


def cut_in_first_page(data: bytes) -> bytes:
    return data[:1000]


def cut_in_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def cut_short_of_the_end(data: bytes) -> bytes:
    return data[: -4096 - 100]


def cut_by_a_few_bytes(data: bytes) -> bytes:
    return data[:-7]


def garbage_over_the_schema(data: bytes) -> bytes:
    return data[:100] + b"\xa5" * 3000 + data[3100:]


def damaged_in_the_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + b"\xff" * 8192 + data[middle + 8192 :]


def header_then_noise(data: bytes) -> bytes:
    return data[:100] + bytes((i * 37 + 11) % 256 for i in range(len(data) - 100))


# -- tables that are not quite right ----------------------------------------------------------------------------


def missing_required_column(folder: Path) -> Path:
    return _db(
        folder,
        "CREATE TABLE api_logs (id INTEGER PRIMARY KEY, date TEXT, url TEXT, method TEXT, remote_ip TEXT)",
        "INSERT INTO api_logs VALUES (1, '2025-01-01 00:00:00', '/', 'GET', 'x')",
        PANEL,
        "INSERT INTO panel_logs (id, date, url, method, email, remote_ip) "
        "VALUES (1, '2025-01-01 00:00:00', '/p', 'GET', 'a@example.com', '10.0.0.1')",
    )


def empty_log(folder: Path) -> Path:
    return _db(folder, API)


def only_other_logs(folder: Path) -> Path:
    """A database with a panel log only, asked for its API log."""
    return _db(
        folder,
        PANEL,
        "INSERT INTO panel_logs (id, date, url, method, email, remote_ip) "
        "VALUES (1, '2025-01-01 00:00:00', '/p', 'GET', 'a@example.com', '10.0.0.1')",
    )


ODD_VALUES = [
    # (id, date, url, method, status, remote_ip) as SQL expressions: SQLite keeps any value in any column
    "1, 'not a date', '/text-in-date', 'GET', 200, '10.0.0.1'",
    "2, '2025-01-01T09:00:00Z', '/iso-with-zone', 'GET', 'teapot', '10.0.0.1'",
    "3, NULL, '/null-date', NULL, NULL, NULL",
    "4, 1735689600, '/number-in-date', 'GET', 201.5, '10.0.0.1'",
    "5, '', '', '', '', ''",
    "6, '2025-01-01 00:00:06', '<img src=\"/dev/zero\"><b>bold</b><script>alert(1)</script>', 'GET', 200, "
    "'<a href=x>ip</a>'",
    "7, '2025-01-01 00:00:07', 'bell' || char(7) || 'escape' || char(27) || '[31m' || char(13) || 'cr' "
    "|| char(0) || 'nul', 'GET', 200, '10.0.0.1'",
    "8, '2025-01-01 00:00:08', CAST(x'2f6261642fc328ff2d75746638' AS TEXT), CAST(x'ff' AS TEXT), 200, "
    "CAST(x'c0c1' AS TEXT)",
    "9, '2025-01-01 00:00:09', x'00ff10', 'GET', x'01', '10.0.0.1'",
    "10, '9999-12-31 23:59:59', '/far-future', 'GET', 9223372036854775807, '10.0.0.1'",
    "11, '0001-01-01 00:00:00', '/far-past', 'GET', -9223372036854775808, '10.0.0.1'",
    "12, '2025-13-45 99:99:99', '/impossible-date', 'GET', 1e308, '10.0.0.1'",
    f"13, '2025-01-01 00:00:13', '/huge/' || replace(hex(zeroblob({BIG // 2})), '00', 'ab'), 'GET', 200, '10.0.0.1'",
    "14, '2025-01-01 00:00:14', '/emoji/😀/zażółć', 'ＧＥＴ', 200, '::ffff:10.0.0.1'",  # noqa: RUF001  # a fullwidth GET, on purpose
    "15, '2025-01-01 00:00:15', '=HYPERLINK(\"http://x\")', '+cmd', -1, '@SUM(1)'",
]


def odd_values(folder: Path) -> Path:
    return _db(
        folder,
        API.replace(" NOT NULL", ""),
        *(f"INSERT INTO api_logs (id, date, url, method, status, remote_ip) VALUES ({v})" for v in ODD_VALUES),
        LOGINS,
        "INSERT INTO user_logins VALUES (1, 'yesterday', NULL, NULL, 'maybe', NULL, NULL, NULL, NULL)",
        "INSERT INTO user_logins VALUES (2, NULL, '<b>x</b>', CAST(x'ff' AS TEXT), NULL, 42, x'00', '999.999.1.1', '')",
    )


def odd_ids(folder: Path) -> Path:
    """No primary key: NULL, repeated and text ids."""
    return _db(
        folder,
        API.replace(" NOT NULL", "").replace("id INTEGER PRIMARY KEY", "id INTEGER"),
        "INSERT INTO api_logs (id, date, url, method, status, remote_ip) VALUES "
        "(NULL, '2025-01-01 00:00:01', '/null-id', 'GET', 200, 'x'), "
        "(7, '2025-01-01 00:00:02', '/seven-a', 'GET', 200, 'x'), "
        "(7, '2025-01-01 00:00:02', '/seven-b', 'GET', 200, 'x'), "
        "('abc', '2025-01-01 00:00:03', '/text-id', 'GET', 200, 'x'), "
        "(8, NULL, '/null-date', 'GET', 200, 'x')",
    )


def odd_business_units(folder: Path) -> Path:
    return _db(
        folder,
        API,
        *_api_rows_portable(20),
        "UPDATE api_logs SET business_unit_id = id % 3",
        "CREATE TABLE business_units (id INTEGER, name TEXT)",
        "INSERT INTO business_units VALUES (1, '<b>North</b>'), ('two', 'Text id'), (NULL, 'No id'), "
        "(1, 'Duplicate'), (2, NULL), (99999999999999999999, 'huge')",
    )


# -- journal states ---------------------------------------------------------------------------------------------


def garbage_journal(folder: Path) -> Path:
    path = good_api(folder)
    path.with_name(path.name + "-journal").write_bytes(bytes((i * 7 + 1) % 256 or 1 for i in range(4096)))
    return path


def garbage_wal(folder: Path) -> Path:
    path = good_api(folder)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    path.with_name(path.name + "-wal").write_bytes(bytes((i * 13 + 5) % 256 for i in range(8192)))
    return path


CASES = [
    Case("text-file", text_file, refused=r"logs\.db is not a SQLite database"),
    Case("zero-bytes", zero_bytes, refused=r"logs\.db is empty: it is not a database"),
    Case("png", png, refused=r"logs\.db is not a SQLite database"),
    Case("zip", zip_file, refused=r"logs\.db is not a SQLite database"),
    Case("folder", folder_named_db, refused=r"logs\.db is a folder, not a database file"),
    Case("missing", missing, refused=r"logs\.db: no such file"),
    Case("only-unrelated-tables", unrelated_tables, refused=r"logs\.db holds no log tables"),
    Case("cut-in-header", _damaged(cut_in_header), refused=r"logs\.db is damaged"),
    Case("cut-in-first-page", _damaged(cut_in_first_page), refused=r"logs\.db.*damaged"),
    Case("cut-in-half", _damaged(cut_in_half), refused=r"logs\.db.*damaged"),
    Case("cut-a-page-short", _damaged(cut_short_of_the_end), refused=r"logs\.db is damaged: the file is cut short"),
    Case("cut-by-a-few-bytes", _damaged(cut_by_a_few_bytes), refused=r"logs\.db is damaged: the file is cut short"),
    Case("garbage-over-schema", _damaged(garbage_over_the_schema), refused=r"logs\.db.*damaged"),
    Case("damaged-in-the-middle", _damaged(damaged_in_the_middle), refused=r"logs\.db.*damaged", fails_when_read=True),
    Case("header-then-noise", _damaged(header_then_noise), refused=r"logs\.db.*damaged"),
    Case(
        "missing-required-column",
        missing_required_column,
        rows={"panel": 1},
        refused=r"table api_logs lacks the required column status",
        problems={"api": "lacks the required column"},
    ),
    Case("asked-for-an-absent-log", only_other_logs, rows={"panel": 1}, refused=r"has no api log"),
    Case("empty-log", empty_log, rows={"api": 0}),
    Case(
        "odd-values",
        odd_values,
        rows={"api": len(ODD_VALUES), "logins": 2},
        exported=("not a date", "teapot", '<img src="/dev/zero">', "=HYPERLINK(", "/emoji/😀/zażółć"),
    ),
    Case("odd-ids", odd_ids, rows={"api": 5}, exported=("/null-id", "/seven-a", "/seven-b", "/text-id")),
    Case("odd-business-units", odd_business_units, rows={"api": 20}),
    Case("hot-journal", journals.build_hot_journal, rows={"api": 1000}, snapshot=True),
    Case("wal-without-shm", journals.build_wal, rows={"api": 1050}, snapshot=True),
    Case("wal-with-shm", lambda f: journals.build_wal(f, keep_shm=True), rows={"api": 1050}, snapshot=True),
    Case("wal-without-wal", journals.build_wal_checkpointed, rows={"api": 1000}),
    Case("garbage-journal", garbage_journal, rows={"api": 500}, snapshot=True),
    Case("garbage-wal", garbage_wal, rows={"api": 500}, snapshot=True),
    Case("read-only-folder", good_api, rows={"api": 500}, read_only_folder=True),
    Case(
        "hot-journal-read-only-folder",
        journals.build_hot_journal,
        rows={"api": 1000},
        read_only_folder=True,
        snapshot=True,
    ),
    Case("wal-read-only-folder", journals.build_wal, rows={"api": 1050}, read_only_folder=True, snapshot=True),
]
CASE_IDS = [case.name for case in CASES]
