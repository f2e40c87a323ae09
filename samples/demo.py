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


def two_terms(folder: Path, roster: Path) -> None:
    db, tracker = folder / "register.db", folder / "tracker.xlsx"
    spring = ("--roster", roster, "--db", db, "-o", tracker, HERE / "returns")
    apdocs("reconcile", "--as-of", "2025-03-31", *spring)

    # An officer opens the tracker and, on the Findings sheet, accepts a finding and types a note.
    # (The demo does it with openpyxl, as Excel would; the tracker is otherwise untouched.)
    from openpyxl import load_workbook

    wb = load_workbook(tracker)
    ws = wb["Findings"]
    col = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        code, provider = row[col["Code"] - 1].value, row[col["Provider"] - 1].value
        if code == "INSURANCE_BELOW_COUNCIL_EXPECTATION" and provider == "Forge Farm Skills":
            row[col["Decision"] - 1].value = "accept"
            row[col["Officer note"] - 1].value = "Sole trader: £2m public liability agreed with the VS head."
            accepted = row[col["Key"] - 1].value
    wb.save(tracker)
    print(f"\n# The officer typed 'accept' and a note into the tracker for {accepted} (Forge Farm's cover).")

    # Next term: Hollybank's newer Appendix 4 arrives (samples/returns-term2) beside the old returns.
    summer = ("--roster", roster, "--db", db, "-o", tracker, HERE / "returns", HERE / "returns-term2")
    apdocs("reconcile", "--as-of", "2025-07-31", *summer)
    apdocs("findings", "list", "--db", db, "--status", "resolved")
    apdocs("findings", "list", "--db", db, "--status", "accepted")
    print(f"\n# {accepted} is still accepted, with the officer's note; see the Changes sheet of {tracker}.")
    apdocs("history", "--db", db, "--provider", "Forge Farm Skills")


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
            "--db",  # the register: officers' decisions and history, kept across runs
            out / "register.db",
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
        "--db",
        out / "returns" / "register.db",
    )

    # 5. Two terms with the register: an officer's decision survives, a later return resolves findings.
    two_terms(out / "terms", roster)

    # 6. The QA report for Ofsted on the summer term's returns, with the two terms' register behind it:
    #    coverage, key findings, charts, and the trend against spring. A PDF is made too where LibreOffice is installed.
    pdf = ("--pdf",) if shutil.which("soffice") else ()
    apdocs(
        "report",
        "--roster",
        roster,
        "--db",
        out / "terms" / "register.db",
        "--as-of",
        "2025-07-31",
        "-o",
        out / "terms" / "qa-report.docx",
        *pdf,
        HERE / "returns",
        HERE / "returns-term2",
    )

    print(f"\nDone. Everything is in {out}")


if __name__ == "__main__":
    main()
