"""The public office files from other projects' test suites, kept beside the project in ``../shared``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real-world-office-files"


def require_corpus() -> Path:
    """The corpus folder: a test without it is skipped locally and fails under CI (where it must be)."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"real-world files missing: {CORPUS}")
        pytest.skip(f"real-world office files not available beside the project ({CORPUS})")
    return CORPUS


def real_world_docx() -> list[Path]:
    """Every Word document of the corpus (.docx, .docm, .dotx), in a fixed order."""
    files = sorted(p for p in (require_corpus() / "files").rglob("*") if p.suffix.lower() in (".docx", ".docm", ".dotx"))
    assert len(files) > 200
    return files
