"""Benchmark: personalised .docx rendering, apdocs' compiled renderer vs docxtpl.

Renders N personalised documents (distinct school, provider, pupil reference and
reference each; synthetic values) with the compiled renderer and prints the median
per-document time. Then builds a docxtpl template *from apdocs' own blank output*
(the same controls, with ``{{ school_name }}``-style placeholders in the personalised
slots and in the footer) and times docxtpl rendering the same values (load, render,
save: what a mail merge does per document). Both are measured in this run, on this
machine, and compared as a ratio; targets: <= 10 ms per document and >= 8x docxtpl.

    python benchmarks/bench_render_docx.py [--form appendix4] [--count 1000] [--baseline-count 50]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import zipfile

from lxml import etree

from apdocs.formats import get
from apdocs.forms import load_form, parse_tag

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PERSONAL = ("school_name", "provider_name", "pupil_reference", "reference")


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def values_for(i: int) -> dict[str, str]:
    return {
        "school_name": f"Example Academy {i}",
        "provider_name": f"Sample Provider {i % 37} CIC",
        "pupil_reference": f"LAC-{i:05d}",
        "reference": f"VS-2024-{i:05d}",
    }


def docxtpl_template(blank: bytes) -> bytes:
    """apdocs' blank document with Jinja placeholders in the personalised controls and footer."""
    src = zipfile.ZipFile(io.BytesIO(blank))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "word/document.xml":
                root = etree.fromstring(data)
                for sdt in root.iter(w("sdt")):
                    tag = sdt.find(f"{w('sdtPr')}/{w('tag')}")
                    parsed = parse_tag(tag.get(w("val")) if tag is not None else "")
                    if parsed and parsed[2] in PERSONAL:
                        pr = sdt.find(w("sdtPr"))
                        pr.remove(pr.find(w("showingPlcHdr")))
                        content = sdt.find(w("sdtContent"))
                        r = content.find(w("r"))
                        r.remove(r.find(w("rPr")))
                        r.find(w("t")).text = "{{ " + parsed[2] + " }}"
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            elif name.startswith("word/footer"):
                data = data.replace(b"Version ", b"Reference: {{ reference }} Version ")
            dst.writestr(name, data)
    return out.getvalue()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--form", default="appendix4")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--baseline-count", type=int, default=50)
    args = ap.parse_args()

    form = load_form(args.form)
    t0 = time.perf_counter()
    compiled = get("docx").compile(form)
    compile_s = time.perf_counter() - t0

    for i in range(20):  # warm up: steady state is what a mail merge sees
        compiled.render(values_for(i))
    ours: list[float] = []
    total_bytes = 0
    for i in range(args.count):
        t = time.perf_counter()
        data = compiled.render(values_for(i))
        ours.append(time.perf_counter() - t)
        total_bytes += len(data)

    from docxtpl import DocxTemplate

    template = docxtpl_template(compiled.render({}))
    theirs: list[float] = []
    for i in range(args.baseline_count):
        t = time.perf_counter()
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(values_for(i), autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
        theirs.append(time.perf_counter() - t)
    # the docxtpl output really is personalised (else the comparison is meaningless)
    check = zipfile.ZipFile(buf).read("word/document.xml").decode("utf-8")
    assert values_for(args.baseline_count - 1)["school_name"] in check

    ours_ms, theirs_ms = median_ms(ours), median_ms(theirs)
    ratio = theirs_ms / ours_ms
    print(f"form: {form.id} ({form.display_name}); compile once: {compile_s * 1000:.0f} ms")
    print(f"apdocs compiled render: {args.count} docs, median {ours_ms:.3f} ms/doc, avg size {total_bytes // args.count} bytes")
    print(f"docxtpl (load+render+save): {args.baseline_count} docs, median {theirs_ms:.2f} ms/doc")
    print(f"ratio docxtpl/apdocs: {ratio:.1f}x")
    ok = ours_ms <= 10 and ratio >= 8
    print(f"targets (<= 10 ms/doc, >= 8x docxtpl): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
