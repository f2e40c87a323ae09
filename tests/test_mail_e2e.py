"""The whole loop offline: pack -> synthetic replies -> ingest twice -> tracker; and a kill mid-ingest."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.mail.archive import KILL_HOOK, Archive
from apdocs.mail.returns import reconcile_archive
from apdocs.roster import load_roster
from tests.mail_helpers import ROOT, SAMPLE_ROSTER

AS_OF = "2025-03-10"


def _make_replies() -> Any:
    spec = importlib.util.spec_from_file_location("make_replies", ROOT / "samples" / "make_replies.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.make_replies


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("loop")
    res = CliRunner().invoke(main, ["pack", "--roster", str(SAMPLE_ROSTER), "-o", str(base / "outbox")])
    assert res.exit_code == 0, res.output
    _make_replies()(base / "outbox", base / "replies")
    return {"base": base, "outbox": base / "outbox", "replies": base / "replies"}


def _ingest(replies: Path, archive: Path, tracker: Path) -> tuple[int, dict[str, Any]]:
    args = [
        "ingest",
        str(replies),
        "--archive",
        str(archive),
        "--roster",
        str(SAMPLE_ROSTER),
        "--tracker",
        str(tracker),
        "--as-of",
        AS_OF,
        "--json",
    ]
    res = CliRunner().invoke(main, args)
    return res.exit_code, json.loads(res.stdout)


def test_pack_replies_ingest_twice_tracker(loop: dict[str, Path], tmp_path: Path) -> None:
    archive, tracker = tmp_path / "archive", tmp_path / "tracker.xlsx"
    manifest = json.loads((loop["outbox"] / "manifest.json").read_text())
    sent_forms = [r for r in manifest["files"] if r["role"] == "form"]

    code1, first = _ingest(loop["replies"], archive, tracker)
    code2, second = _ingest(loop["replies"], archive, tracker)
    assert code1 == code2 == 1  # done, but one return could not be read

    # 5 .eml files + an mbox holding a copy of the first reply (the same message again).
    assert (first["ingest"]["messages_seen"], first["ingest"]["messages_new"], first["ingest"]["messages_known"]) == (6, 5, 1)
    assert (second["ingest"]["messages_seen"], second["ingest"]["messages_new"], second["ingest"]["messages_known"]) == (6, 0, 6)
    # Counts unchanged by the second run.
    assert first["tracker"]["returns_read"] == second["tracker"]["returns_read"] == len(sent_forms)
    assert first["tracker"]["findings"] == second["tracker"]["findings"]
    # The broken reply is listed, with its error.
    assert [Path(u["file"]).name for u in second["tracker"]["unreadable"]] == [Path(sent_forms[0]["file"]).name]
    assert second["tracker"]["unreadable"][0]["code"]

    with Archive(archive).locked() as a:
        # Every sent form came back once (the duplicate reply added no file) + the broken one.
        assert len(a.files()) == len(sent_forms) + 1
        result = reconcile_archive(a, load_roster(SAMPLE_ROSTER), as_of=dt.date.fromisoformat(AS_OF))
    # Forwarded (school 2) and zipped (school 3) replies count like direct ones.
    for pr in result.placements:
        if pr.placement.commissioned_by == "school":
            assert pr.form("appendix4").status == "received", pr.placement.label
    assert any(f.code == "RETURN_UNREADABLE" for f in result.findings)

    from openpyxl import load_workbook

    wb = load_workbook(tracker, read_only=True)
    cells = [str(c) for row in wb["Findings"].iter_rows(values_only=True) for c in row if c]
    assert any("RETURN_UNREADABLE" in c for c in cells)


def _snapshot(archive: Path) -> dict[str, str]:
    """Every archived file -> its content hash (metadata without the run's timestamp)."""
    out = {}
    for p in sorted(archive.rglob("*")):
        if not p.is_file() or p.name == ".lock":
            continue
        data = p.read_bytes()
        if p.suffix == ".json":
            meta = json.loads(data)
            meta.pop("archived_at", None)
            data = json.dumps(meta, sort_keys=True).encode()
        out[p.relative_to(archive).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def _run(replies: Path, archive: Path, tracker: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "apdocs", "ingest", str(replies), "--archive", str(archive)]
    cmd += ["--roster", str(SAMPLE_ROSTER), "--tracker", str(tracker), "--as-of", AS_OF]
    return subprocess.run(cmd, env=env, capture_output=True, timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_kill_mid_ingest_loses_and_duplicates_nothing(loop: dict[str, Path], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != KILL_HOOK}
    reference = tmp_path / "reference"
    assert _run(loop["replies"], reference, tmp_path / "ref.xlsx", env).returncode == 1
    expected = _snapshot(reference)
    writes = len(expected)  # one atomic write per archived file

    # Random kill points explore more over many local runs; CI (like Hypothesis there) is reproducible.
    # A failure names its seed: rerun it with APDOCS_KILL_SEED=<seed>.
    seed = int(os.environ.get("APDOCS_KILL_SEED") or (0 if os.environ.get("CI") else random.randrange(1 << 30)))
    points = sorted(random.Random(seed).sample(range(1, writes), 3))
    for n in points:
        archive, tracker = tmp_path / f"killed-{n}", tmp_path / f"tracker-{n}.xlsx"
        killed = _run(loop["replies"], archive, tracker, {**env, KILL_HOOK: str(n)})
        assert killed.returncode == -signal.SIGKILL, (seed, n, killed.stderr[-500:])
        assert not tracker.exists()  # killed before the tracker step
        done = _run(loop["replies"], archive, tracker, env)
        assert done.returncode == 1, (seed, n, done.stderr[-500:])
        assert _snapshot(archive) == expected, (seed, n)  # nothing lost, nothing twice, no temp files
        assert tracker.exists()
        again = _run(loop["replies"], archive, tracker, env)
        assert b"0 new" in again.stdout and _snapshot(archive) == expected
