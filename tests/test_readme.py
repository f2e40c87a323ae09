"""The README's promises: two Quick start commands, and a library example that runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.M | re.S)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def test_quick_start_is_exactly_two_commands() -> None:
    block = re.search(r"```\w*\n(.*?)```", _section("Quick start"), re.S)
    assert block
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["python3 tasks.py demo", "python3 tasks.py test"]


def test_library_example_runs(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", _section("Library example"), re.S)
    assert code
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    (tmp_path / "out").mkdir()
    proc = subprocess.run([sys.executable, "-c", code.group(1)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "tracker.xlsx").stat().st_size > 0
    assert "RETURN_MISSING" in proc.stdout  # the sample roster has placements with no returns


def test_package_docstring_example_runs() -> None:
    """The example a newcomer sees first (``help(apdocs)``), run as written from the repository root."""
    import apdocs

    doc = apdocs.__doc__ or ""
    block = doc.split("::\n", 1)[1]
    lines = [line[4:] for line in block.splitlines() if line.startswith("    ") or not line.strip()]
    code = "\n".join(lines).strip()
    assert "apdocs.reconcile(" in code
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("appendix4 ") and "findings" in proc.stdout
