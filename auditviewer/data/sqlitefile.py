"""How to read a SQLite file exactly as committed without writing anything beside it.

A plain ``mode=ro`` open is right for a database in rollback-journal mode with no
unfinished transaction. Two journal states need more:

- changes still in a ``-wal`` file: SQLite can only read them through a
  ``-shm`` index that it creates or writes to, beside the file;
- a hot ``-journal`` (a writer stopped mid-transaction): the database file may
  hold half-written pages that only a rollback, a write, can undo.

For those a *private snapshot* is taken: the database and that companion are
copied into a temporary folder only this user can read, SQLite recovers the copy
there (replays the WAL or rolls the journal back), and the copy is read. The
folder is removed when the source is closed, or at exit.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import shutil
import sqlite3
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from auditviewer.data.errors import SourceError

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_HEADER_BYTES = 32  # a -wal no longer than its header holds no pages
SQLITE_READONLY_ROLLBACK = 776  # "hot journal, but this connection may not roll it back"
SNAPSHOT_PREFIX = "auditviewer-snapshot-"
#: room kept free on the temporary folder's disk beyond the copy itself
SPARE_BYTES = 64 * 1024 * 1024


class How(enum.Enum):
    READ_ONLY = "read-only"  # mode=ro: SQLite's own locking, nothing created
    IMMUTABLE = "immutable"  # WAL database whose -wal is absent or empty: the file holds everything
    SNAPSHOT = "snapshot"  # a private copy, recovered


@dataclass(frozen=True)
class Stamp:
    """What tells a file changed: size, modification time, inode."""

    size: int
    mtime_ns: int
    inode: int


def stamp(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return Stamp(st.st_size, st.st_mtime_ns, st.st_ino)


def companion(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


@dataclass(frozen=True)
class Plan:
    """How a file is to be opened, and why."""

    how: How
    reason: str | None = None  # why a snapshot, in words for a user
    copy: tuple[str, ...] = ()  # companions copied with the database ("-wal", "-journal")


def check_header(path: Path) -> bool:
    """Validate the file before SQLite sees it; returns whether its header says WAL."""
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path} is a folder, not a database file")
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise SourceError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if len(header) == 0:
        raise SourceError(f"{path} is empty: it is not a database")
    if not header.startswith(SQLITE_MAGIC):
        raise SourceError(f"{path} is not a SQLite database (the file does not start with a SQLite header)")
    if len(header) < 100:
        raise SourceError(f"{path} is damaged: its SQLite header is cut short")
    return header[18] == 2 or header[19] == 2


def check_length(path: Path) -> None:
    """Refuse a file shorter than its header says: SQLite would read the missing end as zeros."""
    with path.open("rb") as fh:
        header = fh.read(100)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is kept by every SQLite since 3.7.0, and valid when the change counter
    # matches the "version valid for" number.
    if pages == 0 or header[24:28] != header[92:96]:
        return
    size, expected = path.stat().st_size, pages * page_size
    if size < expected:
        raise SourceError(
            f"{path} is damaged: the file is cut short ({size:,} bytes of the {expected:,} its header gives)"
        )


def journal_is_hot(path: Path) -> bool:
    """Whether ``path``'s -journal holds an unfinished transaction (as SQLite judges: non-empty,
    first byte not zero). A journal held by a live writer looks the same; a snapshot is right then too."""
    journal = companion(path, "-journal")
    try:
        with journal.open("rb") as fh:
            first = fh.read(1)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # there, but unreadable: SQLite could not judge it either; the copy will say why
    return first not in (b"", b"\x00")


def wal_has_pages(path: Path) -> bool:
    wal = stamp(companion(path, "-wal"))
    return wal is not None and wal.size > WAL_HEADER_BYTES


def hot_journal_reason(path: Path) -> str:
    return f"its writer stopped mid-transaction (see {path.name}-journal), and only committed rows are shown"


def plan_open(path: Path) -> Plan:
    """Decide how to open ``path`` from the journal files beside it (raises SourceError for non-databases)."""
    wal_header = check_header(path)
    copy: list[str] = []
    reasons: list[str] = []
    if journal_is_hot(path):
        copy.append("-journal")
        reasons.append(hot_journal_reason(path))
    if wal_has_pages(path):
        copy.append("-wal")
        reasons.append(
            f"its newest rows are in {path.name}-wal, which cannot be read in place without writing beside it"
        )
    if copy:
        return Plan(How.SNAPSHOT, " and ".join(reasons), tuple(copy))
    check_length(path)  # (a journal or -wal may account for a shorter file: the snapshot's check covers those)
    return Plan(How.IMMUTABLE if wal_header else How.READ_ONLY)


def uri(path: Path, how: How) -> str:
    return path.resolve().as_uri() + ("?immutable=1" if how is How.IMMUTABLE else "?mode=ro")


def probe(path: Path, plan: Plan) -> Plan:
    """Open once as planned; a hot journal that appeared since planning turns the plan into a snapshot."""
    if plan.how is How.SNAPSHOT:
        return plan
    try:
        conn = sqlite3.connect(uri(path, plan.how), uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_READONLY_ROLLBACK:
            return Plan(How.SNAPSHOT, hot_journal_reason(path), ("-journal",))
        # Anything else (damage, not a database) is reported by discovery, in its words.
    return plan


def changed_since(path: Path, how: How, opened: Stamp | None) -> str | None:
    """For an immutable read (SQLite takes no locks then): why the file can no longer be read as it
    was when opened, if it cannot. (A read-only open follows changes itself.)"""
    if how is How.IMMUTABLE and (wal_has_pages(path) or stamp(path) != opened):
        return (
            f"{path} changed after it was opened (a program is writing to it now): "
            "close it and open it again to see its current rows"
        )
    return None


# -- private snapshots ---------------------------------------------------------------


class Snapshot:
    """A private, recovered copy of a database, removed by :meth:`remove` (or at exit)."""

    def __init__(self, folder: Path, db: Path, reason: str) -> None:
        self.folder = folder
        self.db = db
        self.reason = reason
        self._finalizer = weakref.finalize(self, _remove_folder, folder)

    def remove(self) -> None:
        self._finalizer()


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():  # Windows: a file still open in another thread; try once more at exit
        log.warning("could not remove the private copy %s yet", folder)
        import atexit

        atexit.register(shutil.rmtree, folder, True)


class FileChanged(Exception):
    """The file changed while it was copied: plan again and copy again."""


def prepare(path: Path, tmp_root: str | None = None) -> tuple[Plan, Snapshot | None]:
    """The plan for ``path`` and, when it needs one, its private snapshot (two tries if the file changes)."""
    for attempt in (1, 2):
        plan = probe(path, plan_open(path))
        if plan.how is not How.SNAPSHOT:
            return plan, None
        try:
            return plan, take_snapshot(path, plan, tmp_root)
        except FileChanged:
            log.info("%s changed while it was copied (attempt %d)", path, attempt)
    raise SourceError(
        f"{path} kept changing while a private copy was made to read it (a program is writing "
        "to it now); try again when that program has finished"
    )


def take_snapshot(path: Path, plan: Plan, tmp_root: str | None = None) -> Snapshot:
    """A recovered private copy of ``path`` and the companions the plan names; FileChanged if it changed."""
    sources = [path] + [companion(path, suffix) for suffix in plan.copy]
    before = {src: stamp(src) for src in sources}
    root = Path(tmp_root or tempfile.gettempdir())
    _sweep_stale(root)
    _check_room(path, plan, before, root)
    folder = Path(tempfile.mkdtemp(prefix=f"{SNAPSHOT_PREFIX}{os.getpid()}-", dir=root))  # mode 0700
    try:
        db = folder / "logs.db"
        for src in sources:
            if before[src] is None:
                raise FileChanged  # gone since it was planned
            _copy_private(path, plan, src, companion(db, src.name[len(path.name) :]))
        # The database file must not have changed while it was copied; a -wal or -journal that
        # grew is fine (recovery uses only complete, checksummed transactions or page images).
        if stamp(path) != before[path] or any(stamp(src) is None for src in sources):
            raise FileChanged
        _recover(path, db, plan)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info("reading %s from a private copy in %s: %s", path, folder, plan.reason)
    return Snapshot(folder, db, plan.reason or "")


def _check_room(path: Path, plan: Plan, before: dict[Path, Stamp | None], root: Path) -> None:
    """SourceError unless ``root`` has room for the copies, and for a checkpoint growing the copy by the -wal."""
    sizes = sum(s.size for s in before.values() if s is not None)
    wal = before.get(companion(path, "-wal"))
    needed = sizes + (wal.size if wal is not None else 0) + SPARE_BYTES
    free = shutil.disk_usage(root).free
    if free < needed:
        raise SourceError(
            f"{path} needs a private copy to be read correctly ({plan.reason}), but {root} has only "
            f"{_size(free)} free of the {_size(needed)} needed; free some space there, or point TMPDIR "
            "at a folder with room, and open it again"
        )


def _copy_private(path: Path, plan: Plan, src: Path, dst: Path) -> None:
    """``src`` copied to ``dst``, readable by its owner only; FileChanged if it is gone."""
    try:
        shutil.copyfile(src, dst)
    except FileNotFoundError:
        raise FileChanged from None
    except OSError as exc:
        raise SourceError(
            f"{path} needs a private copy to be read correctly ({plan.reason}), but "
            f"{src.name} could not be copied: {exc.strerror or exc}"
        ) from exc
    os.chmod(dst, 0o600)


def _recover(original: Path, db: Path, plan: Plan) -> None:
    """Let SQLite replay the WAL or roll the journal back in the copy, then check the copy."""
    try:
        conn = sqlite3.connect(db.as_uri() + "?mode=rw", uri=True, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # rolls a hot journal back
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy:
                    raise SourceError(f"{original}: its -wal file could not be applied to the private copy")
            conn.execute("PRAGMA journal_mode=DELETE").fetchone()
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code == 13:  # SQLITE_FULL
            raise SourceError(
                f"{original} needs a private copy to be read correctly, and the temporary "
                f"folder {db.parent.parent} ran out of space while it was made"
            ) from exc
        if code in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            raise SourceError(f"{original} is damaged: {exc}") from exc
        raise SourceError(f"{original} cannot be read through a private copy: {exc}") from exc
    if problems != ["ok"]:
        raise SourceError(f"{original} is damaged: {problems[0]}")
    left = sorted(p.name for p in db.parent.iterdir() if p != db)
    if left:
        raise SourceError(f"{original}: recovering the private copy left {', '.join(left)} behind")


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n):,} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            break
    return f"{n:,.1f} {unit}"


def _sweep_stale(root: Path) -> None:
    """Remove private copies left by runs of this program that ended without cleaning up (killed)."""
    if os.name != "posix":  # no cheap, safe "is this process alive" elsewhere
        return
    with contextlib.suppress(OSError):
        for folder in root.glob(f"{SNAPSHOT_PREFIX}*-*"):
            pid_text = folder.name[len(SNAPSHOT_PREFIX) :].split("-", 1)[0]
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if folder.stat().st_uid == os.getuid() and not _alive(int(pid_text)):
                    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
