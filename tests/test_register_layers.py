"""The register sits between reports and reconcile: nothing below it may import it, and it imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APDOCS = Path(__file__).resolve().parents[1] / "apdocs"
ABOVE_REGISTER = ("apdocs.reports", "apdocs.mail", "apdocs.cli")


def _imports(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((str(path.relative_to(APDOCS)), node.module))
            elif isinstance(node, ast.Import):
                found += [(str(path.relative_to(APDOCS)), a.name) for a in node.names]
    return found


@pytest.mark.parametrize("below", ["reconcile", "formats", "forms"])
def test_nothing_below_the_register_imports_it(below: str) -> None:
    assert [(f, m) for f, m in _imports(APDOCS / below) if m.startswith(("apdocs.register", *ABOVE_REGISTER))] == []


def test_the_register_imports_nothing_above_it() -> None:
    assert [(f, m) for f, m in _imports(APDOCS / "register") if m.startswith(ABOVE_REGISTER)] == []
