"""Whole-country scale: pack, every-core parsing, and reconcile of a 10,000-placement roster.

Prints each target with "met" or "NOT met", from figures measured in this run:

* ``pack`` of 1,000 placements (125 schools) <= 4 s on one core. Wall time of a child
  ``apdocs pack``, with its CPU time (user + sys) beside it: on a loaded machine the wall
  time includes waiting for the CPU and the disk, the CPU time does not.
* every core: ``parse_many`` throughput with ``jobs=<cores>`` >= 1.7x ``jobs=1`` over the
  same files, the two timed alternately (best of ``--rounds``) so load weighs on both alike.
* ``reconcile`` of the 10,000-placement roster and its returns writes the tracker in
  <= 60 s at a peak RSS <= 300 MB: ``apdocs reconcile --roster R -o tracker.xlsx RETURNS`` in a
  child, run in a fresh folder so its default register (``apdocs.db`` there) is new; the peak
  is the child's own VmHWM, and the largest worker's peak is printed beside it.
* the second term: the same command again in that folder, against the register the first
  run filled and the tracker it wrote (so officers' edits are read back from a 10,000-row
  tracker first), judged against the same targets.
* cost against batch size: ``reconcile`` wall time and peak RSS at 10^2, 10^3 and 10^4
  return files, written to ``--json`` for ``benchmarks/plot_scaling.py``.

The synthetic roster and returns (``benchmarks/gen_country.py``) are made once into
``--data`` and reused by later runs.

Run: python benchmarks/bench_scale.py [--data /tmp/apdocs-country] [--json benchmarks/results/scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_country import write_returns, write_roster

from apdocs.parse import parse_many
from apdocs.workers import cpu_count

# Runs the CLI in this child and reports its own peak (VmHWM) and its largest worker's.
_CHILD = """
import resource, sys
from apdocs.cli import main

def hwm_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"@@peak {hwm_mb():.1f} {workers:.1f} {code}", file=sys.stderr)
"""


def run_cli(args: list[str], cwd: Path | None = None) -> dict[str, float]:
    """Run ``apdocs ARGS`` in a child (in ``cwd``): wall s, CPU s (user+sys, child and its workers), peaks MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "APDOCS_DB"}  # the default register: apdocs.db in cwd
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False, cwd=cwd, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("@@peak")), None)
    if line is None:
        raise SystemExit(f"apdocs {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    _, peak, worker_peak, code = line.split()
    if int(code) > 1:
        raise SystemExit(f"apdocs {' '.join(args)} exited {code}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_mb": float(peak), "worker_peak_mb": float(worker_peak)}


def dataset(data: Path, placements: int) -> tuple[Path, Path]:
    """(roster, returns folder) for ``placements``, made on first use."""
    folder = data / f"p{placements}"
    roster, returns = folder / "roster.csv", folder / "returns"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        t0 = time.perf_counter()
        write_roster(roster, placements)
        files = write_returns(roster, returns)
        (folder / "done").write_text(str(files))
        print(f"  (made {placements} placements, {files} returns in {time.perf_counter() - t0:.0f} s)", flush=True)
    return roster, returns


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def bench_pack(data: Path, rounds: int) -> dict[str, float]:
    roster, _ = dataset(data, 1000)
    best: dict[str, float] | None = None
    for i in range(rounds):
        out = data / f"outbox-{i}"
        shutil.rmtree(out, ignore_errors=True)
        r = run_cli(["pack", "--roster", str(roster), "-o", str(out)])
        shutil.rmtree(out, ignore_errors=True)
        if best is None or r["wall"] < best["wall"]:
            best = r
    assert best is not None
    print(
        f"pack, 1,000 placements (125 schools, 1,875 files): wall {best['wall']:.2f} s, CPU {best['cpu']:.2f} s"
        f" (best of {rounds}) - target <= 4 s: {verdict(best['wall'] <= 4)} (on CPU time: {verdict(best['cpu'] <= 4)})"
    )
    return best


def bench_cores(data: Path, rounds: int, files: int) -> dict[str, float]:
    _, returns = dataset(data, 1000)
    paths = sorted(str(p) for p in returns.iterdir())[:files]
    jobs = cpu_count()
    times: dict[int, list[float]] = {1: [], jobs: []}
    for _ in range(rounds):
        for j in (1, jobs):
            t0 = time.perf_counter()
            n = sum(1 for _ in parse_many(paths, jobs=j))
            times[j].append(time.perf_counter() - t0)
            assert n == len(paths)
    one, many = min(times[1]), min(times[jobs])
    ratio = one / many
    print(
        f"parse_many of {len(paths)} files: jobs=1 {len(paths) / one:.0f} files/s, jobs={jobs} {len(paths) / many:.0f} files/s"
        f" -> {ratio:.2f}x (best of {rounds}) - target >= 1.7x on 2 cores: {verdict(ratio >= 1.7)}"
    )
    return {"files": len(paths), "jobs": jobs, "one_s": one, "many_s": many, "ratio": ratio}


def bench_reconcile(data: Path, placements: int, jobs: int | None, *, judge: bool, second: bool = False) -> dict[str, object]:
    roster, returns = dataset(data, placements)
    files = int((data / f"p{placements}" / "done").read_text())
    # A fresh folder per run: the default register (apdocs.db) is made there, new.
    work = data / f"run-{placements}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    out = work / "tracker.xlsx"
    args = ["reconcile", "--roster", str(roster.resolve()), "-o", str(out.resolve()), str(returns.resolve())]
    if jobs:
        args[1:1] = ["--jobs", str(jobs)]
    terms = [("first term", args)]
    if second:
        terms.append(("second term", args))  # the same register and the tracker the first run wrote
    r: dict[str, object] = {}
    for name, term_args in terms:
        t = run_cli(term_args, cwd=work)
        size = out.stat().st_size / 2**20
        line = (
            f"reconcile, {placements} placements, {files} returns{', ' + name if second else ''}: wall {t['wall']:.1f} s"
            f" (CPU {t['cpu']:.1f} s), peak RSS {t['peak_mb']:.0f} MB (largest worker {t['worker_peak_mb']:.0f} MB),"
            f" tracker {size:.1f} MB"
        )
        if judge:
            line += f" - targets <= 60 s: {verdict(t['wall'] <= 60)}; <= 300 MB: {verdict(t['peak_mb'] <= 300)}"
        print(line, flush=True)
        if not r:
            r.update(t, files=files, placements=placements)
        else:
            r["second_term"] = t
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/tmp/apdocs-country"))
    ap.add_argument("--json", type=Path, default=None, help="write the figures here (for plot_scaling.py)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parse-files", type=int, default=1500)
    ap.add_argument("--skip", nargs="*", default=[], choices=["pack", "cores", "reconcile", "scaling"])
    args = ap.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{cpu_count()} core(s); load average {load:.1f} at start")
    results: dict[str, object] = {"cores": cpu_count(), "load_at_start": load}
    if "pack" not in args.skip:
        results["pack"] = bench_pack(args.data, args.rounds)
    if "cores" not in args.skip:
        results["every_core"] = bench_cores(args.data, args.rounds, args.parse_files)
    if "reconcile" not in args.skip:
        results["reconcile"] = bench_reconcile(args.data, 10_000, None, judge=True, second=True)
    if "scaling" not in args.skip:
        print("cost against batch size (reconcile, every core):")
        results["scaling"] = [bench_reconcile(args.data, p, None, judge=False) for p in (67, 667, 6667)]
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load_end:.1f} at the end (2 cores shared: above ~2 the machine was loaded)")
    results["load_at_end"] = load_end
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
