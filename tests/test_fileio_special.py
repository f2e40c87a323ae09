"""Writing to a device or a pipe (``--csv /dev/null``, ``-o /dev/stdout``) writes into it: the
atomic temp-file-and-rename would, run as root, replace /dev/null with a plain file. Tested
on a FIFO of the test's own: a regression must not be able to break the machine's /dev/null."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from apdocs.fileio import atomic_write_bytes


def test_a_pipe_is_written_into_not_replaced(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write_bytes(fifo, b"findings")
    reader.join(timeout=60)  # a hang guard only
    assert got == [b"findings"]
    assert fifo.is_fifo()  # still the pipe, not a file renamed over it
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # and no temp file left beside it
