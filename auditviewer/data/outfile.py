"""Output files that appear only when complete.

Every file the program writes (exports, Excel and PDF reports, the demo
database, saved views) is written to a temporary file beside its target and
renamed into place only when the writer finished without error.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it only if the block finishes without error.

    For writers that open files themselves (openpyxl, Qt's PDF writer). The
    file gets the permissions a new file would (or the replaced file's), not
    the owner-only ones of a temporary file.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        _give_mode(temp, path)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` only if the block finishes without error."""
    with atomic_path(path) as temp, open(temp, mode, **kwargs) as out:
        yield out


def _give_mode(temp: Path, target: Path) -> None:
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.chmod(temp, mode)


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would race with other threads)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    return 0o022
