"""Draw how reconcile's time and peak memory grow with the batch size, for the README.

Reads the figures ``bench_scale.py --json FILE`` wrote (measured, never typed in) and writes
a PNG. Needs matplotlib (``pip install -e '.[bench]'``).

Run: python benchmarks/plot_scaling.py [benchmarks/results/scale.json] [-o docs/scaling.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, nargs="?", default=Path("benchmarks/results/scale.json"))
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/scaling.png"))
    args = ap.parse_args()
    data = json.loads(args.results.read_text())
    points = sorted(data["scaling"], key=lambda r: r["files"])
    if "reconcile" in data and all(p["files"] != data["reconcile"]["files"] for p in points):
        points.append(data["reconcile"])
    files = [p["files"] for p in points]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    ax_t.loglog(files, [p["wall"] for p in points], "o-", label="wall time")
    ax_t.loglog(files, [p["files"] * points[0]["wall"] / points[0]["files"] for p in points], ":", color="grey", label="linear")
    ax_t.set(xlabel="return files", ylabel="seconds", title="apdocs reconcile: time")
    ax_t.legend()
    ax_m.semilogx(files, [p["peak_mb"] for p in points], "o-", label="main process")
    ax_m.semilogx(files, [p["worker_peak_mb"] for p in points], "s--", label="largest worker")
    ax_m.axhline(300, color="red", lw=0.8, ls="--", label="target 300 MB")
    ax_m.set(xlabel="return files", ylabel="peak RSS (MB)", title="apdocs reconcile: peak memory", ylim=(0, None))
    ax_m.legend()
    load = data.get("load_at_start")
    fig.suptitle(f"{data['cores']} cores, load average {load:.1f} at start (shared machine)", fontsize=9)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
