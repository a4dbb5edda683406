"""The program at the other end of a pipe or FIFO, for tests that write into one."""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path


class PipeReader:
    """The program at the other end of a pipe: reads everything in a thread, never blocking the test."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.data = bytearray()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, name="pipe-reader", daemon=True)
        self._thread.start()

    @classmethod
    def fifo(cls, path: Path) -> PipeReader:
        return cls(os.open(path, os.O_RDONLY | os.O_NONBLOCK))

    def _read(self) -> None:
        while True:
            select.select([self.fd], [], [], 0.05)
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            if chunk:
                self.data += chunk
            elif self._done.is_set():
                return  # the writer has finished and everything it wrote has been read
            else:
                self._done.wait(0.01)

    def finish(self) -> bytes:
        """Everything written, once the writer is done."""
        self._done.set()
        self._thread.join(timeout=30)
        os.close(self.fd)
        return bytes(self.data)
