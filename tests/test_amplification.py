"""Amplification attacks: small files whose text a cell-by-cell or control-by-control reader
would multiply. Each must be refused (``TEXT_TOO_LARGE``) or read, well under 1 GiB, with the
batch going on.

The batch runs in a child process limited to 1 GiB of address space (RLIMIT_AS): a reader that
needed more would die of MemoryError, which ``parse_many`` reports as READ_FAILED. The timeout
only guards against a hang; nothing here times the parse.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from apdocs import api
from apdocs.formats.wording import MAX_FORM_TEXT
from apdocs.forms import load_form
from apdocs.parse import parse
from tests import amplify

ONE_GIB = 1024**3
HANG_GUARD_SECONDS = 300


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ONE_GIB, ONE_GIB))


def _questions_then_huge_answers() -> bytes:
    """Our Appendix 4 typed by hand, each answer a 550 KB paragraph: a form, read by wording."""
    big = amplify.words(550_000, line_every=10**9)
    body = "".join(
        f"<w:p><w:r><w:t>{q.text}</w:t></w:r></w:p><w:p><w:r><w:t>{big}</w:t></w:r></w:p>"
        for q in load_form("appendix4").questions()
    )
    return amplify._docx(f'<w:document xmlns:w="{amplify._W}"><w:body>{body}</w:body></w:document>')


# file name -> (bytes builder, expected: an error code, or the form read)
ATTACKS = {
    "sst-8mb-x99000.xlsx": (lambda: amplify.xlsx_shared_string_bomb(), "TEXT_TOO_LARGE"),
    "sst-8mb-x99000-marked.xlsx": (lambda: amplify.xlsx_shared_string_bomb(marker="appendix2"), "TEXT_TOO_LARGE"),
    # Under the text bound (99,000 x ~25 characters): read, each distinct text worked on once.
    "sst-short-x99000-marked.xlsx": (lambda: amplify.xlsx_shared_string_bomb(text_bytes=20, marker="appendix2"), "appendix2"),
    "paragraph-1mb-x9.docx": (lambda: amplify.docx_repeated_paragraph(), "TEXT_TOO_LARGE"),
    "run-2kb-x4500-x9.docx": (lambda: amplify.docx_repeated_paragraph(runs=True), "TEXT_TOO_LARGE"),
    "nested-controls-9mb.docx": (lambda: amplify.docx_nested_controls(), "TEXT_TOO_LARGE"),
    "questions-huge-answers.docx": (_questions_then_huge_answers, "TEXT_TOO_LARGE"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    folder = tmp_path_factory.mktemp("amplify")
    for name, (build, _expected) in ATTACKS.items():
        (folder / name).write_bytes(build())
    good = {"reference": "SYN-AMP-1", "pupil_reference": "P-TEST-01", "q1": "A synthetic answer."}
    (folder / "zz-good.docx").write_bytes(api.render_form("appendix4", "docx", good))
    proc = subprocess.run(
        [sys.executable, "-m", "apdocs", "parse", "--json", str(folder)],
        capture_output=True,
        timeout=HANG_GUARD_SECONDS,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")[-2000:]  # some inputs failed, the batch went on
    out = json.loads(proc.stdout)
    return folder, {Path(r["source"]["path"]).name: r for r in out}


def test_every_attack_file_is_answered_once(batch):
    _folder, results = batch
    assert sorted(results) == sorted([*ATTACKS, "zz-good.docx"])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_refused_or_read_under_one_gib(batch, name):
    _folder, results = batch
    expected = ATTACKS[name][1]
    got = results[name]
    # READ_FAILED here would mean the 1 GiB limit was hit (MemoryError) or the reader broke.
    assert got.get("error", {}).get("code") != "READ_FAILED", got
    if expected.startswith("appendix"):
        assert got.get("form") == expected, got
    else:
        assert got["error"]["code"] == expected, got
        assert f"{MAX_FORM_TEXT:,} characters" in got["error"]["message"]


def test_the_good_return_after_the_attacks_is_read(batch):
    _folder, results = batch
    good = results["zz-good.docx"]
    assert good["form"] == "appendix4" and good["reference"] == "SYN-AMP-1"
    assert good["answers"]["q1"] == "A synthetic answer."


def test_a_form_with_long_answers_under_the_bound_is_still_read():
    # A real answer may run to pages: 15 answers of 20,000 characters are read, not refused.
    long = amplify.words(20_000, line_every=40)
    values = {f"q{i}": long for i in range(1, 16)}
    for fmt in ("docx", "xlsx"):
        record = parse(api.render_form("appendix4", fmt, values))
        assert record.answers["q15"].split() == long.split()
