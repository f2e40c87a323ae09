"""PDF and OpenDocument rows for ``bench_parse.py``: per-document time of each library tried.

Our three forms, filled, rendered as .docx and .xlsx and converted ONCE by real LibreOffice
(private profile) to PDF (writer_pdf_Export / calc_pdf_Export), ODT and ODS. Per document,
median of ``repeat`` runs:

PDF
  ``apdocs``        ``apdocs.parse.parse``: vetting, pdfplumber words + ruling-line tables,
                    layout rebuilt, answers read from the wording (what a return costs);
  ``pdfplumber``    the library alone: every page's words with positions and its tables;
  ``pdfminer``      pdfminer.six's own layout analysis (``extract_pages``), under pdfplumber;
  ``pypdfium2``     PDFium (Chrome's engine): every character with its box - the fastest
                    text-with-positions extraction, but it finds no tables (see README).
ODT / ODS
  ``apdocs``        read directly (vetted zip + lxml);
  ``via LibreOffice`` the conversion route used for .doc/.xls/.rtf (soffice to docx/xlsx, then
                    read), timed once: what reading OpenDocument by conversion would cost.
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from apdocs.api import render_form
from apdocs.forms import FORM_IDS
from apdocs.parse import parse


def _filled(form_id: str) -> dict:
    from apdocs.forms import load_form

    out: dict = {}
    for i, s in enumerate(load_form(form_id).slots()):
        if s.type == "text":
            out[s.id] = f"Answer {s.id}.\nSecond line." if s.multiline else f"Value {s.id}"
        elif s.type == "bool":
            out[s.id] = i % 2 == 0
        elif s.type == "date":
            out[s.id] = f"2020-03-{1 + i % 28:02d}"
        elif s.type == "choice":
            out[s.id] = s.choices[i % len(s.choices)]
        else:
            out[s.id] = float(1000 * (i + 1))
    return out


def _convert(soffice: str, tmp: Path) -> dict[str, bytes]:
    src = tmp / "src"
    src.mkdir()
    for form_id in FORM_IDS:
        for fmt in ("docx", "xlsx"):
            (src / f"{form_id}-{fmt}.{fmt}").write_bytes(render_form(form_id, fmt, _filled(form_id)))
    jobs = [("pdf:writer_pdf_Export", "docx"), ("pdf:calc_pdf_Export", "xlsx"), ("odt", "docx"), ("ods", "xlsx")]
    out: dict[str, bytes] = {}
    for filt, fmt in jobs:
        dest = tmp / filt.split(":")[0] / fmt
        files = sorted(str(p) for p in src.glob(f"*.{fmt}"))
        cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore", "--convert-to", filt]
        subprocess.run([*cmd, "--outdir", str(dest), *files], capture_output=True, timeout=300, check=False)
        for p in sorted(dest.iterdir()):
            out[f"{p.stem}.{p.suffix[1:]}"] = p.read_bytes()
    return out


def _median_ms(fn, data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def apdocs_parse(data: bytes) -> None:
    parse(data, path="bench")


def pdfplumber_alone(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_words()
            page.find_tables()


def pdfminer_alone(data: bytes) -> None:
    from pdfminer.high_level import extract_pages

    for _ in extract_pages(io.BytesIO(data)):
        pass


def pypdfium2_alone(data: bytes) -> None:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        for page in doc:
            text = page.get_textpage()
            for i in range(text.count_chars()):
                text.get_charbox(i)
            text.close()
            page.close()
    finally:
        doc.close()


def via_libreoffice(soffice: str, name: str, data: bytes) -> float:
    target = "docx" if name.endswith(".odt") else "xlsx"
    with tempfile.TemporaryDirectory(prefix="apdocs-bench-conv-") as tmp:
        src = Path(tmp, name)
        src.write_bytes(data)
        t0 = time.perf_counter()
        cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore", "--convert-to", target]
        subprocess.run([*cmd, "--outdir", tmp, str(src)], capture_output=True, timeout=300, check=False)
        parse(Path(tmp, f"{src.stem}.{target}"))
        return (time.perf_counter() - t0) * 1000


def rows(repeat: int) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("\nPDF and OpenDocument rows: skipped (soffice not installed)")
        return
    with tempfile.TemporaryDirectory(prefix="apdocs-bench-formats-") as tmp:
        files = _convert(soffice, Path(tmp))
    repeat = max(3, repeat // 10)  # PDF reads take 100+ ms
    print(f"\nPDF returns, median ms per document over {repeat} runs:")
    print(f"{'return':<28} {'apdocs':>8} {'pdfplumber':>11} {'pdfminer':>9} {'pypdfium2':>10}")
    for name, data in files.items():
        if name.endswith(".pdf"):
            cells = [_median_ms(fn, data, repeat) for fn in (apdocs_parse, pdfplumber_alone, pdfminer_alone, pypdfium2_alone)]
            print(f"{name:<28} " + " ".join(f"{c:>{w}.1f}" for c, w in zip(cells, (8, 11, 9, 10), strict=True)))
    print(f"\nOpenDocument returns, median ms per document ({repeat * 10} runs; via LibreOffice timed once):")
    print(f"{'return':<28} {'apdocs':>8} {'via LibreOffice':>16}")
    for name, data in files.items():
        if name.endswith((".odt", ".ods")):
            ours = _median_ms(apdocs_parse, data, repeat * 10)
            print(f"{name:<28} {ours:>8.2f} {via_libreoffice(soffice, name, data):>16.0f}")
