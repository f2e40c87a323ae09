"""607 public office files from other projects' test suites (``../shared/real-world-office-files``,
none of them one of our forms, some broken on purpose), read in one ``apdocs parse --json``
batch: each file answered once, with a record or a typed error named in README; strict JSON
throughout; no crash (READ_FAILED), no hang, and no false form (any record here is one).

The batch runs in a child process under a 2 GiB address-space limit; the timeout only
guards against a hang and is not a timing assertion.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import CORPUS, require_corpus

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_SECONDS = 900
ADDRESS_SPACE = 2 * 1024**3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _strict(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


@pytest.fixture(scope="module")
def batch() -> tuple[list[str], list[dict]]:
    require_corpus()
    rows = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    expected = sorted(row.split("\t")[0] for row in rows if row.strip())
    proc = subprocess.run(
        [sys.executable, "-m", "apdocs", "parse", "--json", str(CORPUS / "files")],
        capture_output=True,
        timeout=HANG_GUARD_SECONDS,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")[-3000:]
    results = json.loads(proc.stdout, parse_constant=_strict)  # NaN / Infinity are not JSON
    return expected, results


def _readme_error_codes() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("### Error codes", 1)[1].split("\n### ", 1)[0]
    return {code for row in re.findall(r"^\| (`[^|]+`) \|", table, re.M) for code in re.findall(r"`([A-Z_]+)`", row)}


def test_every_file_is_answered_exactly_once(batch):
    expected, results = batch
    got = sorted(str(Path(r["source"]["path"]).relative_to(CORPUS / "files")) for r in results)
    assert got == expected


def test_no_file_is_a_false_form(batch):
    _expected, results = batch
    forms = {r["source"]["path"]: r["form"] for r in results if "form" in r}
    assert forms == {}, "files from other projects read as Virtual School forms"


def test_each_failure_is_a_typed_error_from_readme_and_none_a_crash(batch):
    _expected, all_results = batch
    results = [r for r in all_results if "error" in r]  # records are the false-form test's
    documented = _readme_error_codes()
    crashed = [r["source"]["path"] for r in results if r["error"]["code"] == "READ_FAILED"]
    assert crashed == [], "unexpected reader failures (the reader raised something untyped, or ran out of memory)"
    undocumented = {r["error"]["code"] for r in results} - documented
    assert undocumented == set(), f"error codes missing from README: {undocumented}"
    for r in results:
        assert r["error"]["message"] and set(r) == {"source", "error"}
        assert set(r["source"]) == {"path", "sha256", "format"} and len(r["source"]["sha256"]) in (0, 64)
