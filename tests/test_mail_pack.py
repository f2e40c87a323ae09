"""apdocs pack: per-school packs, one .eml each, manifest, safe re-runs."""

from __future__ import annotations

import csv
import email
import email.policy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.errors import TemplateError
from apdocs.mail.errors import OutboxError
from apdocs.mail.pack import plan, write_pack
from apdocs.mail.references import reference_id
from apdocs.roster import load_roster
from tests.mail_helpers import SAMPLE_ROSTER

MEDIA = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _msg(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def test_plan_follows_the_roster_and_leaves_out_seip() -> None:
    roster = load_roster(SAMPLE_ROSTER)
    packs = {p.school.name: p for p in plan(roster)}
    direct = [p for p in roster if p.commissioned_by == "school"]
    assert any(p.commissioned_by == "seip" for p in roster)  # the sample has SEIP rows to leave out
    a4 = [(d.pupil_reference, d.provider.name) for pk in packs.values() for d in pk.documents if d.form_id == "appendix4"]
    assert sorted(a4) == sorted((p.pupil_reference, p.provider.name) for p in direct)
    for name, pk in packs.items():
        providers = {p.provider.name for p in direct if p.school.name == name}
        for form in ("appendix2", "appendix3"):
            assert sorted(d.provider.name for d in pk.documents if d.form_id == form) == sorted(providers)


def test_reference_ids_are_deterministic_and_distinct() -> None:
    a = reference_id("appendix4", "Hollybank Primary", "Forge Farm Skills", "LAC-0001")
    assert a == reference_id("appendix4", "hollybank primary", "Forge Farm Skills.", "lac-0001")
    assert a != reference_id("appendix4", "Hollybank Primary", "Forge Farm Skills", "LAC-0002")
    assert a != reference_id("appendix2", "Hollybank Primary", "Forge Farm Skills")
    assert a.startswith("VS-A4-") and "LAC" not in a


def test_pack_writes_one_correct_email_per_school(tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    res = CliRunner().invoke(
        main, ["pack", "--roster", str(SAMPLE_ROSTER), "-o", str(out), "--xlsx", "--from", "vs@council.example"]
    )
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    roster = load_roster(SAMPLE_ROSTER)
    emls = sorted((out / "mail").glob("*.eml"))
    assert len(emls) == len(plan(roster)) == 3
    for pk in plan(roster):
        rows = [r for r in manifest["files"] if r["school"] == pk.school.name]
        eml = out / next(r["file"] for r in rows if r["role"] == "email")
        msg = _msg(eml)
        assert msg["From"].addresses[0].addr_spec == "vs@council.example"
        assert str(msg["Reply-To"]) == "vs@council.example"
        assert str(msg["To"]) == pk.school.email
        assert pk.school.name in str(msg["Subject"])
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
        atts = {a.get_filename(): a for a in msg.iter_attachments()}
        docs = [r for r in rows if r["role"] in ("form", "letter")]
        assert sorted(atts) == sorted(Path(r["file"]).name for r in docs)
        for r in docs:
            part = atts[Path(r["file"]).name]
            assert part.get_content_type() == MEDIA[Path(r["file"]).suffix]
            assert part.get_content() == (out / r["file"]).read_bytes()
        forms = [r for r in rows if r["role"] == "form"]
        assert len(forms) == 2 * len(pk.documents)  # docx and xlsx
        body = msg.get_body(("plain",)).get_content()
        assert all(d.reference in body for d in pk.documents)
        assert any(r["role"] == "letter" for r in rows)
    # Every file listed, with its real hash.
    import hashlib

    for r in manifest["files"]:
        assert hashlib.sha256((out / r["file"]).read_bytes()).hexdigest() == r["sha256"]
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(manifest["files"])


def test_rerun_into_the_same_outbox_is_safe_and_stable(tmp_path: Path) -> None:
    roster = load_roster(SAMPLE_ROSTER)
    out = tmp_path / "outbox"
    first = write_pack(roster, out)
    ids1 = {p.name: str(_msg(p)["Message-ID"]) for p in (out / "mail").glob("*.eml")}
    second = write_pack(roster, out)
    ids2 = {p.name: str(_msg(p)["Message-ID"]) for p in (out / "mail").glob("*.eml")}
    assert ids1 == ids2
    assert [(f["file"], f["reference"]) for f in first.files] == [(f["file"], f["reference"]) for f in second.files]
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json", "manifest.csv"}
    assert on_disk == {f["file"] for f in second.files}


def test_files_no_longer_wanted_are_removed_on_rerun(tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    write_pack(load_roster(SAMPLE_ROSTER), out, xlsx=True)
    write_pack(load_roster(SAMPLE_ROSTER), out)  # without --xlsx now
    assert not list(out.rglob("*.xlsx"))


def test_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("an officer's own file")
    with pytest.raises(OutboxError, match="not an apdocs outbox"):
        write_pack(load_roster(SAMPLE_ROSTER), tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "an officer's own file"


def test_manifest_csv_neutralises_formulas(tmp_path: Path) -> None:
    text = SAMPLE_ROSTER.read_text(encoding="utf-8").replace("Hollybank Primary", '=HYPERLINK("http://x")')
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text(text, encoding="utf-8")
    out = tmp_path / "outbox"
    write_pack(load_roster(roster_path), out)
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        schools = {row["school"] for row in csv.DictReader(fh)}
    assert '\'=HYPERLINK("http://x")' in schools
    assert not any(s.startswith("=") for s in schools)


def test_a_template_typo_fails_loudly(tmp_path: Path) -> None:
    from apdocs.mail.compose import default_template_dir

    tdir = tmp_path / "t"
    tdir.mkdir()
    for p in default_template_dir().iterdir():
        (tdir / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (tdir / "subject.txt.j2").write_text("Forms for {{ school.nmae }}\n")
    with pytest.raises(TemplateError, match=r"subject\.txt\.j2"):
        write_pack(load_roster(SAMPLE_ROSTER), tmp_path / "outbox", template_dir=tdir)


def test_html_body_escapes_roster_text(tmp_path: Path) -> None:
    text = SAMPLE_ROSTER.read_text(encoding="utf-8").replace("Forge Farm Skills", "Forge <b>Farm</b> & Skills")
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text(text, encoding="utf-8")
    write_pack(load_roster(roster_path), tmp_path / "outbox")
    html = _msg(tmp_path / "outbox" / "mail" / "Hollybank-Primary.eml").get_body(("html",)).get_content()
    assert "Forge &lt;b&gt;Farm&lt;/b&gt; &amp; Skills" in html and "<b>Farm</b>" not in html
