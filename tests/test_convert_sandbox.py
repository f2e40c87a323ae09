"""The LibreOffice converter's own limits, tested with a stand-in ``soffice`` that misbehaves.

A real LibreOffice that hangs cannot be made on demand, so ``APDOCS_SOFFICE`` points at a
small shell script that never finishes and leaves a child of its own running. The test proves
that apdocs stops after its time limit with a typed error and kills the whole process group.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from apdocs.errors import ParseError
from apdocs.formats import convert
from tests.test_bad_input import cfb


@pytest.fixture
def hanging_soffice(tmp_path: Path, monkeypatch) -> Path:
    pids = tmp_path / "pids"
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! >> {pids}\necho $$ >> {pids}\nsleep 300\n")
    script.chmod(0o755)
    monkeypatch.setenv("APDOCS_SOFFICE", str(script))
    monkeypatch.setattr(convert, "TIMEOUT_SECONDS", 2)
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def test_a_conversion_that_hangs_is_stopped_and_its_processes_killed(hanging_soffice):
    data = cfb(["WordDocument", "1Table"]) + os.urandom(16)  # unique: never a cache hit
    started = time.monotonic()
    with pytest.raises(ParseError) as info:
        convert.convert(data, source_ext=".doc", target="docx", path="slow.doc")
    assert info.value.code == "CONVERSION_FAILED" and "slow.doc" in str(info.value)
    assert time.monotonic() - started < 60
    pids = [int(p) for p in hanging_soffice.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids), "a process of the conversion was left running"
    # a timeout is not remembered: the same file is tried again (the machine may only have been busy)
    with pytest.raises(ParseError):
        convert.convert(data, source_ext=".doc", target="docx", path="slow.doc")
    assert len(hanging_soffice.read_text().split()) == 4


def test_an_oversize_file_is_never_handed_to_libreoffice(hanging_soffice, monkeypatch):
    monkeypatch.setattr(convert, "MAX_INPUT_BYTES", 1000)
    with pytest.raises(ParseError) as info:
        convert.convert(cfb(["WordDocument"]) + b"\0" * 2000, source_ext=".doc", target="docx", path="big.doc")
    assert info.value.code == "FILE_TOO_LARGE"
    assert not hanging_soffice.exists(), "LibreOffice was started"
