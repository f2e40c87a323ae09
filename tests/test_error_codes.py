"""Issue 9, item 6: every code apdocs can emit is in README, and README names no code apdocs never emits.

The codes are collected from the source with the ast module, the ways apdocs spells them:

* a class attribute ``code = "X"`` (the error classes: ``class RosterError: code = "ROSTER_INVALID"``);
* a ``code="X"`` keyword in any call (``ParseError(..., code="NOT_A_FORM")``);
* the first argument of ``_err("X", ...)`` (the package opener's helper);
* the first argument of ``Notice("X", ...)`` (warnings).

Findings (``Finding.make``) are checked separately, against the Findings table, by the reconcile tests.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def _called(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def codes_in_source() -> dict[str, set[str]]:
    """code -> the files that emit it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "apdocs").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            codes: list[str | None] = []
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                        if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                            codes.append(_constant(stmt.value))
            elif isinstance(node, ast.Call):
                codes += [_constant(k.value) for k in node.keywords if k.arg == "code"]
                if _called(node) in ("_err", "Notice") and node.args:
                    codes.append(_constant(node.args[0]))
            for code in codes:
                if code is not None:
                    found.setdefault(code, set()).add(here)
    return found


def codes_in_readme() -> set[str]:
    """Codes in the first column of README's three code tables."""
    out: set[str] = set()
    for heading in ("### Error codes", "### Warning codes", "### Other codes"):
        start = README.index(heading)
        end = README.find("\n#", start + 1)
        for line in README[start:end].splitlines():
            if line.startswith("| `"):
                out.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return out


def test_the_collector_sees_each_way_codes_are_written() -> None:
    # one known code per spelling, so a collector that silently found nothing would fail here
    source = codes_in_source()
    assert "apdocs/mail/errors.py" in source["IMAP_TLS"]  # class attribute
    assert "apdocs/parse.py" in source["FILE_NOT_FOUND"]  # code= keyword
    assert "apdocs/formats/ooxml.py" in source["DTD_FORBIDDEN"]  # _err("...")
    assert "apdocs/formats/xlsx/cell_values.py" in source["CELL_ERROR"]  # Notice("...")
    assert "FORM_UNKNOWN" in source


def test_every_code_emitted_is_documented() -> None:
    undocumented = {code: sorted(files) for code, files in codes_in_source().items() if code not in codes_in_readme()}
    assert not undocumented, f"codes missing from README's code tables: {undocumented}"


def test_every_documented_code_is_emitted() -> None:
    never = codes_in_readme() - set(codes_in_source())
    assert not never, f"README documents codes apdocs never emits: {sorted(never)}"


def test_no_raise_is_left_with_a_base_code() -> None:
    # README promises APDOCS_ERROR and PARSE_ERROR are never what a user sees: each raise names its code
    bare = []
    for path in sorted((ROOT / "apdocs").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called(node) in ("ApdocsError", "ParseError"):
                if not any(k.arg == "code" for k in node.keywords):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, f"raised with the base class's code: {bare}"
