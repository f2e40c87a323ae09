"""`apdocs ingest --watch` run as a user runs it: a reply dropped in while it watches is archived once, and Ctrl-C ends it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apdocs.mail.archive import Archive
from apdocs.mail.message import message_sha256
from tests.mail_helpers import DOCX, ROOT, form_bytes, message

pytestmark = [
    pytest.mark.slow,  # --watch looks again every 5 seconds at the quickest
    pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT"),
]

INTERVAL = "5"  # the smallest --watch allows
DEADLINE = 120.0  # seconds: a bound on a hung watcher, not a speed requirement
SUMMARY = re.compile(r"^messages: (\d+) seen, (\d+) new, (\d+) already archived$", re.M)


def _reply(n: int) -> bytes:
    attachment = (f"appendix4-{n}.docx", form_bytes(f"VS-A4-WATCH{n:04d}"), DOCX)
    return message([attachment], msgid=f"<watch{n}@synthetic.example>").as_bytes()


def _drop(folder: Path, name: str, raw: bytes) -> None:
    """Arrive whole, as a mail client saves: written under a hidden name (sources skip those), then renamed."""
    tmp = folder / f".{name}.part"
    tmp.write_bytes(raw)
    os.replace(tmp, folder / name)


def _terminal_sigint() -> None:
    # As in a terminal: Ctrl-C raises KeyboardInterrupt even if this test run was started with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(proc: subprocess.Popen[bytes], out: Path, err: Path, passes: int) -> list[tuple[int, int, int]]:
    """The (seen, new, known) of each finished pass, once ``passes`` of them have finished and the watcher is waiting."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        done = [(int(seen), int(new), int(known)) for seen, new, known in SUMMARY.findall(out.read_text())]
        waiting = err.read_text().count("Ctrl-C to stop")
        if len(done) >= passes and waiting >= passes:
            return done
        assert proc.poll() is None, f"watcher exited {proc.returncode}: {err.read_text()[-2000:]}"
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no pass {passes} within {DEADLINE}s: {out.read_text()[-2000:]} {err.read_text()[-2000:]}")


def _archived(archive: Path) -> dict[str, bytes]:
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in archive.rglob("*") if p.is_file() and p.name != ".lock"}


def test_reply_dropped_while_watching_is_archived_once_and_ctrl_c_exits_cleanly(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    first, second = _reply(1), _reply(2)
    _drop(inbox, "01-reply.eml", first)
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    cmd = [sys.executable, "-m", "apdocs", "ingest", str(inbox), "--archive", str(archive), "--watch", INTERVAL]
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, cwd=ROOT, preexec_fn=_terminal_sigint)
    try:
        assert _wait_for(proc, out, err, 1) == [(1, 1, 0)]
        _drop(inbox, "02-reply.eml", second)  # after the watcher started: only a later pass can find it
        # The pass that finds it, then one more over the same folder, which must add nothing.
        assert _wait_for(proc, out, err, 3)[1:3] == [(2, 1, 1), (2, 0, 2)]
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    stderr = err.read_text()
    assert code == 0, stderr  # the last pass went well, and Ctrl-C is how a watch is meant to end
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert stderr.splitlines()[-1] == "stopped watching"

    # Nothing lost: both replies are in the archive, by their bytes.
    stored = {meta["sha256"] for meta in Archive(archive).messages()}
    assert stored == {message_sha256(first, "eml"), message_sha256(second, "eml")}
    # A second run over the same inbox archives nothing again and changes no archived file.
    before = _archived(archive)
    again = subprocess.run(
        [sys.executable, "-m", "apdocs", "ingest", str(inbox), "--archive", str(archive), "--json"],
        capture_output=True,
        timeout=DEADLINE,
        cwd=ROOT,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    report = json.loads(again.stdout)["ingest"]
    assert (report["messages_seen"], report["messages_new"], report["messages_known"]) == (2, 0, 2)
    assert _archived(archive) == before
