#!/usr/bin/env python3
"""The main job on the bundled samples, as a VS officer would run it.

Each step is a plain `apdocs` command, printed before it runs, so this file doubles
as a worked example. Output goes to ./out/ (or the directory given as argument).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
APDOCS = [sys.executable, "-m", "apdocs"]


def apdocs(*args: str | Path, ok: tuple[int, ...] = (0,)) -> None:
    """Run one apdocs command; stop the demo if it exits with a code not in ``ok``."""
    cmd = [*APDOCS, *(str(a) for a in args)]
    print("\n$ apdocs", " ".join(str(a) for a in args), flush=True)
    code = subprocess.run(cmd, check=False).returncode
    if code not in ok:
        sys.exit(f"apdocs exited with {code}")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out").resolve()
    # The demo owns ./out: start clean so reruns show the same result.
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    roster = HERE / "roster.csv"
    as_of = "2025-03-31"  # fixed, so the date-based findings are the same on every run

    # 1. The blank forms, in Word and Excel.
    for form in ("appendix2", "appendix3", "appendix4"):
        for fmt in ("docx", "xlsx"):
            apdocs("blank", form, "--format", fmt, "-o", out / "blank" / f"{form}.{fmt}")

    # 2. Out: a personalised pack and an email per school, then a dry run of sending.
    apdocs("pack", "--roster", roster, "-o", out / "outbox", "--xlsx")
    apdocs("send", out / "outbox", "--smtp", "smtp.example.org:587", "--starttls")

    # 3. Back: ingest the schools' replies (one is broken on purpose, so exit 1 is expected),
    #    then again to show a second run adds nothing.
    for _ in range(2):
        apdocs(
            "ingest",
            HERE / "replies",
            "--archive",
            out / "archive",
            "--roster",
            roster,
            "--tracker",
            out / "tracker.xlsx",
            "--as-of",
            as_of,
            ok=(0, 1),
        )

    # 4. Returns handed in other ways (a folder of files, including a typed-over 2020 form):
    #    reconcile into a tracker, a findings CSV and a feedback letter per school.
    apdocs(
        "reconcile",
        "--roster",
        roster,
        "--as-of",
        as_of,
        HERE / "returns",
        "-o",
        out / "returns" / "tracker.xlsx",
        "--csv",
        out / "returns" / "findings.csv",
        "--letters",
        out / "returns" / "letters",
    )

    # 5. The QA report for Ofsted, from the same roster and returns (add --pdf where LibreOffice is installed).
    apdocs("report", "--roster", roster, "--as-of", as_of, HERE / "returns", "-o", out / "returns" / "qa-report.docx")

    print(f"\nDone. Everything is in {out}")


if __name__ == "__main__":
    main()
