"""Parse speed and memory of returned .docx forms, as ratios against baselines measured in the same run.

Prints, per form:
  * median time of ``read_docx`` per return at steady state (target <= 3 ms);
  * its ratio to python-docx walking the same tables' cell text (target >= 8x faster);
  * its ratio to the floor: bare zipfile + lxml parsing ``word/document.xml`` (target within 3x);
and the peak memory (ru_maxrss of a child process) of ``apdocs.parse.parse_many`` over a
10,000-file batch generated into a temp dir from the renderer with varying values
(target <= 250 MB; the batch must stream, not accumulate).

Run: python benchmarks/bench_parse.py [--files 10000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import io
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


def median_ms(fn, data: bytes, repeat: int) -> float:
    for _ in range(10):  # warm caches (definitions, compiled matchers)
        fn(data)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def python_docx_walk(data: bytes) -> None:
    import docx

    doc = docx.Document(io.BytesIO(data))
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                _ = cell.text


def floor_zip_lxml(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        etree.fromstring(zf.read("word/document.xml"))


def speed(repeat: int) -> None:
    print(f"{'form':<10} {'apdocs ms':>10} {'python-docx ms':>15} {'x faster':>9} {'floor ms':>9} {'x floor':>8}")
    for form_id in FORM_IDS:
        data = render_form(form_id, "docx", sample_values(form_id, 1))
        ours = median_ms(lambda d: read_docx(d, path="bench.docx"), data, repeat)
        pdx = median_ms(python_docx_walk, data, max(20, repeat // 4))
        floor = median_ms(floor_zip_lxml, data, repeat)
        print(f"{form_id:<10} {ours:>10.2f} {pdx:>15.2f} {pdx / ours:>9.1f} {floor:>9.2f} {ours / floor:>8.2f}")


_CHILD = """
import resource, sys
from apdocs.parse import parse_many
ok = failed = 0
for r in parse_many([sys.argv[1]]):
    if r.ok:
        ok += 1
    else:
        failed += 1
print(ok, failed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
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
    print(f"  wall {took:.1f} s ({took / files * 1000:.2f} ms/file), peak RSS {peak_mb} MB (target <= 250)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    speed(args.repeat)
    if args.files:
        memory(args.files)


if __name__ == "__main__":
    main()
