"""Where a returned .docx's parse time goes, stage by stage (context for ``bench_parse.py``'s ratios).

For each form, over returns apdocs has not read before (every timed call a new one, as in a batch),
prints the median microseconds of: the whole ``read_docx``; the zipfile+lxml floor; unzipping
``word/document.xml`` alone; ``open_package`` (the vetting, the tree-less check included); the
tree-less check alone; the scan of the controls from the bytes; and the file's SHA-256.
What is left of ``read_docx`` after ``open_package`` and the scan is typing the answers, the
custom properties and the record. Stages are timed on their own, so they add up only roughly.

Run: python benchmarks/parse_stages.py [--returns 1000] [appendix2 appendix3 appendix4]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import statistics
import time
import zipfile
from collections.abc import Callable

from bench_parse import floor_zip_lxml, read_fresh, unseen_returns  # beside this script

from apdocs.formats import ooxml
from apdocs.formats.docx.read_scan import scan_controls
from apdocs.forms import FORM_IDS

WARM = 100


def median_us(fn: Callable[[bytes], object], inputs: list[bytes]) -> float:
    """Median us of ``fn`` over ``inputs``; the cyclic collector runs before, untimed, not during."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for data in inputs:
            t0 = time.perf_counter()
            fn(data)
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times) * 1e6


def unzip_only(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.read("word/document.xml")


def stages(form_id: str, count: int) -> None:
    docs = unseen_returns(form_id, WARM + 3 * count)
    warm, first, second, third = (docs[:WARM], *(docs[WARM + i * count : WARM + (i + 1) * count] for i in range(3)))
    for data in warm:
        read_fresh(data)
    # the reader, open_package and the last two stages each get returns no other stage has read
    # (no memo of the file helps); a copy of the bytes, as open_package reuses a repeated object's package
    mains = [ooxml.open_package(d, path=None, kind="docx").checked_bytes("word/document.xml") or b"" for d in second]
    rows = [
        ("read_docx", median_us(read_fresh, first)),
        ("floor (zipfile + lxml)", median_us(floor_zip_lxml, first)),
        ("unzip document.xml", median_us(unzip_only, first)),
        ("open_package", median_us(lambda d: ooxml.open_package(bytes(memoryview(d)), path=None, kind="docx"), third)),
        ("check without a tree", median_us(ooxml._checked_root_namespace, mains)),
        ("scan of the controls", median_us(scan_controls, mains)),
        ("sha256 of the file", median_us(lambda d: hashlib.sha256(d).hexdigest(), first)),
    ]
    print(f"{form_id} ({count} returns, each read once per stage)")
    for name, us in rows:
        print(f"  {name:<26} {us:8.1f} us")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("forms", nargs="*", default=list(FORM_IDS))
    ap.add_argument("--returns", type=int, default=1000)
    args = ap.parse_args()
    for form_id in args.forms:
        stages(form_id, args.returns)


if __name__ == "__main__":
    main()
