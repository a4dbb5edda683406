"""Output files: written whole or not at all, and never in place of what the path is.

Every file the program writes (exports, Excel and PDF reports, the demo
database, saved views) goes through :func:`atomic_output` (a stream) or
:func:`atomic_path` (a path, for writers that open files themselves:
openpyxl, Qt's PDF writer, SQLite). What happens depends on what the path is:

- a regular file, or a path that does not exist yet: the data goes to a hidden
  temporary file beside it (``.NAME.XXXX.part``), renamed into place only when
  complete, with the permissions the replaced file had (or a new file's);
- a symbolic link: its target is written that way, the temporary file in the
  target's folder, and the link stays a link;
- a special file (a FIFO, a socket, a character or block device) or one of the
  process's own descriptors (``/dev/stdout``, ``/dev/fd/N``): written straight
  through, never replaced. :func:`atomic_output` streams into it, so what was
  written before a failure has already gone out; :func:`atomic_path` builds
  the file in the system's temporary folder and copies it in once complete,
  so the reader of a FIFO gets a whole workbook, PDF or database, or nothing.

:func:`check_output` finds, before any work starts, what would make the write
fail or do harm: a folder, a missing or unwritable folder, a read-only file,
and an output that is one of the files being read (the same file by device
and inode, whatever its name, or one of a SQLite database's ``-wal``,
``-journal`` and ``-shm`` companions).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from auditviewer.data.errors import OutputError

#: Files SQLite keeps beside a database while it is in use; writing one of them corrupts or hides rows.
COMPANIONS = ("-wal", "-journal", "-shm")
_FIXED_DESCRIPTORS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd|proc/(\d+)/fd)/(\d+)$")
StrPath = str | os.PathLike[str]
#: Errors of writing that Python reports without a file name (a full disk, a full /dev/full).
_WRITE_ERRORS = {getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS") if hasattr(errno, name)}


@dataclass(frozen=True)
class Output:
    """Where the bytes for a path the user gave will go."""

    asked: Path  # the path as given: every message names it
    target: Path  # the file written: ``asked``, or the target of a symbolic link
    special: bool = False  # a FIFO, device, socket or descriptor: written straight through
    fd: int | None = None  # for /dev/stdout, /dev/fd/N: the process's own descriptor


def check_output(path: StrPath, protect: Iterable[StrPath | None] = ()) -> Output:
    """What writing ``path`` means; :class:`OutputError` when it must not or cannot be written.

    ``protect`` names files being read (open databases): the output may be none
    of them nor any of their companions. Nothing is created or opened here.
    """
    text = os.fspath(path)
    if not text:
        raise OutputError("no output file was given")
    asked = Path(text)
    fd = _own_descriptor(asked)
    st = _stat(asked, fd)
    _refuse_sources(asked, st, protect)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{asked} is a folder; give the name of a file to write")
    if fd is not None or (st is not None and not stat.S_ISREG(st.st_mode)):
        if fd is None and not _is_root() and not os.access(asked, os.W_OK):
            raise OutputError(f"cannot write {asked}: permission denied")
        return Output(asked, asked, special=True, fd=fd)
    return _file_output(asked, st)


def _stat(asked: Path, fd: int | None) -> os.stat_result | None:
    """What the path (or the process's descriptor) is now; None when nothing is there yet."""
    try:
        return os.fstat(fd) if fd is not None else os.stat(asked)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if fd is not None:
            raise OutputError(f"cannot write {asked}: descriptor {fd} is not open") from exc
        raise OutputError(f"cannot write {asked}: {exc.strerror or exc}") from exc


def _file_output(asked: Path, st: os.stat_result | None) -> Output:
    """A regular file (or a link to one, or a new name): its folder must take a new file, and it must be writable."""
    target = Path(os.path.realpath(asked)) if asked.is_symlink() else asked
    via = f" (the target of the link {asked})" if target != asked else ""
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"cannot write {asked}: the folder {folder}{via} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {asked}: the folder {folder}{via} is not writable")
    if st is not None and not _writable(target, st):
        raise OutputError(
            f"{asked} is read-only, so it is not replaced; choose another name or make the file writable first"
        )
    return Output(asked, target)


@contextlib.contextmanager
def atomic_path(path: StrPath, protect: Iterable[StrPath | None] = ()) -> Iterator[Path]:
    """A temporary path to write; what it holds reaches ``path`` only if the block finishes without error.

    For writers that open files themselves (openpyxl, Qt's PDF writer, SQLite).
    """
    out = check_output(path, protect)
    if not out.special:
        with _beside(out) as temp:
            yield temp
        return
    # A writer that needs a real file (it may seek) builds it privately; the special file gets it whole.
    temp = _named_temp(out, None)
    try:
        yield temp
        with open(temp, "rb") as source, _open_special(out, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _finished(temp)


@contextlib.contextmanager
def atomic_output(
    path: StrPath, mode: str = "w", protect: Iterable[StrPath | None] = (), **kwargs: Any
) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` only if the block finishes without error (streamed into a special file)."""
    out = check_output(path, protect)
    if out.special:
        try:
            with _open_special(out, mode, **kwargs) as stream:
                yield stream
        except OSError as exc:
            raise _renamed(exc, None, out.asked) from None
        return
    with _beside(out) as temp, open(temp, mode, **kwargs) as stream:
        yield stream


def source_files(path: StrPath) -> list[Path]:
    """A database file and the companions SQLite may keep beside it."""
    path = Path(path)
    return [path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)]


# -- the steps ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _beside(out: Output) -> Iterator[Path]:
    """A hidden temporary file in the target's folder, renamed over the target when the block succeeds."""
    temp = _named_temp(out, out.target.parent)
    try:
        yield temp
        _give_mode(temp, out.target)
        os.replace(temp, out.target)
        _finished(temp)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _finished(temp)
        if isinstance(exc, OSError):
            raise _renamed(exc, temp, out.asked) from None
        raise


#: Temporary files not yet renamed or removed. A name is listed before its file is made, so
#: :func:`remove_unfinished` finds it however early a signal interrupts the writing.
_UNFINISHED: set[Path] = set()


def _named_temp(out: Output, folder: Path | None) -> Path:
    """A new, empty, owner-only temporary file, listed in :data:`_UNFINISHED` until it is done."""
    parent = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    prefix = f".{out.target.name or 'output'}."
    for _ in range(100):
        temp = parent / f"{prefix}{os.urandom(4).hex()}.part"
        _UNFINISHED.add(temp)
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            _UNFINISHED.discard(temp)
            continue
        except OSError as exc:
            _UNFINISHED.discard(temp)
            raise OSError(exc.errno, exc.strerror, os.fspath(out.asked)) from None
        return temp
    raise OSError(errno.EEXIST, "no free temporary file name", os.fspath(out.asked))


def _finished(temp: Path) -> None:
    _UNFINISHED.discard(temp)


def remove_unfinished() -> None:
    """Remove every temporary file still being written: for a process ended by a signal."""
    for temp in list(_UNFINISHED):
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _UNFINISHED.discard(temp)


def _open_special(out: Output, mode: str, **kwargs: Any) -> IO[Any]:
    """The special file opened for writing: the process's own descriptor duplicated, else the path opened."""
    try:
        if out.fd is not None:
            return os.fdopen(os.dup(out.fd), mode, **kwargs)
        return open(out.asked, mode, **kwargs)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, os.fspath(out.asked)) from None


def _renamed(exc: OSError, temp: Path | None, asked: Path) -> OSError:
    """The error naming the path the user asked for, where it named the hidden temporary file or no file."""
    named = [os.fspath(name) for name in (exc.filename, exc.filename2) if isinstance(name, (str, os.PathLike))]
    unnamed_write_error = not named and exc.errno in _WRITE_ERRORS
    if not unnamed_write_error and (temp is None or os.fspath(temp) not in named):
        return exc
    return OSError(exc.errno, exc.strerror, os.fspath(asked)).with_traceback(exc.__traceback__)


def _own_descriptor(path: Path) -> int | None:
    """The descriptor a path such as /dev/stdout or /dev/fd/3 stands for in this process, if it is one."""
    if os.name != "posix":
        return None
    text = os.path.normpath(os.path.abspath(path))
    if text in _FIXED_DESCRIPTORS:
        return _FIXED_DESCRIPTORS[text]
    match = _DESCRIPTOR_PATH.match(text)
    if match is None or (match.group(1) is not None and int(match.group(1)) != os.getpid()):
        return None
    return int(match.group(2))


def _refuse_sources(asked: Path, st: os.stat_result | None, protect: Iterable[StrPath | None]) -> None:
    """OutputError when the output is a file being read or a companion of one (by inode; by name if new)."""
    real = os.path.normcase(os.path.realpath(asked))
    for source in protect:
        if source is None:
            continue
        for i, file in enumerate(source_files(source)):
            same = real == os.path.normcase(os.path.realpath(file))
            if not same and st is not None:
                with contextlib.suppress(OSError):
                    other = os.stat(file)
                    same = (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino)
            if same:
                what = (
                    "the database being read" if i == 0 else f"the {COMPANIONS[i - 1]} file of the database being read"
                )
                where = "" if os.fspath(asked) == os.fspath(source) else f" ({source})"
                raise OutputError(f"{asked} is {what}{where}; writing there would destroy it. Choose another file.")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _writable(path: Path, st: os.stat_result) -> bool:
    """Whether a file may be replaced: its permissions allow writing (root can write anything: ask the mode)."""
    if _is_root():
        return bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return os.access(path, os.W_OK)


def _give_mode(temp: Path, target: Path) -> None:
    """The permissions a new file would get (or the replaced file's), not the owner-only ones of a temp file."""
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~current_umask()
    with contextlib.suppress(OSError):
        os.chmod(temp, mode)


def current_umask() -> int:
    """The process's umask, read without setting it (os.umask would race with other threads)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022
