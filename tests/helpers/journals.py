"""SQLite files caught in each journal state, built with plain ``sqlite3`` as another program would.

A writer is stopped "mid-transaction" by copying its files while the transaction
is open: the copy is exactly what a crash at that moment leaves behind. Committed
rows have URLs ``/committed/N``, uncommitted ones ``/uncommitted/N``; committed rows
the unfinished transaction changed say ``/changed/N`` in it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

API_TABLE = (
    "CREATE TABLE api_logs (id INTEGER PRIMARY KEY, date TEXT NOT NULL, url TEXT NOT NULL, "
    "method TEXT NOT NULL, status INTEGER NOT NULL, remote_ip TEXT NOT NULL, business_unit_id INTEGER)"
)
#: far in the past, so any touch of a file shows in its modification time
OLD_TIME_NS = 1_700_000_000_000_000_000


def _rows(first: int, n: int, kind: str) -> list[tuple]:
    return [
        (
            i,
            f"2025-01-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
            f"/{kind}/{i}/" + "p" * 150,
            "GET",
            200,
            "10.0.0.1",
        )
        for i in range(first, first + n)
    ]


def _insert(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany("INSERT INTO api_logs (id, date, url, method, status, remote_ip) VALUES (?, ?, ?, ?, ?, ?)", rows)


def _age(folder: Path) -> None:
    for path in [*folder.iterdir(), folder]:
        os.utime(path, ns=(OLD_TIME_NS, OLD_TIME_NS))


def _new_writer(work: Path, wal: bool) -> tuple[sqlite3.Connection, Path]:
    db = work / "writer.db"
    conn = sqlite3.connect(db, isolation_level=None)
    if wal:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    conn.execute(API_TABLE)
    conn.execute("CREATE INDEX idx_api_logs_date ON api_logs (date)")
    return conn, db


def _copy_out(db: Path, folder: Path, name: str, suffixes: tuple[str, ...]) -> Path:
    target = folder / name
    shutil.copyfile(db, target)
    for suffix in suffixes:
        shutil.copyfile(db.with_name(db.name + suffix), target.with_name(name + suffix))
    return target


def build_hot_journal(folder: Path, committed: int = 1000, uncommitted: int = 800, name: str = "crashed.db") -> Path:
    """A rollback-journal database whose writer stopped mid-transaction: half-written pages in the
    file, their originals in a hot ``-journal`` beside it."""
    with tempfile.TemporaryDirectory() as work:
        conn, db = _new_writer(Path(work), wal=False)
        with closing(conn):
            conn.execute("BEGIN")
            _insert(conn, _rows(1, committed, "committed"))
            conn.execute("COMMIT")
            conn.execute("PRAGMA cache_size=2")  # spill changed pages into the file before the commit
            conn.execute("BEGIN")
            conn.execute("UPDATE api_logs SET url = '/changed/' || id WHERE id <= 100")
            _insert(conn, _rows(committed + 1, uncommitted, "uncommitted"))
            path = _copy_out(db, folder, name, ("-journal",))
            conn.execute("ROLLBACK")
    _age(folder)
    return path


def build_wal(
    folder: Path,
    in_file: int = 1000,
    in_wal: int = 50,
    uncommitted: int = 30,
    *,
    keep_wal: bool = True,
    keep_shm: bool = False,
    name: str = "live.db",
) -> Path:
    """A WAL database copied while its writer is open: ``in_file`` rows checkpointed into the file,
    ``in_wal`` committed rows only in the ``-wal``, and an open transaction of ``uncommitted`` rows
    spilled into the ``-wal`` without a commit."""
    with tempfile.TemporaryDirectory() as work:
        conn, db = _new_writer(Path(work), wal=True)
        with closing(conn):
            conn.execute("BEGIN")
            _insert(conn, _rows(1, in_file, "committed"))
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("BEGIN")
            _insert(conn, _rows(in_file + 1, in_wal, "committed"))
            conn.execute("COMMIT")
            conn.execute("PRAGMA cache_size=2")
            conn.execute("BEGIN")
            conn.execute("UPDATE api_logs SET url = '/changed/' || id WHERE id <= 10")
            _insert(conn, _rows(in_file + in_wal + 1, uncommitted, "uncommitted"))
            suffixes = (("-wal",) if keep_wal else ()) + (("-shm",) if keep_shm else ())
            path = _copy_out(db, folder, name, suffixes)
            conn.execute("ROLLBACK")
    _age(folder)
    return path


def build_wal_checkpointed(folder: Path, rows: int = 1000, name: str = "exported.db") -> Path:
    """A WAL database closed cleanly: everything in the file, the header says WAL, no ``-wal``."""
    with tempfile.TemporaryDirectory() as work:
        conn, db = _new_writer(Path(work), wal=True)
        with closing(conn):
            conn.execute("BEGIN")
            _insert(conn, _rows(1, rows, "committed"))
            conn.execute("COMMIT")
        path = _copy_out(db, folder, name, ())
    assert path.read_bytes()[18:20] == b"\x02\x02"
    _age(folder)
    return path


def build_plain(folder: Path, rows: int = 1000, name: str = "plain.db") -> Path:
    with tempfile.TemporaryDirectory() as work:
        conn, db = _new_writer(Path(work), wal=False)
        with closing(conn):
            conn.execute("BEGIN")
            _insert(conn, _rows(1, rows, "committed"))
            conn.execute("COMMIT")
        path = _copy_out(db, folder, name, ())
    _age(folder)
    return path


def committed_state(path: Path) -> tuple[int, int, int]:
    """(rows, uncommitted rows, changed rows) as a read with ``immutable=1`` sees the file alone."""
    with closing(sqlite3.connect(path.resolve().as_uri() + "?immutable=1", uri=True)) as conn:
        return conn.execute(
            "SELECT count(*), sum(url LIKE '/uncommitted/%'), sum(url LIKE '/changed/%') FROM api_logs"
        ).fetchone()


# -- what must not change ---------------------------------------------------------------------


def fingerprint(folder: Path) -> dict[str, tuple]:
    """Every file beside the database: bytes, size, modification time, mode; and the folder's own
    modification time (which changes when anything is created or deleted in it, even briefly)."""
    out: dict[str, tuple] = {".": (os.stat(folder).st_mtime_ns,)}
    for entry in sorted(folder.iterdir()):
        st = entry.stat()
        content = fingerprint(entry) if entry.is_dir() else hashlib.sha256(entry.read_bytes()).hexdigest()
        out[entry.name] = (content, st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """The folder as a user without write permission sees it (chmod 0555 while inside)."""
    st = folder.stat()
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(stat.S_IMODE(st.st_mode))
        os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))  # chmod is not what the test looks for


# -- running as a user whose permissions count ---------------------------------------------------

NOBODY = 65534


def unprivileged_command() -> list[str] | None:
    """A prefix that runs a command as an ordinary user when the tests run as root (where folder
    permissions do not bite), or None when that is not possible here."""
    if os.name != "posix" or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import auditviewer"],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return prefix if probe.returncode == 0 else None


@contextmanager
def shared_folder() -> Iterator[Path]:
    """A temp folder an unprivileged user can reach (pytest's own tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="av-journals-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
