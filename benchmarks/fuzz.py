"""Fuzz ``apdocs.parse`` with mutated samples and blanks, and check what it promises.

Every case is made from one seed file (the bundled sample returns, plus each form rendered
blank and filled, in Word and Excel) by one mutation, chosen by a fixed seed, at one of
three levels:

* zip: flipped bytes, truncation, duplicate entries, wrong CRCs, huge declared sizes, odd
  compression methods and "version needed" values, missing and extra parts;
* XML: elements deleted, duplicated or nested 10^4 deep, swapped tags, strange Unicode,
  huge attributes, cell references moved;
* values: dates, numbers and text that cannot be what they claim (inf, nan, 1e400,
  31/02/2020, a serial past 9999, a Yes/No of "2", Excel escapes of lone surrogates ...).

Each case runs in a worker process limited to 10 s and 1 GiB of address space
(``RLIMIT_AS``). The invariants:

1. no exception escapes ``parse``: it returns a record or raises ``ParseError``;
2. every error and warning code is one README documents;
3. the answers' keys are exactly the form's schema ids, and each value has its slot's
   documented type (text/date/choice: str; Yes/No: bool; amount and hours: a finite number,
   or the text as typed when unreadable; any of them null);
4. the ``--json`` output of the case parses under a strict parser (no NaN, no Infinity) and
   encodes as UTF-8.

It prints the counts of escaped exceptions, hangs, memory overruns and invariant breaks, and
the READ_FAILED rate (the "unexpected failure" code; the target is below 0.1 %).

Run: python benchmarks/fuzz.py [--cases 10000] [--seed 9] [--jobs 2] [--save DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import random
import re
import struct
import sys
import time
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _in_venv() -> None:
    """Run under the project's .venv when started by a python without apdocs (``python3 benchmarks/fuzz.py``)."""
    try:
        import lxml  # noqa: F401

        import apdocs  # noqa: F401
    except ImportError:
        venv = ROOT / ".venv" / "bin" / "python"
        if venv.exists() and Path(sys.executable).absolute() != venv.absolute():
            os.execv(venv, [str(venv), __file__, *sys.argv[1:]])
        raise


if __name__ == "__main__":
    _in_venv()

from lxml import etree  # noqa: E402 - after the venv check above

#: Environment variable naming a folder of extra seed files (set by --seeds, inherited by the workers).
EXTRA_SEEDS = "APDOCS_FUZZ_SEEDS"
CASE_SECONDS = 10
MEMORY_BYTES = 1 << 30

# -- seeds -------------------------------------------------------------------------------


@cache
def seeds() -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) of every seed file, in a fixed order."""
    from apdocs.api import render_form
    from apdocs.forms import FORM_IDS, load_form

    out: list[tuple[str, bytes]] = []
    # fuzz_seeds/: every form, filled, re-saved by LibreOffice (shared strings, its own XML habits)
    folders = [ROOT / "samples" / "returns", ROOT / "benchmarks" / "fuzz_seeds"]
    if os.environ.get(EXTRA_SEEDS):  # --seeds DIR: e.g. returns re-saved by LibreOffice
        folders.append(Path(os.environ[EXTRA_SEEDS]))
    for folder in folders:
        for p in sorted(folder.iterdir()):
            if p.suffix in (".docx", ".xlsx"):
                out.append((p.name, p.read_bytes()))
    for form_id in FORM_IDS:
        form = load_form(form_id)
        filled = _filled(form)
        for fmt in ("docx", "xlsx"):
            out.append((f"blank-{form_id}.{fmt}", _frozen(render_form(form_id, fmt, {}))))
            out.append((f"filled-{form_id}.{fmt}", _frozen(render_form(form_id, fmt, filled))))
        # the routes with no markers to lean on: controls unwrapped at an unknown version (read by
        # wording), and a workbook whose answer cells lost their names
        out.append((f"unwrapped-{form_id}.docx", _unwrapped(_frozen(render_form(form_id, "docx", filled)))))
        out.append((f"unnamed-{form_id}.xlsx", _unnamed(_frozen(render_form(form_id, "xlsx", filled)))))
    return tuple(out)


_STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")


def _frozen(data: bytes) -> bytes:
    """A rendered form with its creation time (core properties, zip entry dates) fixed, so case N
    is the same file whenever and wherever it is made."""
    return _zip([(n, _STAMP.sub(b"2024-01-01T00:00:00Z", raw) if n == "docProps/core.xml" else raw) for n, raw in _members(data)])


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _unwrapped(data: bytes) -> bytes:
    """Every content control replaced by its content, the version made unknown."""
    members = []
    for name, raw in _members(data):
        if name == "word/document.xml":
            root = etree.fromstring(raw)
            for sdt in list(root.iter(f"{_W}sdt")):
                content, parent = sdt.find(f"{_W}sdtContent"), sdt.getparent()
                if parent is None:
                    continue
                at = parent.index(sdt)
                for child in reversed(list(content) if content is not None else []):
                    parent.insert(at, child)
                parent.remove(sdt)
            raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        elif name == "docProps/custom.xml":
            raw = raw.replace(b">1.0<", b">0.9<")
        members.append((name, raw))
    return _zip(members)


def _unnamed(data: bytes) -> bytes:
    """The workbook's defined names and its ``_apdocs`` sheet dropped: answer cells found by wording."""

    def strip(raw: bytes) -> bytes:
        raw = re.sub(rb"<definedNames>.*?</definedNames>", b"", raw, flags=re.S)
        return re.sub(rb'<sheet [^>]*name="_apdocs"[^>]*/>', b"", raw)

    return _zip([(n, strip(raw) if n == "xl/workbook.xml" else raw) for n, raw in _members(data)])


def _filled(form: Any) -> dict[str, Any]:
    import datetime as dt

    values: dict[str, Any] = {}
    for slot in form.slots():
        if slot.type == "date":
            values[slot.id] = dt.date(2024, 3, 12)
        elif slot.type == "bool":
            values[slot.id] = True
        elif slot.type in ("money", "number"):
            values[slot.id] = 25 if slot.id == "hours_per_week" else 10_000_000
        elif slot.type == "choice":
            values[slot.id] = slot.choices[0]
        else:
            values[slot.id] = f"Synthetic answer for {slot.id}.\nSecond line."
    return values


# -- zip plumbing ---------------------------------------------------------------------------


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names one mutation makes
        for name, raw in members:
            # a duplicate name is the point of one mutation; zipfile only warns about it
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), raw, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _central_records(data: bytes) -> list[int]:
    """Offsets of the central directory records (PK\\x01\\x02) of an intact zip."""
    out, pos = [], data.find(b"PK\x01\x02")
    while pos >= 0:
        out.append(pos)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return out


def _patch(data: bytearray, offset: int, fmt: str, value: int) -> None:
    if 0 <= offset and offset + struct.calcsize(fmt) <= len(data):
        struct.pack_into(fmt, data, offset, value)


def _header_patch(rng: random.Random, data: bytes, field_name: str) -> tuple[bytes, str]:
    """Change one field of one entry's central and/or local header."""
    buf = bytearray(data)
    records = _central_records(data)
    if not records:
        return data, "no-central-directory"
    cd = rng.choice(records)
    local = struct.unpack_from("<I", buf, cd + 42)[0]
    where = rng.choice(("central", "local", "both"))
    # (central offset, local offset, struct format, candidate values)
    fields = {
        "crc": (16, 14, "<I", [rng.getrandbits(32), 0, 0xFFFFFFFF]),
        "size": (24, 22, "<I", [0xFFFFFFFF, 0xFFFFFFF0, 10**9, 0, 1, rng.getrandbits(31)]),
        "csize": (20, 18, "<I", [0xFFFFFFFF, 0, 1, rng.getrandbits(20)]),
        "method": (10, 8, "<H", [1, 6, 9, 12, 14, 93, 95, 98, 99, 0xFFFF]),
        "version": (6, 4, "<H", [63, 0xFF, 0x3F3F, 0xFFFF, 45, 51]),
        "flags": (8, 6, "<H", [0x1, 0x8, 0x40, 0x800, 0x2000, 0xFFFF]),
        "offset": (42, None, "<I", [0, 1, 0xFFFFFFFF, rng.randrange(len(data))]),
        "namelen": (28, 26, "<H", [0, 0xFFFF, rng.randrange(300)]),
    }
    c_off, l_off, fmt, choices = fields[field_name]
    value = rng.choice(choices)
    if where in ("central", "both"):
        _patch(buf, cd + c_off, fmt, value)
    if where in ("local", "both") and l_off is not None:
        _patch(buf, local + l_off, fmt, value)
    return bytes(buf), f"{field_name}={value:#x}@{where}"


def zip_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.choice(
        (
            "flip",
            "flip",
            "truncate",
            "duplicate",
            "crc",
            "size",
            "csize",
            "method",
            "version",
            "flags",
            "offset",
            "namelen",
            "missing",
            "extra",
            "eocd",
        )
    )
    if kind == "flip":
        buf = bytearray(data)
        n = rng.choice((1, 2, 8, 64))
        for _ in range(n):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        return bytes(buf), f"zip:flip{n}"
    if kind == "truncate":
        cut = rng.randrange(len(data))
        return data[:cut], f"zip:truncate@{cut}"
    if kind in ("duplicate", "missing", "extra"):
        members = _members(data)
        i = rng.randrange(len(members))
        if kind == "duplicate":
            twin = (members[i][0], members[i][1] if rng.random() < 0.5 else rng.randbytes(64))
            if rng.random() < 0.5:
                twin = (twin[0].upper(), twin[1])  # OPC names compare case-insensitively
            members.insert(rng.randrange(len(members) + 1), twin)
            return _zip(members), f"zip:duplicate {members[i][0]}"
        if kind == "missing":
            gone = members.pop(i)
            return _zip(members), f"zip:missing {gone[0]}"
        extra = rng.choice(
            (
                ("word/evil.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
                ("customXml/item9.xml", b"<x>" + b"<y/>" * 50_000 + b"</x>"),
                ("../../escape.txt", b"outside"),
                ("/abs/path.xml", b"<x/>"),
                ("xl/worksheets/sheet99.xml", b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'),
                ("word/media/image1.png", rng.randbytes(2048)),
                ("dir/", b""),
                ("\u00e9\u00e8/\u2603.xml", b"<x/>"),
            )
        )
        members.insert(rng.randrange(len(members) + 1), extra)
        return _zip(members), f"zip:extra {extra[0]}"
    if kind == "eocd":
        buf = bytearray(data)
        pos = data.rfind(b"PK\x05\x06")
        field_off, value = rng.choice(((10, 0xFFFF), (8, 0), (12, 0xFFFFFFFF), (16, 0xFFFFFFFF), (16, 0), (20, 0xFFFF)))
        _patch(buf, pos + field_off, "<H" if field_off in (8, 10, 20) else "<I", value)
        return bytes(buf), f"zip:eocd+{field_off}={value:#x}"
    out, what = _header_patch(rng, data, kind)
    return out, f"zip:{what}"


# -- XML level ------------------------------------------------------------------------------

#: Text a school or a broken tool could put anywhere.
STRANGE = (
    "\u202eevil\u202c",
    "\U0001f469\u200d\U0001f467",
    "_xD800_",
    "_xDFFF_lone",
    "_x0000_",
    "_x005F_xD800_",
    "e\u0301\u0301\u0301",
    "\ufeff\u200b\u00ad",
    "\ufffd\uffff",
    "\U0010fffd",
    "=cmd|' /C calc'!A0",
    "A" * 100_000,
    "\u0661\u0662/\u0660\u0663/\u0662\u0660\u0662\u0660",
    "\t\n\r" * 100,
)


def _main_parts(names: list[str]) -> list[str]:
    wanted = [n for n in names if n in ("word/document.xml", "xl/workbook.xml", "docProps/custom.xml")]
    wanted += [n for n in names if n.startswith("xl/worksheets/") or n.startswith("xl/sharedStrings")]
    return wanted


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def xml_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    members = _members(data)
    names = [n for n, _ in members]
    xml_names = [n for n in names if n.endswith((".xml", ".rels"))]
    main = _main_parts(names)
    part = rng.choice(main) if main and rng.random() < 0.8 else rng.choice(xml_names)
    index = names.index(part)
    root = etree.fromstring(members[index][1])
    elements = _elements(root)
    kind = rng.choice(("delete", "duplicate", "nest", "swap", "unicode", "attribute", "cellref", "rawbytes", "textflip"))
    if kind == "textflip":
        # bytes flipped inside the XML itself, re-zipped with a good checksum: the damage reaches the parser
        buf = bytearray(members[index][1])
        for _ in range(rng.choice((1, 4, 32))):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        members[index] = (part, bytes(buf))
        return _zip(members), f"xml:{part}:textflip"
    if kind == "rawbytes":
        raw = members[index][1]
        junk = rng.choice((b"&#x0;", b"&#xD800;", b"\xff\xfe", b"<", b"&undefined;", b"]]>", b"\x00", b"&#1114112;"))
        at = rng.randrange(len(raw))
        members[index] = (part, raw[:at] + junk + raw[at:])
        return _zip(members), f"xml:{part}:rawbytes {junk!r}"
    target = rng.choice(elements[1:] or elements)
    parent = target.getparent()
    if kind == "delete" and parent is not None:
        parent.remove(target)
    elif kind == "duplicate" and parent is not None:
        for _ in range(rng.choice((1, 2, 100))):
            parent.insert(parent.index(target), _copy(target))
    elif kind == "nest" and parent is not None:
        depth = rng.choice((40, 120, 250, 10_000))  # under and over libxml2's own depth limit
        outer = inner = etree.Element(target.tag)
        for _ in range(depth - 1):
            inner = etree.SubElement(inner, target.tag)
        inner.append(_copy(target))
        parent.replace(target, outer)
    elif kind == "swap" and len(elements) > 2:
        other = rng.choice(elements[1:])
        target.tag, other.tag = other.tag, target.tag
    elif kind == "unicode":
        texts = [e for e in elements if e.text and e.text.strip()] or elements
        chosen = rng.choice(texts)
        strange = rng.choice(STRANGE)
        chosen.text = strange if rng.random() < 0.5 else (chosen.text or "") + strange
    elif kind == "attribute":
        value = rng.choice(("x" * 1_000_000, "9" * 5000, "-1", "\u202e", "A1:XFD1048576", "2020-02-30T00:00:00Z"))
        attrs = list(target.attrib)
        target.set(rng.choice(attrs) if attrs and rng.random() < 0.7 else "huge", value)
    elif kind == "cellref":
        refs = [e for e in elements if "r" in e.attrib] or elements
        moved = rng.choice(refs)
        moved.set("r", rng.choice(("A0", "XFD1048577", "ZZZZ1", "B" + "9" * 30, "", "A1", "C6", "$A$1", "1A", "a\u0661")))
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    members[index] = (part, raw)
    return _zip(members), f"xml:{part}:{kind}"


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


# -- value level ---------------------------------------------------------------------------

IMPOSSIBLE_TEXT = (
    "31/02/2020",
    "00/00/0000",
    "29/02/2021",
    "12/13/2020",
    "2020-99-99",
    "9999-12-31T25:61:61Z",
    "1e400",
    "9" * 400,
    "-£5,000,000",
    "£" + "1," * 1000,
    "NaN",
    "inf",
    "-0",
    "Yes No Yes No",
    "☒ Yes ☒ No",
    "2",
    "Outstanding Inadequate",
    "_xD800_",
    "\u0000",
    "\U0001f600" * 1000,
)
IMPOSSIBLE_CELLS = (
    "<v>inf</v>",
    "<v>-inf</v>",
    "<v>nan</v>",
    "<v>1e309</v>",
    "<v>-1e308</v>",
    "<v>2958466</v>",
    "<v>-1</v>",
    "<v>" + "9" * 5000 + "</v>",
    "<v>0x10</v>",
)


def value_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    members = _members(data)
    names = [n for n, _ in members]
    if "word/document.xml" in names:
        index = names.index("word/document.xml")
        raw = members[index][1].decode("utf-8")
        kind = rng.choice(("text", "fulldate", "checkbox"))
        if kind == "text":
            spots = [m.start(1) for m in re.finditer(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", raw)]
            for _ in range(rng.choice((1, 5, 30))):
                at = rng.choice(spots)
                end = raw.index("<", at)
                raw = raw[:at] + _xml_text(rng.choice(IMPOSSIBLE_TEXT)) + raw[end:]
                spots = [m.start(1) for m in re.finditer(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", raw)]
        elif kind == "fulldate":
            junk = rng.choice(("9999-99-99T00:00:00Z", "", "0000-00-00", "2020-02-30T00:00:00Z", "x" * 1000, "-5000-01-01"))
            raw = re.sub(r'(<w:date)(?: w:fullDate="[^"]*")?', lambda m: f'{m.group(1)} w:fullDate="{junk}"', raw)
        else:
            raw = re.sub(r'w14:val="[01]"', lambda m: f'w14:val="{rng.choice(("2", "-1", "yes", ""))}"', raw)
        members[index] = ("word/document.xml", raw.encode("utf-8"))
        return _zip(members), f"value:docx:{kind}"
    sheets = [i for i, n in enumerate(names) if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    index = rng.choice(sheets)
    raw = members[index][1].decode("utf-8")
    kind = rng.choice(("number", "text", "bool", "shared", "date"))
    cells = list(re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>.*?</c>)', raw, re.S))
    for _ in range(rng.choice((1, 5, 40))):
        if not cells:
            break
        m = rng.choice(cells)
        ref, style = m.group(1), re.search(r's="\d+"', m.group(2))
        s = f" {style.group(0)}" if style else ""
        if kind == "number":
            new = f'<c r="{ref}"{s}>{rng.choice(IMPOSSIBLE_CELLS)}</c>'
        elif kind == "text":
            new = f'<c r="{ref}"{s} t="inlineStr"><is><t>{_xml_text(rng.choice(IMPOSSIBLE_TEXT))}</t></is></c>'
        elif kind == "bool":
            new = f'<c r="{ref}"{s} t="b"><v>{rng.choice(("2", "-1", "yes", ""))}</v></c>'
        elif kind == "shared":
            new = f'<c r="{ref}"{s} t="s"><v>{rng.choice(("999999", "-1", "1e3", "x"))}</v></c>'
        else:
            new = f'<c r="{ref}"{s} t="d"><v>{rng.choice(("2020-02-30", "99999-01-01", "", "T", "2020-13-01T00:00"))}</v></c>'
        raw = raw[: m.start()] + new + raw[m.end() :]
        cells = list(re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>.*?</c>)', raw, re.S))
    members[index] = (names[index], raw.encode("utf-8"))
    return _zip(members), f"value:xlsx:{kind}"


def _xml_text(text: str) -> str:
    """``text`` as XML character data; characters XML cannot hold become Excel-style escapes."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)


# -- cases ---------------------------------------------------------------------------------

LEVELS = (("zip", zip_mutation), ("xml", xml_mutation), ("value", value_mutation))


def make_case(index: int, seed: int = 9) -> tuple[str, bytes]:
    """Case ``index`` of the run with ``seed``: (a name saying what was done, the mutated bytes).

    The same (index, seed) always gives the same case, in any process.
    """
    rng = random.Random(f"apdocs-fuzz:{seed}:{index}")
    seed_name, data = rng.choice(seeds())
    level, mutate = LEVELS[index % len(LEVELS)]
    try:
        before = ""
        below = LEVELS[index % len(LEVELS) + 1 :]
        if below and rng.random() < 0.25:
            # stacked: a bad value inside a damaged tree, or a damaged tree inside a damaged zip
            data, before = rng.choice(below)[1](rng, data)
            before += " + "
        mutated, what = mutate(rng, data)
        what = before + what
    except (ValueError, etree.XMLSyntaxError, zipfile.BadZipFile, IndexError) as exc:
        # a mutation that cannot apply to this seed (nothing to change): the seed itself, named so
        return f"{index}:{seed_name}:{level}:not-applied({type(exc).__name__})", data
    suffix = Path(seed_name).suffix
    return f"{index}:{seed_name}:{what}{suffix}", mutated


# -- invariants ------------------------------------------------------------------------------


@cache
def documented_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(error codes, warning codes) from README's two parse tables."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")

    def table(heading: str) -> frozenset[str]:
        start = text.index(heading)
        end = text.find("\n### ", start + 1)
        body = text[start : end if end > 0 else None]
        codes: set[str] = set()
        for line in body.splitlines():
            if line.startswith("| `"):
                codes.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
        return frozenset(codes)

    return table("### Error codes"), table("### Warning codes")


_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "choice": (str,),
    "date": (str,),  # ISO, or the text as typed when it is no date (DATE_UNREADABLE)
    "bool": (bool,),
    "money": (int, float, str),  # a number, or the text as typed (MONEY_UNREADABLE)
    "number": (int, float, str),
}


def check_record(record: Any) -> list[str]:
    """Invariant 3 for one record: the problems found (empty when it holds)."""
    import math

    from apdocs.forms import load_form
    from apdocs.record import build_answers, flatten_answers

    problems: list[str] = []
    form = load_form(record.form)
    header0, answers0 = build_answers(form, {})
    if _shape(answers0) != _shape(record.answers):
        problems.append("answer keys are not the form's schema ids")
        return problems
    if set(record.header) != set(header0):
        problems.append("header keys are not the form's header ids")
        return problems
    flat = flatten_answers(form, record.header, record.answers)
    for slot in form.slots():
        value = flat.get(slot.id)
        if value is None:
            continue
        allowed = _TYPES.get(slot.type, (str,))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            problems.append(f"{slot.id}: {type(value).__name__} is not a documented {slot.type} value")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{slot.id}: a non-finite number")
    return problems


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return None


def _strict_loads(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@dataclass
class Outcome:
    """What one case did."""

    name: str
    status: str  # "ok", "error", "escaped", "hang", "memory", "crash", "invariant"
    code: str | None = None
    detail: str = ""
    warnings: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)


def run_case(name: str, data: bytes) -> Outcome:
    """Parse one case in this process and check every invariant."""
    from apdocs.errors import ParseError
    from apdocs.parse import parse
    from apdocs.record import ParseFailure, SourceInfo
    from apdocs.record_scrub import strict_json

    errors, warnings = documented_codes()
    try:
        record = parse(data, path=name)
    except ParseError as exc:
        if exc.code == "MEMORY_LIMIT":
            return Outcome(name, "memory", exc.code)
        problems = [] if exc.code in errors else [f"undocumented error code {exc.code}"]
        failure = ParseFailure(SourceInfo(name, "", "unknown"), exc)
        problems += _json_problems(strict_json(failure.to_dict()))
        return Outcome(name, "invariant" if problems else "error", exc.code, problems=problems)
    except BaseException as exc:  # an escaped exception is what this counts
        return Outcome(name, "escaped", None, detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    problems = [f"undocumented warning code {w.code}" for w in record.warnings if w.code not in warnings]
    problems += check_record(record)
    problems += _json_problems(strict_json(record.to_dict()))
    codes = tuple(sorted({w.code for w in record.warnings}))
    return Outcome(name, "invariant" if problems else "ok", problems=problems, warnings=codes)


def _json_problems(text: str) -> list[str]:
    try:
        text.encode("utf-8")
        _strict_loads(text)
    except (ValueError, UnicodeEncodeError) as exc:
        return [f"--json output is not strict JSON: {type(exc).__name__}"]
    return []


# -- workers ----------------------------------------------------------------------------


def _worker(conn: Any, seed: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    import logging

    logging.disable(logging.CRITICAL)
    seeds()  # built once per worker, before any case
    while True:
        index = conn.recv()
        if index is None:
            return
        try:
            name, data = make_case(index, seed)
            outcome = run_case(name, data)
        except MemoryError:
            outcome = Outcome(f"{index}", "memory")
        conn.send(outcome)


class _Pool:
    """Workers fed one case at a time, so a hung or crashed case costs only its own worker."""

    def __init__(self, jobs: int, seed: int, case_seconds: float) -> None:
        self.seed = seed
        self.case_seconds = case_seconds
        self.ctx = mp.get_context("fork")
        self.slots: list[tuple[Any, Any] | None] = [None] * jobs

    def _spawn(self) -> tuple[Any, Any]:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.seed), daemon=True)
        proc.start()
        child.close()
        return proc, parent

    def run(self, indices: list[int]) -> list[Outcome]:
        from multiprocessing.connection import wait

        pending = list(reversed(indices))
        busy: dict[int, tuple[int, float]] = {}  # slot -> (case index, started)
        out: list[Outcome] = []
        while pending or busy:
            for n, slot in enumerate(self.slots):
                if n not in busy and pending:
                    if slot is None:
                        slot = self.slots[n] = self._spawn()
                    index = pending.pop()
                    slot[1].send(index)
                    busy[n] = (index, time.monotonic())
            conns = {self.slots[n][1]: n for n in busy}  # type: ignore[index]
            ready = wait(list(conns), timeout=0.5)
            for conn in ready:
                n = conns[conn]  # type: ignore[index]
                index, _ = busy.pop(n)
                try:
                    out.append(conn.recv())  # type: ignore[union-attr]
                except (EOFError, OSError):
                    out.append(Outcome(_name(index, self.seed), "crash", detail="the worker died"))
                    self._kill(n)
            now = time.monotonic()
            for n, (index, started) in list(busy.items()):
                if now - started > self.case_seconds:
                    busy.pop(n)
                    out.append(Outcome(_name(index, self.seed), "hang", detail=f"over {self.case_seconds} s"))
                    self._kill(n)
        for slot in self.slots:
            if slot is not None:
                slot[1].send(None)
                slot[0].join(5)
        return out

    def _kill(self, n: int) -> None:
        slot = self.slots[n]
        if slot is not None:
            slot[0].kill()
            slot[0].join()
        self.slots[n] = None


def _name(index: int, seed: int) -> str:
    return make_case(index, seed)[0]


def run_cases(indices: list[int], *, seed: int = 9, jobs: int = 1, case_seconds: float = CASE_SECONDS) -> list[Outcome]:
    """Run the cases in worker processes (10 s, 1 GiB each); the outcomes in no set order.

    ``case_seconds`` is when a case counts as hung: the test suite, on a shared machine, gives
    far more, so that only a case that never ends fails it (the slowest take under 0.1 s)."""
    return _Pool(max(1, jobs), seed, case_seconds).run(indices)


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    status = Counter(o.status for o in outcomes)
    codes = Counter(o.code for o in outcomes if o.code)
    total = len(outcomes)
    return {
        "cases": total,
        "read": status["ok"],
        "refused_with_code": status["error"],
        "escaped_exceptions": status["escaped"] + status["crash"],
        "hangs": status["hang"],
        "memory_overruns": status["memory"],
        "invariant_breaks": status["invariant"],
        "read_failed": codes["READ_FAILED"],
        "read_failed_rate": codes["READ_FAILED"] / total if total else 0.0,
        "codes": dict(codes.most_common()),
        "warnings": dict(Counter(w for o in outcomes for w in o.warnings).most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--save", type=Path, help="write each case that breaks an invariant (or hangs, crashes) here")
    ap.add_argument("--seeds", type=Path, help="a folder of extra seed .docx/.xlsx files (the case numbering changes)")
    args = ap.parse_args(argv)
    if args.seeds:
        os.environ[EXTRA_SEEDS] = str(args.seeds.resolve())
    started = time.monotonic()
    outcomes = run_cases(list(range(args.cases)), seed=args.seed, jobs=args.jobs)
    s = summarise(outcomes)
    print(f"cases                 {s['cases']}  ({time.monotonic() - started:.0f} s, {args.jobs} job(s), seed {args.seed})")
    print(f"read                  {s['read']}")
    print(f"refused with a code   {s['refused_with_code']}")
    print(f"escaped exceptions    {s['escaped_exceptions']}")
    print(f"hangs                 {s['hangs']}")
    print(f"memory overruns       {s['memory_overruns']}")
    print(f"invariant breaks      {s['invariant_breaks']}")
    print(f"READ_FAILED           {s['read_failed']} ({100 * s['read_failed_rate']:.3f} %; target below 0.1 %)")
    print("error codes           " + ", ".join(f"{k} {v}" for k, v in s["codes"].items()))
    print("warnings (cases)      " + ", ".join(f"{k} {v}" for k, v in s["warnings"].items()))
    bad = [o for o in outcomes if o.status in ("escaped", "crash", "hang", "memory", "invariant") or o.code == "READ_FAILED"]
    for o in sorted(bad, key=lambda o: o.name)[:40]:
        print(f"  {o.status:9} {o.code or '-':12} {o.name}  {o.detail} {'; '.join(o.problems)}")
    if args.save and bad:
        args.save.mkdir(parents=True, exist_ok=True)
        for o in bad:
            index = int(o.name.split(":")[0])
            name, data = make_case(index, args.seed)
            (args.save / f"case-{index}{Path(name).suffix or '.bin'}").write_bytes(data)
    failed = s["escaped_exceptions"] or s["hangs"] or s["memory_overruns"] or s["invariant_breaks"]
    return 1 if failed or s["read_failed_rate"] >= 0.001 else 0


if __name__ == "__main__":
    sys.exit(main())
