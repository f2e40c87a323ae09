"""The position route's planned reading must give exactly the record the step-by-step one gave.

For a return whose controls lost their tags (LibreOffice re-saves above all) the position route
checks the rows its plan depends on once, up front. :func:`read_stepwise` below checks each step's
rows as the step comes, as the route did before. Every input here is read both ways and the records - answers, header,
warnings, in order - must be equal: returns really re-saved by LibreOffice (many different
answers, and then edited the ways that make a table walk decline or a guard fail), returns whose
controls an editor unwrapped, and the real-world .docx files.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from lxml import etree

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.formats.docx import read as docx_read
from apdocs.formats.docx import read_position
from apdocs.formats.docx.legacy import read_roles
from apdocs.formats.docx.read_values import Reader
from apdocs.forms import FORM_IDS, load_form
from apdocs.forms.model import FormDefinition
from apdocs.parse import parse
from apdocs.record import ParsedReturn
from tests.corpus import real_world_docx
from tests.docx_edit import W, answers, edit_document, unwrap_controls


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def outcome(data: bytes, path: str) -> ParsedReturn | tuple[str, str]:
    """The record, or the error's (code, message); a fresh bytes object, so no package is reused."""
    try:
        return parse(bytes(memoryview(data)), path=path)
    except ParseError as exc:
        return (exc.code, exc.message)


def read_stepwise(form: FormDefinition, body: etree._Element, wanted: list[str], reader: Reader) -> dict[str, Any]:
    """The reference: ``read_by_position`` checking each step's rows (once each) as the step comes,
    through the lazily reading Grid, and reading the step only if they hold."""
    pmap = read_position.position_map(form.id, form.version)
    if pmap is None or not (pmap.cells or pmap.rows):
        return {}
    plan = read_position._plan(form.id, form.version, tuple(wanted))
    grid = read_position.Grid(body)
    row_ok: dict[read_position.RowKey, bool] = {}
    out: dict[str, Any] = {}

    def put(slot_id: str, value: Any) -> None:
        if slot_id in plan.want:  # a row holds other slots too: those already read keep their value
            out[slot_id] = value

    for place, slot, names, every in plan.steps:
        for key in place.rows:
            ok = row_ok.get(key)
            if ok is None:
                ok = row_ok[key] = read_position._row_holds(grid.row(*key), pmap.checks[key])
            if not ok:
                break
        else:
            if isinstance(place, read_position.CellPlace):
                assert slot is not None  # a cell place's step names its slot
                t, r, c = place.value
                out[slot.id] = reader.value(slot, read_position._cell_answer(grid.row(t, r)[c].paragraphs))
            else:
                row = grid.row(*place.row)
                by_role = {role: row[c].text for c, role in place.by_cell}
                read_roles(form, place.anchor, by_role, reader, out.__setitem__ if every else put, names)
    return out


def fast_and_slow(data: bytes, path: str) -> tuple[ParsedReturn | tuple[str, str], ParsedReturn | tuple[str, str]]:
    fast = outcome(data, path)
    with mock.patch.object(docx_read, "read_by_position", read_stepwise):
        slow = outcome(data, path)
    return fast, slow


def assert_same(data: bytes, path: str) -> ParsedReturn | tuple[str, str]:
    fast, slow = fast_and_slow(data, path)
    assert fast == slow
    if isinstance(fast, ParsedReturn) and isinstance(slow, ParsedReturn):
        assert fast.to_dict() == slow.to_dict()  # the notices' order and context too
    return fast


# -- edits a re-save goes through (each makes a fast path decline or a guard fail) ------------


def _tables(root: etree._Element) -> list[etree._Element]:
    return root.findall(f"{w('body')}/{w('tbl')}")


def retype_a_label(root: etree._Element) -> None:
    """Someone retypes a printed question: its place's guard fails, the wording route reads it."""
    for tbl in _tables(root)[1:]:
        t = next(tbl.iter(w("t")))
        t.text = "Something else entirely"


def delete_tracked(root: etree._Element) -> None:
    """A tracked deletion in a table: the one pass declines it, the careful walk reads it."""
    run = next(_tables(root)[1].iter(w("r")))
    parent = run.getparent()
    deleted = etree.Element(w("del"))
    parent.replace(run, deleted)
    deleted.append(run)
    for t in run.iter(w("t")):
        t.tag = w("delText")


def comment_after_a_table(root: etree._Element) -> None:
    """A comment right after a table."""
    tbl = _tables(root)[0]
    tbl.addnext(etree.Comment("a comment"))


def nest_a_table(root: etree._Element) -> None:
    tc = next(_tables(root)[1].iter(w("tc")))
    inner = etree.SubElement(tc, w("tbl"))
    etree.SubElement(etree.SubElement(etree.SubElement(etree.SubElement(inner, w("tr")), w("tc")), w("p")), w("r"))
    etree.SubElement(tc, w("p"))


def tag_a_control(root: etree._Element, form_id: str) -> None:
    """A control in the second table keeps apdocs' tag: the other places are read by position."""
    pr = next(_tables(root)[1].iter(w("sdtPr")))
    slot = next(s for s in load_form(form_id).slots() if s.group != "header")
    etree.SubElement(pr, w("tag")).set(w("val"), f"apdocs:{form_id}:{load_form(form_id).version}:{slot.id}")


def drop_section_properties(root: etree._Element) -> None:
    """Nothing after the last table: it runs to the end of the body."""
    body = root.find(w("body"))
    last = _tables(root)[-1]
    while last.getnext() is not None:  # the paragraphs and section properties after it
        body.remove(last.getnext())


def wrap_a_table(root: etree._Element) -> None:
    """A block-level control around a table: the table is body-level inside it."""
    tbl = _tables(root)[1]
    sdt = etree.Element(w("sdt"))
    etree.SubElement(sdt, w("sdtPr"))
    content = etree.SubElement(sdt, w("sdtContent"))
    tbl.addprevious(sdt)
    content.append(tbl)


def drop_a_row(root: etree._Element) -> None:
    tbl = _tables(root)[1]
    tbl.remove(tbl.findall(w("tr"))[1])


def merge_cells(root: etree._Element) -> None:
    for tr in _tables(root)[2].findall(w("tr"))[:2]:
        tcs = tr.findall(w("tc"))
        if len(tcs) > 1:
            pr = tcs[0].find(w("tcPr"))
            pr = pr if pr is not None else etree.SubElement(tcs[0], w("tcPr"))
            etree.SubElement(pr, w("gridSpan")).set(w("val"), "2")
            tr.remove(tcs[1])


def text_outside_runs(root: etree._Element) -> None:
    """Text whose parent is not a run, and a tab stop beside a tab: the one pass judges each."""
    p = next(_tables(root)[1].iter(w("p")))
    etree.SubElement(p, w("t")).text = "loose"
    ppr = p.find(w("pPr"))
    if ppr is not None:
        etree.SubElement(etree.SubElement(ppr, w("tabs")), w("tab")).set(w("val"), "left")


EDITS = {
    "retype_a_label": retype_a_label,
    "delete_tracked": delete_tracked,
    "comment_after_a_table": comment_after_a_table,
    "nest_a_table": nest_a_table,
    "drop_section_properties": drop_section_properties,
    "wrap_a_table": wrap_a_table,
    "drop_a_row": drop_a_row,
    "merge_cells": merge_cells,
    "text_outside_runs": text_outside_runs,
}


@pytest.mark.libreoffice
def test_libreoffice_resaves_read_the_same_planned_and_step_by_step(resaved):
    for name, data in resaved.items():
        rec = assert_same(data, f"{name}.docx")
        assert isinstance(rec, ParsedReturn), name
        # the planned reading really ran: the answers were read by position
        assert any("by their position" in n.message for n in rec.warnings if n.code == "ROUTE_FALLBACK"), name


@pytest.mark.libreoffice
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_libreoffice_resaves_read_the_same(resaved, edit):
    for form_id in FORM_IDS:
        for name in (f"{form_id}-0", f"{form_id}-1", f"{form_id}-blank"):
            data = edit_document(resaved[name], EDITS[edit])
            assert_same(data, f"{name}-{edit}.docx")


@pytest.mark.libreoffice
def test_a_tagged_control_among_untagged_ones_reads_the_same(resaved):
    for form_id in FORM_IDS:
        data = edit_document(resaved[f"{form_id}-2"], lambda root, f=form_id: tag_a_control(root, f))
        assert_same(data, f"{form_id}-tagged.docx")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_unwrapped_and_rendered_returns_read_the_same(form_id):
    for n in range(3):
        rendered = render_form(form_id, "docx", answers(form_id, n))
        for data in (rendered, unwrap_controls(rendered)):
            assert_same(data, f"{form_id}-{n}.docx")
        for edit in EDITS.values():
            data = edit_document(unwrap_controls(rendered), edit)
            assert_same(data, f"{form_id}-{n}-edited.docx")


def test_real_world_docx_files_read_the_same():
    for p in real_world_docx():
        assert_same(p.read_bytes(), str(p))  # a record or the same typed error, both ways
