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


def apdocs(*args: str | Path) -> None:
    cmd = [*APDOCS, *(str(a) for a in args)]
    print("$ apdocs", " ".join(str(a) for a in args), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out").resolve()
    # The demo owns ./out: start clean so reruns show the same result.
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    # 1. The blank pack: every form, in Word and Excel.
    for form in ("appendix2", "appendix3", "appendix4"):
        for fmt in ("docx", "xlsx"):
            apdocs("blank", form, "--format", fmt, "-o", out / "blank" / f"{form}.{fmt}")
    print(f"\nDone. Everything is in {out}")


if __name__ == "__main__":
    main()
