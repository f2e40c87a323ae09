"""Read a .docx twice - with read_scan's byte-level reading of the controls, and with it turned
off (the lxml tree route) - for differential tests: the two must give the same outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from unittest import mock

from apdocs.errors import ParseError
from apdocs.formats.docx import read as docx_read
from apdocs.parse import parse
from apdocs.record import ParsedReturn


def outcome(data: bytes, path: str) -> ParsedReturn | tuple[str, str]:
    """The record, or the error's (code, message). A fresh bytes object each time, so the second
    read never reuses the first one's package (open_package keeps the last one)."""
    try:
        return parse(bytes(memoryview(data)), path=path)
    except ParseError as exc:
        return (exc.code, exc.message)


@dataclass
class Both:
    scanned: ParsedReturn | tuple[str, str]  # read with the scan allowed
    tree: ParsedReturn | tuple[str, str]  # read with the scan turned off
    scans: list[str]  # what each scan call did: "read", "declined" or "raised"

    @property
    def engaged(self) -> bool:
        """The scan ran and gave the controls (it did not decline, nor was it skipped)."""
        return self.scans == ["read"]

    def same(self) -> bool:
        if isinstance(self.scanned, ParsedReturn) and isinstance(self.tree, ParsedReturn):
            return self.scanned == self.tree and self.scanned.to_dict() == self.tree.to_dict()
        return self.scanned == self.tree


def read_both(data: bytes, path: str = "scan.docx") -> Both:
    scans: list[str] = []
    real = docx_read.scan_controls

    def spy(raw: bytes) -> Any:
        try:
            found = real(raw)
        except Exception:
            scans.append("raised")
            raise
        scans.append("declined" if found is None else "read")
        return found

    with mock.patch.object(docx_read, "scan_controls", spy):
        scanned = outcome(data, path)
    with mock.patch.object(docx_read, "USE_SCAN", False), mock.patch.object(docx_read, "scan_controls", _never):
        tree = outcome(data, path)
    return Both(scanned, tree, scans)


def _never(raw: bytes) -> Any:
    raise AssertionError("the scan ran with USE_SCAN off")
