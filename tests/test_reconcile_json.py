"""`apdocs reconcile --json` as a consumer meets it: each placement links to its findings
(Appendix 2 and 3 findings name no pupil, so the join is not obvious), and the as-of date the
date rules used is said, whether given or defaulted to today."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from apdocs.cli import main

ROOT = Path(__file__).resolve().parents[1]
ROSTER = str(ROOT / "samples" / "roster.csv")
RETURNS = str(ROOT / "samples" / "returns")


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, ["reconcile", "--roster", ROSTER, *args, RETURNS], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # the samples include a broken return on purpose
    return result.stdout


def test_each_placement_lists_its_findings_including_a2_and_a3():
    out = json.loads(_run("--as-of", "2025-03-31", "--json"))
    findings = out["findings"]
    linked: set[int] = set()
    for p in out["placements"]:
        mine = [findings[i] for i in p["finding_indexes"]]
        # the severity counts the placement already carried agree with the findings it now lists
        assert {s: sum(f["severity"] == s for f in mine) for s in p["findings"]} == p["findings"]
        for f in mine:
            assert (f["school"], f["provider"]) == (p["school"], p["provider"]) or f["provider"] is None
            if f["pupil_reference"] is not None:
                assert f["pupil_reference"] == p["pupil_reference"]
        linked.update(p["finding_indexes"])
    pair_forms = {findings[i]["form"] for i in linked if findings[i]["pupil_reference"] is None}
    assert {"appendix2", "appendix3"} & pair_forms, "no Appendix 2/3 finding reached a placement"


def test_the_as_of_date_is_said_when_given_and_when_defaulted(tmp_path: Path):
    given = json.loads(_run("--as-of", "2025-03-31", "--json"))
    assert given["as_of"] == "2025-03-31" and given["as_of_given"] is True
    defaulted = json.loads(_run("--json"))
    assert defaulted["as_of"] == dt.date.today().isoformat() and defaulted["as_of_given"] is False

    csv = str(tmp_path / "findings.csv")  # human output needs an output to write
    assert _run("--as-of", "2025-03-31", "--csv", csv).startswith("as of 2025-03-31\n")
    human = _run("--csv", csv)
    assert human.startswith(f"as of {dt.date.today().isoformat()} (today: --as-of was not given)\n")
