"""A synthetic whole-country roster and its returns, for the scale benchmarks.

``roster(n)`` is ``n`` placements in schools of 8 placements each (4 pupils at 2 providers,
providers shared across schools), every one commissioned by its school; ``write_returns``
renders, for each placement, its Appendix 4 and, per school and provider, Appendix 2 and 3,
filled with varied answers (docx, every 4th xlsx), plus a few broken files, as a VS officer's
returns folder would look. Everything is synthetic: fictional schools, providers and pupil
references, never names.

Run: python benchmarks/gen_country.py OUT_DIR [--placements 10000] [--returns]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

from apdocs.api import render_form
from apdocs.mail.pack import form_values, plan
from apdocs.roster import COLUMNS, OPTIONAL_COLUMNS, load_roster

PER_SCHOOL = 8
PUPILS_PER_SCHOOL = 4
PROVIDERS = 400  # shared between schools, as real providers are
TYPES = ["unregistered/other", "registered independent school", "LA-maintained", "non-maintained special school"]


def write_roster(path: Path, n: int) -> Path:
    header = [*COLUMNS, *OPTIONAL_COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            s, k = divmod(i, PER_SCHOOL)
            pupil = s * PUPILS_PER_SCHOOL + k % PUPILS_PER_SCHOOL
            prov = (s * 7 + k // PUPILS_PER_SCHOOL) % PROVIDERS
            ptype = TYPES[prov % len(TYPES)]
            row = {
                "school_name": f"Synthetic School {s:05d}",
                "school_urn": f"{100000 + s}",
                "school_email": f"ap.lead@school{s:05d}.example.sch.uk",
                "school_address": f"{s} School Road; Anytown; AN{s % 9 + 1} 1AA",
                "pupil_reference": f"LAC-{pupil:06d}",
                "provider_name": f"Synthetic Provider {prov:04d}",
                "provider_urn": "" if ptype == "unregistered/other" else f"{200000 + prov}",
                "provider_type": ptype,
                "sole_trader": "y" if prov % 5 == 0 else "n",
                "provider_daytime_hours": str(10 + prov % 25),
                "provider_full_time_pupils": str(prov % 12),
                "commissioned_by": "school",
                "hours_per_week": str(5 + (i % 20)),
                "school_hours_per_week": "" if k >= PUPILS_PER_SCHOOL else str(pupil % 10),  # once per pupil
                "placement_start": (dt.date(2024, 9, 2) + dt.timedelta(days=i % 300)).isoformat(),
                "ehc_plan": "y" if i % 3 == 0 else "n",
                "medical_reason": "y" if i % 11 == 0 else "n",
            }
            w.writerow([row[c] for c in header])
    return path


def answers(form_id: str, n: int) -> dict[str, object]:
    """Varied, plausible answers for every question of a form (no two files alike)."""
    from apdocs.forms import load_form

    out: dict[str, object] = {}
    for i, s in enumerate(load_form(form_id).slots()):
        if s.type == "text":
            out[s.id] = f"Synthetic answer {n}-{i}."
        elif s.type == "bool":
            out[s.id] = (n + i) % 4 != 0
        elif s.type == "date":
            out[s.id] = f"2025-{1 + (n + i) % 12:02d}-{1 + (n * 7 + i) % 28:02d}"
        elif s.type == "choice":
            out[s.id] = s.choices[(n + i) % len(s.choices)]
        else:
            out[s.id] = float((n * 37 + i) % 40)
    return out


def write_returns(roster_path: Path, out: Path, *, limit: int | None = None) -> int:
    """The returns for the roster (at most ``limit`` files); how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for pack in plan(load_roster(roster_path)):
        for doc in pack.documents:
            if limit is not None and n >= limit:
                return n
            fmt = "xlsx" if n % 4 == 3 else "docx"
            values = {**answers(doc.form_id, n), **form_values(doc, pack.school)}
            data = render_form(doc.form_id, fmt, values)
            if n % 500 == 499:  # a broken one now and then: half a file, as a failed upload leaves it
                data = data[: len(data) // 2]
            (out / f"{n:06d}-{doc.form_id}.{fmt}").write_bytes(data)
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--placements", type=int, default=10_000)
    ap.add_argument("--returns", action="store_true", help="also render the returns into OUT/returns")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    roster = write_roster(args.out / "roster.csv", args.placements)
    print(f"roster: {roster} ({args.placements} placements)")
    if args.returns:
        print(f"returns: {write_returns(roster, args.out / 'returns')} file(s) in {args.out / 'returns'}")


if __name__ == "__main__":
    main()
