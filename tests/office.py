"""Drive the real LibreOffice (soffice) headless for tests: convert and re-save."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require(tool: str) -> str:
    """Path of ``tool``; skip locally when missing, but fail under CI where it must exist."""
    path = soffice_path() if tool == "soffice" else shutil.which(tool)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is required in CI but was not found")
    pytest.skip(f"{tool} not installed")


class LibreOffice:
    """One private LibreOffice profile per test session, so runs never collide."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.profile = Path(tempfile.mkdtemp(prefix="apdocs-lo-"))

    def convert(self, files: list[Path], to: str, outdir: Path, *, timeout: int = 240) -> list[Path]:
        """Convert ``files`` with ``--convert-to to`` (e.g. "pdf", "docx", "docx:MS Word 2007 XML").

        Returns the output paths in input order; raises if any is missing.
        """
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.binary,
            f"-env:UserInstallation=file://{self.profile}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            *[str(f) for f in files],
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        ext = to.split(":")[0]
        outs = [outdir / (Path(f).stem + "." + ext) for f in files]
        missing = [o for o in outs if not o.exists()]
        if missing:
            raise AssertionError(f"LibreOffice did not produce {missing}: {proc.stdout}\n{proc.stderr}")
        return outs

    def close(self) -> None:
        shutil.rmtree(self.profile, ignore_errors=True)
