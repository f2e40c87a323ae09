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


def test_a_registered_run_into_a_pipe_reads_nothing_back_and_keeps_no_backup(tmp_path: Path, monkeypatch):
    """``reconcile -o /dev/null``: nothing to read officers' edits from, and no "backup" of the device."""
    from click.testing import CliRunner

    from apdocs.cli import main

    samples = Path(__file__).resolve().parents[1] / "samples"
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    args = ["reconcile", "--roster", samples / "roster.csv", "--as-of", "2025-03-31", "-o", fifo, samples / "returns"]
    r = CliRunner().invoke(main, [str(a) for a in args])
    reader.join(timeout=60)  # a hang guard only
    assert r.exit_code == 0, r.output
    assert got and got[0].startswith(b"PK")  # the tracker went into the pipe
    assert fifo.is_fifo()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("pipe.")]  # no dated "backup" of the pipe
