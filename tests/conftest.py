from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.office import LibreOffice, require

# CI runs must be reproducible: the same examples every run, no wall-clock deadlines.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SOURCE_TEXT = SHARED / "source" / "letter-and-appendices.txt"


@pytest.fixture(scope="session")
def libreoffice() -> Iterator[LibreOffice]:
    lo = LibreOffice(require("soffice"))
    yield lo
    lo.close()


@pytest.fixture(scope="session")
def source_text() -> str:
    """The Virtual School letter and appendices, as shipped beside the project."""
    if not SOURCE_TEXT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"source text missing: {SOURCE_TEXT}")
        pytest.skip("source text not available beside the project")
    return SOURCE_TEXT.read_text(encoding="utf-8")
