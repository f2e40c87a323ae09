"""Progress bars: drawn on a real terminal (a pty), never when output is piped or with --json."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from apdocs import api
from apdocs.forms import FORM_IDS

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")

ROOT = Path(__file__).resolve().parents[1]
# tqdm's bar: "label:  40%|####      | 4/10 [00:01<00:01,  3.9 file/s]" - a count, an ETA and a rate.
BAR = re.compile(r"\d+/\d+ \[[0-9:]+<[0-9:?]+, +[0-9.?]+ ?\w*(?: \w+)?/s\]")


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("returns")
    for i in range(12):
        form_id = FORM_IDS[i % 3]
        (folder / f"{i:02d}-{form_id}.docx").write_bytes(api.render_form(form_id, "docx", {"reference": f"SYN-{i}"}))
    return folder


def on_a_terminal(*args: str) -> str:
    """Run apdocs with stdout and stderr on a pty, as a person at a terminal would; all it printed."""
    leader, follower = os.openpty()
    # A fresh pty is 0x0; a real terminal has a size, and tqdm fits its bar to it.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "apdocs", *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=ROOT
    )
    os.close(follower)
    out = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return out.decode("utf-8", "replace")


def piped(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "apdocs", *args], capture_output=True, text=True, cwd=ROOT, check=False)
    return done.stdout + done.stderr


def test_parse_of_a_folder_shows_count_rate_and_eta_on_a_terminal(returns):
    out = on_a_terminal("parse", "--jobs", "2", str(returns))
    assert BAR.search(out), out
    assert "/12 [" in out  # the count is out of the files found
    assert out.count("appendix") >= 12  # each file's line is still printed


def test_no_bar_when_piped_or_json(returns):
    assert not BAR.search(piped("parse", str(returns)))
    assert "%|" not in piped("parse", str(returns))
    on_tty_json = on_a_terminal("parse", "--json", str(returns))
    assert not BAR.search(on_tty_json)
    assert "%|" not in on_tty_json


def test_reconcile_and_pack_show_a_bar_on_a_terminal_only(returns, tmp_path):
    roster = ROOT / "samples" / "roster.csv"
    out = on_a_terminal("reconcile", "--roster", str(roster), "--csv", str(tmp_path / "f.csv"), str(returns))
    assert BAR.search(out), out
    assert not BAR.search(piped("reconcile", "--roster", str(roster), "--csv", str(tmp_path / "g.csv"), str(returns)))
    out = on_a_terminal("pack", "--roster", str(roster), "-o", str(tmp_path / "outbox"))
    assert BAR.search(out), out
    assert not BAR.search(piped("pack", "--roster", str(roster), "-o", str(tmp_path / "outbox2")))
    assert not BAR.search(on_a_terminal("pack", "--roster", str(roster), "-o", str(tmp_path / "outbox3"), "--json"))


def test_ingest_shows_a_bar_while_reading_the_archive_on_a_terminal_only(tmp_path):
    replies, roster = ROOT / "samples" / "replies", ROOT / "samples" / "roster.csv"

    def ingest(archive: str, *extra: str) -> list[str]:
        tracker = tmp_path / f"{archive}.xlsx"
        where = ["--archive", str(tmp_path / archive), "--roster", str(roster), "--tracker", str(tracker)]
        return ["ingest", str(replies), *where, *extra]

    assert BAR.search(on_a_terminal(*ingest("a"))), "no bar on a terminal"
    assert not BAR.search(piped(*ingest("b")))
    assert not BAR.search(on_a_terminal(*ingest("c", "--json")))


def test_send_shows_a_bar_on_a_terminal_only(tmp_path):
    from apdocs.mail.pack import write_pack
    from apdocs.roster import load_roster
    from tests.test_mail_smtp import Server

    server = Server().start()
    try:
        outputs = {}
        for name, run in (("terminal", on_a_terminal), ("piped", piped)):
            outbox = tmp_path / name
            write_pack(load_roster(ROOT / "samples" / "roster.csv"), outbox)
            outputs[name] = run("send", str(outbox), "--smtp", f"127.0.0.1:{server.port}", "--yes", "--rate", "0")
        assert len(server.inbox.received) == 6  # both runs really sent their three emails
    finally:
        server.stop()
    assert BAR.search(outputs["terminal"]), outputs["terminal"]
    assert "/3 [" in outputs["terminal"]
    assert not BAR.search(outputs["piped"])
    assert "sent 3, failed 0" in outputs["piped"]
