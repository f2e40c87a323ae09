"""Benchmark: personalised .xlsx rendering and reading, as ratios against baselines measured in the same run.

Render: apdocs' compiled template (sheet XML patched per render; the unchanging zip entries
deflated once at compile time) vs the obvious
alternative, laying the workbook out with openpyxl and saving it for every document.
Read: apdocs' zip + lxml reader vs ``openpyxl.load_workbook`` of the same file (which
apdocs never uses on returned files; here only as a speed yardstick).

Values are synthetic. Run: python benchmarks/bench_xlsx.py [--n 200]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import openpyxl

from apdocs.formats.xlsx import FORMAT, layout
from apdocs.forms import FORM_IDS, load_form


def values(i: int) -> dict[str, str]:
    return {"school_name": f"Example School {i}", "provider_name": f"Provider {i}", "reference": f"VS-{i:05d}"}


def median_ms(fn, n: int) -> float:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def bench_form(form_id: str, n: int) -> tuple[str, float]:
    form = load_form(form_id)
    compiled = FORMAT.compile(form)
    ours = median_ms(lambda i: compiled.render(values(i)), n)

    def baseline(i: int) -> bytes:
        built = layout.build(form)
        ws = built.workbook[built.sheet]
        for slot_id, value in values(i).items():
            ws[built.cells[slot_id]] = value
        buf = io.BytesIO()
        built.workbook.save(buf)
        return buf.getvalue()

    theirs = median_ms(baseline, max(10, n // 10))
    data = compiled.render(values(1))
    read_ours = median_ms(lambda _i: FORMAT.read(data), n)
    read_theirs = median_ms(lambda _i: openpyxl.load_workbook(io.BytesIO(data)), max(10, n // 10))
    return (
        f"{form_id:10} {ours:10.2f} {theirs:12.2f} {theirs / ours:6.1f}x | "
        f"{read_ours:8.2f} {read_theirs:12.2f} {read_theirs / read_ours:6.1f}x"
    ), theirs / ours


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    print(f"{'form':10} {'render ms':>10} {'openpyxl ms':>12} {'ratio':>7} | {'read ms':>8} {'openpyxl ms':>12} {'ratio':>7}")
    ratios = []
    for form_id in FORM_IDS:
        line, ratio = bench_form(form_id, args.n)
        ratios.append(ratio)
        print(line)
    verdict = "met" if min(ratios) >= 15 else "NOT met"
    print(f"target: render >= 15x faster than openpyxl writing a new workbook - lowest {min(ratios):.0f}x: {verdict}")


if __name__ == "__main__":
    main()
