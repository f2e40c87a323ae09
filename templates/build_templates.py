#!/usr/bin/env python3
"""Rebuild the letter templates in this folder from the Virtual School's source text.

    python templates/build_templates.py [SOURCE_TEXT]

SOURCE_TEXT defaults to ../shared/source/letter-and-appendices.txt beside the project.
The .docx files are committed: VS staff may edit them in Word instead of rebuilding.
"""

from __future__ import annotations

import sys
from pathlib import Path

from apdocs.fileio import atomic_write_bytes
from apdocs.reports.letter_templates import build_appendix1, build_covering_letter, build_feedback_letter

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "shared" / "source" / "letter-and-appendices.txt"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    text = source.read_text(encoding="utf-8")
    for name, data in (
        ("covering_letter.docx", build_covering_letter(text)),
        ("appendix1_guidance.docx", build_appendix1(text)),
        ("feedback_letter.docx", build_feedback_letter()),
    ):
        print(atomic_write_bytes(HERE / name, data, mode=0o644))


if __name__ == "__main__":
    main()
