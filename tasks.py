#!/usr/bin/env python3
"""The two Quick start commands: `python3 tasks.py demo` and `python3 tasks.py test`.

Each does its own set-up on a fresh machine: a virtualenv in .venv with apdocs and
its test dependencies (re-installed when pyproject.toml changes), and - for the
tests, when run as root on Debian - the office tools the tests drive for real.
Only the standard library is used here, since nothing else is installed yet.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".apdocs-installed"


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on whatever python3 the machine has
        sys.exit(f"apdocs needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
    STAMP.write_text(want)


def ensure_system_tools() -> None:
    """LibreOffice, poppler, Dovecot and PostgreSQL are real parts the tests drive."""
    script = ROOT / ".ci" / "install-system-deps"
    missing = [t for t in ("soffice", "pdftoppm", "dovecot") if shutil.which(t) is None]
    # Debian keeps PostgreSQL's server tools off PATH, in /usr/lib/postgresql/VERSION/bin.
    if shutil.which("initdb") is None and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("initdb")
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        run("bash", script)
    else:
        print(
            f"note: {', '.join(missing)} not found; tests that need them will be skipped "
            f"(run {script.relative_to(ROOT)} as root on Debian/Ubuntu to install them)",
            flush=True,
        )


def demo() -> None:
    ensure_venv()
    run(BIN / "python", ROOT / "samples" / "demo.py", *sys.argv[2:])


def test() -> None:
    ensure_venv()
    ensure_system_tools()
    run(BIN / "ruff", "check", "apdocs", "tests", "benchmarks", "samples", "tasks.py")
    run(BIN / "mypy", "apdocs")  # the package ships py.typed: its hints must hold
    run(BIN / "python", "-m", "pytest", *sys.argv[2:])


if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        {"demo": demo, "test": test}[task]()
    except KeyError:
        sys.exit("usage: python3 tasks.py demo|test [args...]")
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
