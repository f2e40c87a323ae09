"""The pinned JSON contract against the code that produces it.

``source.format``: every value the code can put there is derived from the source itself (an
AST walk from each ``SourceInfo(...)`` in the code behind ``apdocs parse``, through the names
and functions that feed it), so a format someone adds is caught until README lists it; and
README lists no value the code cannot emit. Also here: what very old binaries and damaged
parts are called (LEGACY_FORMAT, PART_CORRUPT).
"""

from __future__ import annotations

import ast
import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from apdocs import api
from apdocs.errors import ParseError
from apdocs.formats import ooxml
from apdocs.parse import parse, parse_many

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The code that answers `apdocs parse`: the batch/parse module and every format reader.
SCOPE = [ROOT / "apdocs" / "parse.py", ROOT / "apdocs" / "record.py", *sorted((ROOT / "apdocs" / "formats").rglob("*.py"))]


# -- deriving source.format from the code -------------------------------------------------


class Unresolved(Exception):
    """An expression feeding source.format that this walk cannot follow."""


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef]
    imports: dict[str, tuple[str, str]]  # local name -> (module, name)


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _load(path: Path) -> Module:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    imports: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            base = node.module
            if node.level:  # relative: from .book import x
                pkg = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*pkg, node.module])
            for alias in node.names:
                imports[alias.asname or alias.name] = (base, alias.name)
    return Module(name, path, tree, functions, imports)


class Deriver:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}

    def module(self, name: str) -> Module | None:
        if name not in self.modules:
            base = ROOT / Path(*name.split("."))
            path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
            if not path.exists():
                return None
            self.modules[name] = _load(path)
        return self.modules[name]

    def function(self, mod: Module, name: str) -> tuple[Module, ast.FunctionDef]:
        if name in mod.functions:
            return mod, mod.functions[name]
        if name in mod.imports:
            other = self.module(mod.imports[name][0])
            if other is not None:
                return self.function(other, mod.imports[name][1])
        raise Unresolved(f"{mod.path.name}: function {name}()")

    def returns(self, mod: Module, fn: ast.FunctionDef, index: int | None, depth: int) -> set[str]:
        out: set[str] = set()
        for node in _own_nodes(fn):
            if isinstance(node, ast.Return) and node.value is not None:
                if index is None:
                    out |= self.values(node.value, mod, fn, depth + 1)
                else:
                    out |= self.indexed(node.value, index, mod, fn, depth + 1)
        return out

    def indexed(self, expr: ast.expr, i: int, mod: Module, fn: ast.FunctionDef | None, depth: int) -> set[str]:
        """The values element ``i`` of the tuple ``expr`` can hold."""
        where = f"{mod.path.relative_to(ROOT)}:{getattr(expr, 'lineno', '?')}"
        if depth > 12:
            raise Unresolved(f"{where}: too deep")
        if isinstance(expr, ast.Constant) and expr.value is None:
            return set()
        if isinstance(expr, ast.Tuple):
            return self.values(expr.elts[i], mod, fn, depth + 1)
        if isinstance(expr, (ast.BoolOp, ast.IfExp)):
            parts = expr.values if isinstance(expr, ast.BoolOp) else [expr.body, expr.orelse]
            return set().union(*(self.indexed(e, i, mod, fn, depth + 1) for e in parts))
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            fmod, f = self.function(mod, expr.func.id)
            return self.returns(fmod, f, i, depth + 1)
        if isinstance(expr, ast.Name) and fn is not None:
            return self.assigned(expr.id, mod, fn, depth + 1, where, index=i)
        raise Unresolved(f"{where}: element {i} of {ast.unparse(expr)}")

    def values(self, expr: ast.expr, mod: Module, fn: ast.FunctionDef | None, depth: int = 0) -> set[str]:
        where = f"{mod.path.relative_to(ROOT)}:{getattr(expr, 'lineno', '?')}"
        if depth > 12:
            raise Unresolved(f"{where}: too deep")
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                return set()
            if isinstance(expr.value, str):
                return {expr.value}
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.values(v, mod, fn, depth + 1) for v in expr.values))
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, mod, fn, depth + 1) | self.values(expr.orelse, mod, fn, depth + 1)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, (ast.Dict, ast.Name)):
            return self.mapping_values(expr.value, mod, fn, depth, where)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "get"
            and isinstance(expr.func.value, (ast.Dict, ast.Name))
        ):  # NAMES.get(kind, "unknown")
            found = self.mapping_values(expr.func.value, mod, fn, depth, where)
            return found.union(*(self.values(a, mod, fn, depth + 1) for a in expr.args[1:]))
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            fmod, f = self.function(mod, expr.func.id)
            return self.returns(fmod, f, None, depth)
        if isinstance(expr, ast.Name) and fn is not None:
            return self.assigned(expr.id, mod, fn, depth, where)
        if isinstance(expr, ast.Attribute) and expr.attr == "name":
            # fmt.name / self.name: a registered format's name (the registry is the code's own list)
            return registered_format_names()
        raise Unresolved(f"{where}: {ast.unparse(expr)}")

    def mapping_values(self, node: ast.expr, mod: Module, fn: ast.FunctionDef | None, depth: int, where: str) -> set[str]:
        """The values of a dict literal, or of a module-level name bound to one."""
        if isinstance(node, ast.Name):
            bound = [a.value for a in mod.tree.body if _binds(a, node.id)]
            if len(bound) != 1 or not isinstance(bound[0], ast.Dict):
                raise Unresolved(f"{where}: {node.id}[...] (not a module-level dict literal)")
            node = bound[0]
        assert isinstance(node, ast.Dict)
        return set().union(*(self.values(v, mod, fn, depth + 1) for v in node.values))

    def assigned(self, name: str, mod: Module, fn: ast.FunctionDef, depth: int, where: str, index: int | None = None) -> set[str]:
        """The values ``name`` (or, with ``index``, element ``index`` of it) is given in ``fn``:
        by assignment, tuple unpacking, or as a ``for`` target over a module-level table."""
        out: set[str] = set()
        found = False

        def take(value: ast.expr, i: int | None) -> set[str]:
            if i is None:
                return self.values(value, mod, fn, depth + 1) if index is None else self.indexed(value, index, mod, fn, depth + 1)
            if index is not None:
                raise Unresolved(f"{where}: nested unpacking of {name}")
            return self.indexed(value, i, mod, fn, depth + 1)

        for node in _own_nodes(fn):
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.For):
                pairs = [(node.target, elt) for elt in self.table(node.iter, mod, where)]
            else:
                continue
            for target, value in pairs:
                if isinstance(target, ast.Name) and target.id == name:
                    found = True
                    out |= take(value, None)
                elif isinstance(target, ast.Tuple):
                    ids = [t.id if isinstance(t, ast.Name) else None for t in target.elts]
                    if name in ids:
                        found = True
                        out |= take(value, ids.index(name))
        if not found:
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
            if name not in params:
                raise Unresolved(f"{where}: {name} (a global)")
            return self.passed(fn, name, depth, where)
        return out

    def table(self, node: ast.expr, mod: Module, where: str) -> list[ast.expr]:
        """The elements a ``for`` walks: a literal tuple/list, or a module-level name bound to one."""
        if isinstance(node, ast.Name):
            bound = [a.value for a in mod.tree.body if _binds(a, node.id)]
            if len(bound) == 1 and bound[0] is not None:
                node = bound[0]
        if isinstance(node, (ast.Tuple, ast.List)):
            return list(node.elts)
        return []  # a loop over anything else binds nothing this walk can name

    def passed(self, fn: ast.FunctionDef, name: str, depth: int, where: str) -> set[str]:
        """What every caller in scope passes as parameter ``name`` of ``fn``."""
        positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        out: set[str] = set()
        calls = 0
        for mod in list(self.modules.values()):
            parents = {c: p for p in ast.walk(mod.tree) for c in ast.iter_child_nodes(p)}
            for call in ast.walk(mod.tree):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                if not (
                    (isinstance(func, ast.Name) and func.id == fn.name)
                    or (isinstance(func, ast.Attribute) and func.attr == fn.name)
                ):
                    continue
                arg = next((k.value for k in call.keywords if k.arg == name), None)
                if arg is None and name in positional:
                    i = positional.index(name) - (isinstance(func, ast.Attribute) and positional[:1] == ["self"])
                    arg = call.args[i] if 0 <= i < len(call.args) else None
                if arg is None:
                    continue
                calls += 1
                caller = _enclosing(call, parents)
                out |= self.values(arg, mod, caller, depth + 1)
        if not calls:
            raise Unresolved(f"{where}: {name} (a parameter no caller in scope passes)")
        return out


def _enclosing(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.FunctionDef | None:
    cur: ast.AST | None = node
    while cur is not None and not isinstance(cur, ast.FunctionDef):
        cur = parents.get(cur)
    return cur


def registered_format_names() -> set[str]:
    """Every name in the format registry (``apdocs.formats``), renderable or read-only."""
    from apdocs import formats

    names = set(formats.names())
    read_only = getattr(formats, "read_only_names", None)  # readers that render nothing, where present
    return names | set(read_only() if callable(read_only) else ())


def _binds(stmt: ast.stmt, name: str) -> bool:
    """Whether a module-level statement assigns ``name`` (``X = ...`` or ``X: T = ...``)."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _own_nodes(fn: ast.FunctionDef) -> list[ast.AST]:
    """The function's nodes, without those of functions defined inside it."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, (ast.FunctionDef, ast.Lambda)))
    return out


def _format_arg(call: ast.Call) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == "format":
            return kw.value
    return call.args[2] if len(call.args) >= 3 else None


def derived_formats() -> set[str]:
    deriver = Deriver()
    for path in SCOPE:  # loaded first: a parameter is resolved at every call site in scope
        deriver.module(_module_name(path))
    out: set[str] = set()
    problems: list[str] = []
    for path in SCOPE:
        mod = deriver.module(_module_name(path))
        assert mod is not None
        parents = {c: p for p in ast.walk(mod.tree) for c in ast.iter_child_nodes(p)}
        for call in ast.walk(mod.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "SourceInfo"):
                continue
            arg = _format_arg(call)
            if arg is None:
                problems.append(f"{path.name}:{call.lineno}: SourceInfo without a format")
                continue
            try:
                out |= deriver.values(arg, mod, _enclosing(call, parents))
            except Unresolved as exc:
                problems.append(str(exc))
    assert not problems, (
        "source.format is fed by code this test cannot follow; give it a literal, or a function "
        f"returning literals, so the contract stays checkable: {problems}"
    )
    return out


def readme_formats() -> tuple[set[str], set[str]]:
    """(the pinned line's values, the values the table explains)."""
    text = README.read_text(encoding="utf-8")
    pinned = re.search(r'"format": "([a-z0-9]+(?:\|[a-z0-9]+)+)"', text)
    assert pinned, 'README pins source.format as "format": "a|b|..." in the failure example'
    table = text.split("### `source.format`", 1)[1].split("\n### ", 1)[0]
    explained = {v for row in re.findall(r"^\| (`[^|]+`) \|", table, re.M) for v in re.findall(r"`([^`]+)`", row)}
    return set(pinned.group(1).split("|")), explained


def test_the_deriver_sees_what_the_readers_emit():
    # Sanity of the walk itself: the two formats every reader emits, and sniff()'s values.
    found = derived_formats()
    assert {"docx", "xlsx", "unknown", "zip", "pdf", "ole2"} <= found


def _formats_in(source: str) -> set[str]:
    tree = ast.parse(source)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    mod = Module("synthetic", ROOT / "synthetic.py", tree, functions, {})
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "SourceInfo")
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and call in list(ast.walk(n)))
    arg = _format_arg(call)
    assert arg is not None
    deriver = Deriver()
    deriver.modules["synthetic"] = mod
    return deriver.values(arg, mod, fn)


def test_the_deriver_follows_what_a_new_reader_might_write():
    # a literal, a helper's returns, a module-level table: each new value is seen
    assert _formats_in("def read(p, d):\n    return SourceInfo(p, d, 'odt')") == {"odt"}
    helper = "KINDS = {'a': 'ods', 'b': 'odt'}\ndef kind(x):\n    return KINDS.get(x, 'unknown')\n"
    assert _formats_in(helper + "def read(p, d):\n    return SourceInfo(p, d, format=kind(d))") == {"ods", "odt", "unknown"}
    # a parameter: what its callers pass; a format object's .name: the registry's names
    caller = "def pdf(d):\n    return shared(None, d, 'pdf')\ndef odt(d):\n    return shared(None, d, fmt='odt')\n"
    assert _formats_in("def shared(p, d, fmt):\n    return SourceInfo(p, d, fmt)\n" + caller) == {"pdf", "odt"}
    assert _formats_in("def read(self, p, d):\n    return SourceInfo(p, d, self.name)") == registered_format_names()
    # unpacking a helper's tuple, found by a loop over a module-level table
    table = "KINDS = ((b'<w', 'wordml', 'docx'), (b'<o', 'fodt', 'docx'))\n"
    kind = (
        "def kind(d):\n    for marker, name, target in KINDS:\n"
        "        if marker in d:\n            return name, target\n    return None\n"
    )
    read = "def read(p, d):\n    k = kind(d)\n    name, target = k\n    return SourceInfo(p, d, name)\n"
    assert _formats_in(table + kind + read) == {"wordml", "fodt"}
    # what it cannot follow fails loudly rather than being skipped
    with pytest.raises(Unresolved):
        _formats_in("def read(self, p, d):\n    return SourceInfo(p, d, self.kind)")


def test_every_source_format_the_code_emits_is_pinned_in_readme_and_nothing_more():
    pinned, explained = readme_formats()
    found = derived_formats()
    assert found - pinned == set(), f"README's pinned source.format is missing {sorted(found - pinned)}"
    assert pinned - found == set(), f"README pins source.format values the code never emits: {sorted(pinned - found)}"
    assert explained == pinned, f"the source.format table and the pinned line differ: {sorted(explained ^ pinned)}"


def test_error_codes_raised_here_are_in_readme():
    # The full check of every code is elsewhere; these are the codes this review added or moved.
    text = README.read_text(encoding="utf-8")
    for code in ("TEXT_TOO_LARGE", "LEGACY_FORMAT", "PART_CORRUPT"):
        assert f"`{code}`" in text


# -- very old binaries and damaged parts ----------------------------------------------------

# First bytes of real files of each kind (the header record only; the rest is padding).
OLD_BINARIES = {
    "word2.doc": (b"\xdb\xa5\x2d\x00\x31\x40\x09\x04" + b"\0" * 504, "doc"),
    "word1.doc": (b"\x9b\xa5\x21\x00" + b"\0" * 508, "doc"),
    "word-dos.doc": (b"\x31\xbe\x00\x00\x00\xab" + b"\0" * 506, "doc"),
    "excel2.xls": (b"\x09\x00\x04\x00\x02\x00\x10\x00" + b"\0" * 504, "xls"),
    "excel3.xls": (b"\x09\x02\x06\x00\x00\x00\x10\x00" + b"\0" * 504, "xls"),
    "excel4.xlsx": (b"\x09\x04\x06\x00\x00\x00\x10\x00" + b"\0" * 504, "xls"),  # misnamed: the bytes decide
}


@pytest.mark.parametrize("name", sorted(OLD_BINARIES))
def test_very_old_binaries_are_legacy_format(name, tmp_path):
    data, kind = OLD_BINARIES[name]
    with pytest.raises(ParseError) as info:
        parse(data, path=name)
    assert info.value.code == "LEGACY_FORMAT"
    assert (".docx" if kind == "doc" else ".xlsx") in info.value.message
    (tmp_path / name).write_bytes(data)
    [failure] = list(parse_many([tmp_path / name]))
    assert failure.source.format == kind and failure.error.code == "LEGACY_FORMAT"


def _deflated_part_longer_than_declared(data: bytes, part: str, extra: int) -> bytes:
    """Declare ``part`` ``extra`` bytes shorter than it is (central directory and local header):
    the damage a bad copy or a hand-patched zip leaves, not a bomb."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(part)
    struct.pack_into("<I", buf, info.header_offset + 22, info.file_size - extra)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if buf[pos + 46 : pos + 46 + n].decode() == part:
            struct.pack_into("<I", buf, pos + 24, info.file_size - extra)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


@pytest.mark.parametrize("fmt, part", [("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml")])
def test_a_part_a_few_bytes_longer_than_declared_is_corrupt_not_a_bomb(fmt, part):
    good = api.render_form("appendix4", fmt, {"q1": "A synthetic answer."})
    with pytest.raises(ParseError) as info:
        parse(_deflated_part_longer_than_declared(good, part, 7), path=f"damaged.{fmt}")
    assert info.value.code == "PART_CORRUPT", info.value


def test_a_part_far_longer_than_declared_is_still_a_bomb():
    good = api.render_form("appendix4", "docx", {})
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        size = zf.getinfo("word/document.xml").file_size
    # XML allows trailing white space: the part is well-formed, but its headers hide 128 KB.
    padded = _rezip_with(good, "word/document.xml", lambda raw: raw + b" " * (2 * ooxml.CORRUPT_SLACK))
    with pytest.raises(ParseError) as info:
        parse(_deflated_part_longer_than_declared(padded, "word/document.xml", 2 * ooxml.CORRUPT_SLACK), path="lying.docx")
    assert info.value.code == "ZIP_BOMB" and size > 0


def _rezip_with(data: bytes, part: str, fn: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            raw = zin.read(info.filename)
            zout.writestr(info.filename, fn(raw) if info.filename == part else raw)
    return out.getvalue()
