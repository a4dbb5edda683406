"""Where an export goes: special files written through, links kept, the database never overwritten.

Every test here is about a file a user would find changed, replaced or left
behind: a FIFO that became a regular file, a symbolic link replaced by a copy,
the database being read turned into a CSV, a read-only file silently replaced,
an error that names a hidden temporary file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from auditviewer.data import outfile
from auditviewer.data.errors import OutputError
from auditviewer.data.export import export, to_text
from auditviewer.data.outfile import atomic_path, check_output
from auditviewer.data.query import LogQuery
from auditviewer.data.source import LogTable, open_source
from tests.helpers.dbfactory import DbFactory
from tests.helpers.pipes import PipeReader
from tests.unit.logrows import api_row

ROWS = [
    api_row(i, status=(200, 404, 500)[i % 3]) for i in range(1, 2_001)
]  # about 90 kB of CSV: more than a pipe holds

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this system has no FIFOs (named pipes)")


@pytest.fixture
def api(sqlite_db: DbFactory) -> Iterator[LogTable]:
    with open_source(sqlite_db.create({"api": ROWS})) as source:
        yield source.log("api")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def leftovers(*folders: Path) -> list[str]:
    """Hidden temporary files left behind."""
    return [p.name for folder in folders for p in folder.iterdir() if p.name.endswith(".part")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- special files: written straight through, never replaced --------------------------------------------


@needs_fifo
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_fifo_gets_the_rows_and_stays_a_fifo(api: LogTable, out_dir: Path, fmt: str) -> None:
    fifo = out_dir / "pipe"
    os.mkfifo(fifo)
    reader = PipeReader.fifo(fifo)
    query = LogQuery(api)
    assert export(query, fmt, fifo) == len(ROWS)
    assert reader.finish().decode("utf-8") == to_text(query, fmt)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(out_dir)) == ["pipe"]


@needs_fifo
def test_an_excel_workbook_reaches_a_fifo_whole(api: LogTable, out_dir: Path) -> None:
    """openpyxl needs a real file: the workbook is made privately and copied in once complete."""
    fifo = out_dir / "pipe"
    os.mkfifo(fifo)
    reader = PipeReader.fifo(fifo)
    assert export(LogQuery(api), "xlsx", fifo, limit=50) == 50
    received = out_dir.parent / "received.xlsx"
    received.write_bytes(reader.finish())
    book = openpyxl.load_workbook(received, read_only=True)  # read-only keeps the file open until close()
    try:
        assert sum(1 for _ in book.worksheets[0].iter_rows()) == 51  # the header and the rows
    finally:
        book.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(out_dir) == []


def test_a_descriptor_path_writes_into_that_descriptor(api: LogTable) -> None:
    """``-o /dev/fd/N`` (and ``/dev/stdout``) write into the descriptor: nothing is created in /dev."""
    if not Path("/dev/fd").is_dir():
        pytest.skip("this system has no /dev/fd")
    read_end, write_end = os.pipe()
    reader = PipeReader(read_end)
    query = LogQuery(api)
    try:
        export(query, "csv", f"/dev/fd/{write_end}")
    finally:
        os.close(write_end)
    assert reader.finish().decode("utf-8") == to_text(query, "csv")


def test_a_link_to_a_device_writes_the_device_and_keeps_both(api: LogTable, out_dir: Path) -> None:
    """``-o`` a link to /dev/null: the link stays a link and /dev/null stays the device."""
    if not os.path.exists(os.devnull) or os.name != "posix":
        pytest.skip("no /dev/null here")
    link = out_dir / "null-link"
    link.symlink_to(os.devnull)
    assert export(LogQuery(api), "csv", link) == len(ROWS)
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert leftovers(out_dir) == [] and sorted(os.listdir(out_dir)) == ["null-link"]


def test_a_character_device_stays_a_device(api: LogTable, out_dir: Path) -> None:
    """The reproduction of the issue: ``mknod n c 1 3`` (a null device) and export to it."""
    if not hasattr(os, "mknod") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("making a device node needs root; the link to /dev/null test covers devices otherwise")
    node = out_dir / "n"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("this system does not let even root make device nodes here (a container without mknod)")
    for fmt in ("csv", "xlsx"):
        export(LogQuery(api), fmt, node, limit=10)
        assert stat.S_ISCHR(os.lstat(node).st_mode), f"{fmt} replaced the device"
    assert sorted(os.listdir(out_dir)) == ["n"]


# -- symbolic links: the target is written, the link stays -------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_symbolic_link_keeps_pointing_at_its_target_which_gets_the_rows(
    api: LogTable, tmp_path: Path, out_dir: Path, fmt: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / f"report.{fmt}"
    target.write_text("an earlier export\n", encoding="utf-8")
    target.chmod(0o640)
    link = out_dir / f"latest.{fmt}"
    link.symlink_to(target)
    query = LogQuery(api)
    export(query, fmt, link, limit=20)
    assert link.is_symlink() and link.resolve() == target
    if fmt == "csv":
        assert target.read_bytes().decode("utf-8") == to_text(query, "csv", limit=20)
    else:
        book = openpyxl.load_workbook(target, read_only=True)
        try:
            assert sum(1 for _ in book.worksheets[0].iter_rows()) == 21
        finally:
            book.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's permissions
    assert leftovers(out_dir, elsewhere) == []


def test_a_dangling_link_creates_its_target(api: LogTable, tmp_path: Path, out_dir: Path) -> None:
    target = tmp_path / "new.csv"
    link = out_dir / "link.csv"
    link.symlink_to(target)
    export(LogQuery(api), "csv", link, limit=3)
    assert link.is_symlink() and target.read_bytes().count(b"\r\n") == 4


# -- the database being read is never an output -------------------------------------------------------------


def _source_file(table: LogTable) -> Path:
    path = table.source.path
    assert path is not None
    return Path(path)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "pdf"])
def test_the_database_being_read_is_refused_before_anything_runs(api: LogTable, fmt: str) -> None:
    database = _source_file(api)
    before = digest(database)
    progress: list[int] = []
    with pytest.raises(OutputError, match="the database being read"):
        export(LogQuery(api), fmt, database, progress=progress.append)
    assert progress == []
    assert digest(database) == before
    assert leftovers(database.parent) == []


def test_the_database_is_recognised_by_inode_not_by_name(api: LogTable, tmp_path: Path) -> None:
    database = _source_file(api)
    before = digest(database)
    hard = tmp_path / "another-name.db"
    os.link(database, hard)
    soft = tmp_path / "a-link.csv"
    soft.symlink_to(database)
    roundabout = database.parent / ".." / database.parent.name / database.name
    for name in (hard, soft, roundabout):
        with pytest.raises(OutputError, match="the database being read"):
            export(LogQuery(api), "csv", name)
    assert digest(database) == before


@pytest.mark.parametrize("suffix", ["-wal", "-journal", "-shm"])
@pytest.mark.parametrize("exists", [False, True])
def test_the_databases_companion_files_are_refused(api: LogTable, suffix: str, exists: bool) -> None:
    """A CSV named like the database's -journal or -wal would be taken for one by the next reader."""
    database = _source_file(api)
    companion = database.with_name(database.name + suffix)
    if exists:
        companion.write_bytes(b"")
    with pytest.raises(OutputError, match=f"the {suffix} file of the database being read"):
        export(LogQuery(api), "csv", companion)
    assert companion.exists() == exists and (not exists or companion.read_bytes() == b"")


def test_other_open_databases_are_protected_too(api: LogTable, sqlite_db: DbFactory) -> None:
    other = Path(sqlite_db.create({"api": ROWS[:5]}))
    before = digest(other)
    with pytest.raises(OutputError, match="the database being read"):
        export(LogQuery(api), "csv", other, protect=[other])
    assert digest(other) == before


# -- found before the export runs, named as the user named it ---------------------------------------------


def test_a_read_only_file_is_refused_not_replaced(api: LogTable, out_dir: Path) -> None:
    kept = out_dir / "signed-off.csv"
    kept.write_text("the export a manager signed\n", encoding="utf-8")
    kept.chmod(0o444)
    with pytest.raises(OutputError, match="read-only"):
        export(LogQuery(api), "csv", kept)
    assert kept.read_text(encoding="utf-8") == "the export a manager signed\n"
    assert leftovers(out_dir) == []


@pytest.mark.parametrize(
    "name, words",
    [
        ("a-folder", "is a folder"),
        ("missing/out.csv", "the folder"),
    ],
)
def test_a_path_that_cannot_be_written_is_found_before_the_rows_are_read(
    api: LogTable, out_dir: Path, name: str, words: str
) -> None:
    (out_dir / "a-folder").mkdir()
    asked = out_dir / name
    progress: list[int] = []
    with pytest.raises(OutputError, match=words) as caught:
        export(LogQuery(api), "csv", asked, progress=progress.append)
    assert progress == []  # not a row was read
    assert str(asked) in str(caught.value) and ".part" not in str(caught.value)


def test_a_failure_at_the_end_names_the_path_asked_for(
    api: LogTable, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def replace(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, dst)

    monkeypatch.setattr(outfile.os, "replace", replace)
    asked = out_dir / "out.csv"
    with pytest.raises(OSError) as caught:
        export(LogQuery(api), "csv", asked)
    assert str(asked) in str(caught.value) and ".part" not in str(caught.value)
    assert os.listdir(out_dir) == []


def test_a_full_disk_names_the_file_asked_for(api: LogTable, out_dir: Path) -> None:
    def progress(_done: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a write to a full disk fails: no file name

    asked = out_dir / "out.csv"
    with pytest.raises(OSError) as caught:
        export(LogQuery(api), "csv", asked, progress=progress)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(asked)
    assert os.listdir(out_dir) == []


def test_check_output_opens_and_creates_nothing(out_dir: Path) -> None:
    plan = check_output(out_dir / "new.csv")
    assert not plan.special and plan.target == out_dir / "new.csv"
    assert os.listdir(out_dir) == []


def test_new_and_replaced_files_get_ordinary_permissions(out_dir: Path) -> None:
    """Not the owner-only permissions of a temporary file: a new file's, or the replaced one's."""
    new, old = out_dir / "new.bin", out_dir / "old.bin"
    old.write_bytes(b"old")
    old.chmod(0o604)
    for path in (new, old):
        with atomic_path(path) as temp:
            temp.write_bytes(b"new")
    assert stat.S_IMODE(old.stat().st_mode) == 0o604
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~outfile.current_umask()
    assert new.read_bytes() == old.read_bytes() == b"new"


class _Signal(BaseException):
    """What a signal handler raises (the CLI's SIGTERM/SIGHUP handler raises its own such exception)."""


def test_a_signal_just_after_the_temporary_file_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal can land between making the hidden file and arming its cleanup; the CLI then removes it."""
    real_close = os.close
    calls = []

    def close_then_signal(fd: int) -> None:
        real_close(fd)
        if not calls:
            calls.append(fd)
            raise _Signal  # as if the handler ran right after the file was made

    monkeypatch.setattr(outfile.os, "close", close_then_signal)
    with pytest.raises(_Signal), atomic_path(tmp_path / "out.csv"):
        pass
    monkeypatch.setattr(outfile.os, "close", real_close)
    outfile.remove_unfinished()
    assert os.listdir(tmp_path) == []
