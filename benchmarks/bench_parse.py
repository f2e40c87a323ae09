"""Parse speed and memory of returned .docx forms, as ratios against baselines measured in the same run.

Prints, per form - as apdocs renders it, then as LibreOffice re-saves it (one ``soffice``
call, private profile; those rows are skipped with a note when soffice is missing) - and per
bundled sample return (``samples/returns/*.docx``, with their median):
  * median time of ``read_docx`` per return at steady state - for the forms, over a few hundred
    different returns of each, every timed call one apdocs has not read before (as in a batch:
    its memos of what returns share help, a memo of the very file cannot); for the samples, one
    file read again and again;
  * its ratio to the floor: bare zipfile + lxml parsing ``word/document.xml`` (issue 12's targets:
    at most 1.2x for returns as Word keeps them - judged here on the forms as apdocs renders them
    and the bundled samples, as no Word is at hand to re-save them - and at most 1.5x for
    LibreOffice re-saves);
  * for context only, not judged: python-docx walking the same tables plus its controls, and
    docx2python (when installed) reading the same file;
and the peak memory (VmHWM of a child process, ru_maxrss where there is no /proc) of ``apdocs.parse.parse_many`` over a
10,000-file batch generated into a temp dir from the renderer with varying values
(target <= 250 MB; the batch must stream, not accumulate).

The baselines, each timed on the same bytes in the same run (median of ``--repeat``):

``python-docx walk`` (:func:`python_docx_walk`) - what a python-docx-based reader does with
    the public API: ``Document(BytesIO(data))`` (opens the package and parses every part
    python-docx loads), then every body paragraph's ``paragraph.text`` and every table -
    nested tables included, via ``cell.tables`` - row by row with ``row.cells`` (python-docx's
    merged-cell handling: a horizontally merged cell is yielded once per grid column and a
    vertically merged one resolves to its top cell, so text is read per distinct ``w:tc``
    only once, as a reader would de-duplicate it) reading ``cell.text``. This is a LOWER bound
    on a python-docx reader's cost: python-docx's text APIs do not see content controls
    (``paragraph.text`` reads only ``w:r``/``w:hyperlink`` children, ``table.rows`` only direct
    ``w:tr``), so this walk does not even reach the answers.
``python-docx + controls`` (:func:`python_docx_reader`) - the walk above plus the least a
    python-docx reader must add to get the same answers: one pass over the body's ``w:sdt``
    elements reading each control's ``w:tag`` and its text (``itertext`` over ``w:t``).
``docx2python`` (:func:`docx2python_reader`) - for context: docx2python's whole-document read.
``python-docx by coordinates`` (:func:`python_docx_grid`) - printed for context and not
    judged: ``table.cell(r, c)`` at every grid position, which is quadratic in python-docx.
``apdocs`` (:func:`read_fresh`) - ``read_docx`` on a fresh copy of the bytes each call.
``floor`` (:func:`floor_zip_lxml`) - ``zipfile`` + ``lxml.etree.fromstring`` of
    ``word/document.xml`` and nothing else: no vetting, no reading. No reader can be faster,
    so ``ceiling`` (python-docx + controls / floor) is the most any lxml reader could gain.

Run: python benchmarks/bench_parse.py [--files 10000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import gc
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

from apdocs.api import render_form
from apdocs.formats.docx.read import read_docx
from apdocs.forms import FORM_IDS, load_form


def sample_values(form_id: str, n: int) -> dict:
    """Synthetic answers, varied by ``n`` so no two files are identical."""
    out: dict = {}
    for i, s in enumerate(load_form(form_id).slots()):
        if s.type == "text":
            out[s.id] = f"Synthetic answer {n}-{i}.\nSecond line for {s.id}." if s.multiline else f"Value {n}-{i}"
        elif s.type == "bool":
            out[s.id] = (n + i) % 3 == 0
        elif s.type == "date":
            out[s.id] = f"2020-{1 + (n + i) % 12:02d}-{1 + (n * 7 + i) % 28:02d}"
        elif s.type == "choice":
            out[s.id] = s.choices[(n + i) % len(s.choices)]
        else:
            out[s.id] = float((n * 37 + i) % 10_000)
    return out


def medians_ms(fns: list, data: bytes | list[bytes], repeat: int, block: int = 10) -> list[float]:
    """Median ms per call of each of ``fns``, timed in alternating blocks of ``block`` calls
    so that load from other processes during the run weighs on every function alike (the
    ratios are what count), while each block runs with warm caches, as a batch would.

    ``data``: one file, read again and again, or a list of different files (:func:`unseen_returns`):
    the first ``block`` warm every function up and each timed call reads the next, every function
    the same files in the same order - so apdocs meets each timed file for the first time, as in a
    batch, and no memo of a file it has read before can flatter it.

    The cyclic garbage collector runs between blocks, untimed, so no function is charged
    for collecting another's garbage (python-docx leaves a lot)."""
    docs = data if isinstance(data, list) else [data] * (block + max(block, repeat))
    warm, timed = docs[:block], docs[block:]
    for fn in fns:
        for doc in warm:  # warm caches (definitions, compiled matchers)
            fn(doc)
    times: list[list[float]] = [[] for _ in fns]
    try:
        for b in range(max(1, repeat // block)):
            chunk = timed[(b * block) % len(timed) :][:block]
            for fn, out in zip(fns, times, strict=True):
                gc.collect()
                gc.disable()
                for doc in chunk:
                    t0 = time.perf_counter()
                    fn(doc)
                    out.append(time.perf_counter() - t0)
                gc.enable()
    finally:
        gc.enable()
    return [statistics.median(t) * 1000 for t in times]


def unseen_returns(form_id: str, count: int) -> list[bytes]:
    """``count`` returns of one form, each with its own answers and dates (no two alike)."""
    return [render_form(form_id, "docx", sample_values(form_id, n)) for n in range(count)]


def _walk_tables(tables, texts: list[str]) -> None:
    for table in tables:
        for row in table.rows:
            seen = set()
            for cell in row.cells:  # merged cells repeat: read each w:tc once
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                texts.append(cell.text)
                if cell._tc.tbl_lst:  # nested tables (cell.tables builds Table objects; skip when none)
                    _walk_tables(cell.tables, texts)


def python_docx_walk(data: bytes) -> list[str]:
    """Public python-docx API: body paragraphs and every table cell's text, nested tables included."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    _walk_tables(doc.tables, texts)
    return texts


def python_docx_grid(data: bytes) -> list[str]:
    """For context only (not judged): python-docx's coordinate access, ``table.cell(r, c)`` over
    every grid position - the natural way to read "the cell right of the question". python-docx
    rebuilds the table's whole cell list on each call, so this walk grows with rows x cells."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        seen: set[int] = set()
        for r in range(len(table.rows)):
            for c in range(len(table.columns)):
                cell = table.cell(r, c)
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    texts.append(cell.text)
    return texts


def python_docx_reader(data: bytes) -> dict[str, str]:
    """The walk, plus reading the content controls python-docx's text APIs cannot see."""
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    _walk_tables(doc.tables, texts)
    tag_el, val, t_el, content_el = qn("w:tag"), qn("w:val"), qn("w:t"), qn("w:sdtContent")
    answers: dict[str, str] = {}
    for sdt in doc.element.body.iter(qn("w:sdt")):
        pr, content = sdt[0], sdt[-1]
        tag = next(pr.iterchildren(tag_el), None)
        if tag is not None and content.tag == content_el:
            answers[tag.get(val)] = "".join(content.itertext(t_el, with_tail=False))
    return answers


def docx2python_reader(data: bytes) -> None:
    """docx2python reading the whole file (body, headers, footers, properties): context only."""
    from docx2python import docx2python

    with docx2python(io.BytesIO(data)) as content:
        content.body  # noqa: B018 - the read is the point


def _have_docx2python() -> bool:
    try:
        import docx2python  # noqa: F401
    except ImportError:
        return False
    return True


def read_fresh(data: bytes) -> None:
    """apdocs' reader on a new copy of the bytes each call (the copy is timed too): open_package
    reuses the package of a repeated open of the same bytes object, which a batch never does
    per file beyond the format check, so timing a repeated object would flatter apdocs."""
    read_docx(bytes(memoryview(data)), path="bench.docx")


def floor_zip_lxml(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        etree.fromstring(zf.read("word/document.xml"))


#: Files converted per ``soffice`` call.
LIBREOFFICE_CALL = 100


def resaved_by_libreoffice(forms: dict[str, bytes]) -> dict[str, bytes] | None:  # name -> .docx bytes
    """The same returns re-saved by real LibreOffice (the common case: it drops ``w:tag``, keeps
    titles only on text controls, so most answers are read at the place our renderer put them), with one
    ``soffice`` call per :data:`LIBREOFFICE_CALL` files and a private profile; None (rows skipped)
    when soffice is not installed."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory(prefix="apdocs-bench-lo-") as tmp:
        src, out = Path(tmp, "src"), Path(tmp, "out")
        src.mkdir()
        for form_id, data in forms.items():
            (src / f"{form_id}.docx").write_bytes(data)
        cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore", "--nologo"]
        cmd += ["--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out)]
        files = sorted(str(p) for p in src.iterdir())
        for at in range(0, len(files), LIBREOFFICE_CALL):  # one soffice stops after a few hundred files
            subprocess.run([*cmd, *files[at : at + LIBREOFFICE_CALL]], capture_output=True, timeout=600, check=False)
        done = {f: out / f"{f}.docx" for f in forms}
        missing = [f for f, p in done.items() if not p.exists()]
        if missing:
            raise SystemExit(f"LibreOffice did not convert {len(missing)} file(s), the first {missing[0]}")
        return {f: p.read_bytes() for f, p in done.items()}


SAMPLE_RETURNS = Path(__file__).resolve().parents[1] / "samples" / "returns"


def sample_returns() -> dict[str, bytes]:
    """The bundled sample returns (``samples/returns/*.docx``): filled templates, a draft, one
    without its reference, and a 2020-style hand-typed document read by its wording."""
    return {p.name: p.read_bytes() for p in sorted(SAMPLE_RETURNS.glob("*.docx"))}


#: Issue 12's targets: apdocs' parse time as a multiple of the floor, per kind of return.
WORD_TARGET, LIBREOFFICE_TARGET = 1.2, 1.5


def speed(repeat: int) -> None:
    d2p = "docx2python ms" if _have_docx2python() else "(no docx2python)"
    print(f"{'return':<42} {'apdocs ms':>10} {'floor ms':>9} {'x floor':>8} {'pdx+controls ms':>16} {d2p:>16}")
    # Every timed call reads a return apdocs has not read before (see medians_ms): its memos of
    # what returns share (styles, property blocks) help as they would in a batch, and no more.
    count = 10 + max(10, repeat)
    forms = {form_id: unseen_returns(form_id, count) for form_id in FORM_IDS}
    missed: dict[str, list[str]] = {}
    print(f"as apdocs renders them (filled, controls intact; judged as 'as Word keeps them', <= {WORD_TARGET}x floor;")
    print(f"  {count} different returns of each form, every timed call one not read before):")
    _rows(forms, repeat, missed, WORD_TARGET)
    flat = {f"{form_id}-{n:04d}": doc for form_id, docs in forms.items() for n, doc in enumerate(docs)}
    resaved = resaved_by_libreoffice(flat)
    if resaved is None:
        print("re-saved by LibreOffice: skipped (soffice not installed)")
    else:
        print(f"re-saved by LibreOffice 'MS Word 2007 XML' (tags dropped: answers read by position; <= {LIBREOFFICE_TARGET}x;")
        print(f"  the same {count} returns of each form, each re-saved):")
        again = {f"{form_id} (LibreOffice)": [resaved[f"{form_id}-{n:04d}"] for n in range(count)] for form_id in FORM_IDS}
        _rows(again, repeat, missed, LIBREOFFICE_TARGET)
    print("for context, not judged - python-docx reading by coordinates, table.cell(r, c) at every grid position:")
    for form_id, docs in forms.items():
        ours, grid = medians_ms([read_fresh, python_docx_grid], docs[0], max(10, repeat // 10))
        print(f"{form_id:<42} {ours:>10.2f} {grid:>12.2f} ms ({grid / ours:.1f}x apdocs)")
    samples = sample_returns()
    print(f"the bundled sample returns ({SAMPLE_RETURNS.relative_to(SAMPLE_RETURNS.parents[1])}; <= {WORD_TARGET}x floor;")
    print("  one file each, read again and again, so apdocs' memos of it help: rows above are the fair test):")
    ours = _rows(samples, repeat, missed, WORD_TARGET)
    print(f"{'median over the ' + str(len(samples)) + ' sample returns':<42} {statistics.median(ours):>10.2f}")
    # Say it plainly: a target missed must not hide in a table of numbers.
    print(f"targets (apdocs <= {WORD_TARGET}x the floor as Word keeps returns, <= {LIBREOFFICE_TARGET}x LibreOffice re-saves):")
    if not missed:
        print("  all met on every row")
    for target, rows in missed.items():
        print(f"  {target}: NOT met on {len(rows)} row(s): {', '.join(rows)}")


def _rows(
    forms: dict[str, bytes] | dict[str, list[bytes]], repeat: int, missed: dict[str, list[str]], target: float
) -> list[float]:
    """Print one row per return, add the rows missing ``target`` (x floor) to ``missed``; apdocs' times."""
    times = []
    fns = [read_fresh, floor_zip_lxml, python_docx_reader]
    if _have_docx2python():
        fns.append(docx2python_reader)
    for label, data in forms.items():
        ours, floor, pdx, *rest = medians_ms(fns, data, repeat)
        times.append(ours)
        d2p = f"{rest[0]:>16.2f}" if rest else f"{'-':>16}"
        print(f"{label:<42} {ours:>10.2f} {floor:>9.2f} {ours / floor:>8.2f} {pdx:>16.2f} {d2p}")
        if ours / floor > target:
            missed.setdefault(f"<= {target}x floor", []).append(f"{label} ({ours / floor:.2f}x)")
    return times


_CHILD = """
import resource, sys
from apdocs.parse import parse_many
ok = failed = 0
for r in parse_many([sys.argv[1]]):
    if r.ok:
        ok += 1
    else:
        failed += 1

def peak_mb():
    # VmHWM is this process's own high-water mark. ru_maxrss is not: Linux carries the
    # parent's peak into it across fork+exec, so it would report the benchmark's own size.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(ok, failed, peak_mb())
"""


def memory(files: int) -> None:
    with tempfile.TemporaryDirectory(prefix="apdocs-bench-") as tmp:
        t0 = time.perf_counter()
        for n in range(files):
            form_id = FORM_IDS[n % len(FORM_IDS)]
            Path(tmp, f"return-{n:05d}.docx").write_bytes(render_form(form_id, "docx", sample_values(form_id, n)))
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _CHILD, tmp], capture_output=True, text=True, check=True).stdout.split()
        took = time.perf_counter() - t0
        ok, failed, peak_mb = (int(x) for x in out)
    print(f"\nbatch of {files} files (generated in {made:.1f} s): parse_many read {ok}, failed {failed}")
    verdict = "met" if peak_mb <= 250 else "NOT met"
    print(f"  wall {took:.1f} s ({took / files * 1000:.2f} ms/file), peak RSS {peak_mb} MB (target <= 250: {verdict})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--no-formats", action="store_true", help="skip the PDF and OpenDocument rows (bench_formats.py)")
    args = ap.parse_args()
    speed(args.repeat)
    if not args.no_formats:
        from bench_formats import rows as other_formats  # beside this script

        other_formats(args.repeat)
    if args.files:
        memory(args.files)


if __name__ == "__main__":
    main()
