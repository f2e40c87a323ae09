"""Profiles: any Virtual School, not only Leicestershire.

The second authority here ("Wessex", synthetic) renders every output apdocs makes; none of
them may keep a trace of Leicestershire in text, properties or file names, and its own
thresholds must change the findings.
"""

from __future__ import annotations

import collections
import datetime as dt
import email
import email.policy
import io
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import apdocs
from apdocs.cli import main
from apdocs.profile import ProfileError, default_profile, load_profile
from apdocs.reconcile import load_config, reconcile

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "samples" / "roster.csv"
RETURNS = ROOT / "samples" / "returns"
AS_OF = "2025-03-31"
TRACE = re.compile(rb"leicestershire|leics", re.IGNORECASE)

WESSEX = """\
organisation: Wessex County Council Virtual School
authority: Wessex
council: Wessex County Council
return_address: virtualschool@wessex.example.gov.uk
sender: ap-returns@wessex.example.gov.uk
postal_address: [Children's Services, Shire Hall, Casterbridge, WX1 2AB]
phone: 01234 567890
website: https://wessex.example.gov.uk/virtual-school
letterhead_footer: [Wessex County Council, Shire Hall, Casterbridge WX1 2AB]
signatory: {name: B. Head, role: Virtual School Head, email: b.head@wessex.example.gov.uk, phone: 01234 567891}
logo: logo.png
return_within_days: 21
thresholds:
  assessment_overdue_months: 6
  evidence_stale_months: 6
  full_time_package_hours: 25
  el_legal_minimum: 6000000
"""


def tiny_png(pixel: bytes = b"\x1f\x4e\x78") -> bytes:
    """A 2x2 PNG of one RGB colour (blue unless ``pixel`` says), made by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + pixel * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def wessex(tmp_path: Path) -> Path:
    folder = tmp_path / "wessex-profile"
    folder.mkdir()
    (folder / "logo.png").write_bytes(tiny_png())
    path = folder / "profile.yaml"
    path.write_text(WESSEX, encoding="utf-8")
    return path


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def traces(name: str, data: bytes, depth: int = 0) -> list[str]:
    """Where ``data`` (a file, a zip part, an email part ...) mentions Leicestershire."""
    found = [f"{name}: {m.group(0)!r}" for m in TRACE.finditer(data)][:1]
    if depth > 3:
        return found
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                if TRACE.search(info.filename.encode()):
                    found.append(f"{name}!{info.filename}: part name")
                found += traces(f"{name}!{info.filename}", z.read(info), depth + 1)
    elif name.endswith(".eml"):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        for part in msg.walk():
            filename = part.get_filename() or ""
            if TRACE.search(filename.encode()):
                found.append(f"{name}: attachment name {filename}")
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found += traces(f"{name}/{filename or part.get_content_type()}", payload, depth + 1)
    return found


def test_every_output_for_another_authority_has_no_trace_of_leicestershire(wessex: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = ("--profile", wessex)
    for form in ("appendix2", "appendix3", "appendix4"):
        for fmt in ("docx", "xlsx"):
            run("blank", form, "--format", fmt, "-o", out / "blank" / f"{form}.{fmt}", *p)
    run("letters", "--roster", ROSTER, "-o", out / "letters", *p)
    run("pack", "--roster", ROSTER, "-o", out / "outbox", "--xlsx", *p)
    run(
        "reconcile",
        "--roster",
        ROSTER,
        "--as-of",
        AS_OF,
        RETURNS,
        "-o",
        out / "tracker.xlsx",
        "--csv",
        out / "findings.csv",
        "--letters",
        out / "feedback",
        *p,
    )
    run("report", "--roster", ROSTER, "--as-of", AS_OF, RETURNS, "-o", out / "report.docx", *p)

    files = sorted(f for f in out.rglob("*") if f.is_file())
    kinds = collections.Counter(f.suffix for f in files)
    assert kinds[".docx"] >= 6 and kinds[".xlsx"] >= 4 and kinds[".eml"] >= 2 and kinds[".csv"] >= 1, kinds
    found: list[str] = []
    for f in files:
        rel = f.relative_to(out).as_posix()
        if TRACE.search(rel.encode()):
            found.append(f"{rel}: file name")
        found += traces(rel, f.read_bytes())
    assert not found, "\n".join(found)

    # ... and the Wessex words are there instead: positive evidence that the profile reached each output.
    eml = next((out / "outbox" / "mail").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["From"].addresses[0].addr_spec == "ap-returns@wessex.example.gov.uk"
    assert "Wessex County Council Virtual School" in str(msg["From"])
    body = msg.get_body(("plain",))
    assert body is not None and "for a Wessex looked-after child" in body.get_content()
    with zipfile.ZipFile(out / "blank" / "appendix4.docx") as z:
        doc = z.read("word/document.xml").decode()
        assert "attended by Wessex Looked-After Children and returned to: virtualschool@wessex.example.gov.uk" in doc
        assert "<dc:creator>Wessex County Council Virtual School</dc:creator>" in z.read("docProps/core.xml").decode()
    letter = next((out / "letters").glob("covering-letter-*.docx"))
    with zipfile.ZipFile(letter) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())
        footer = "".join(re.sub(r"<[^>]+>", "", z.read(n).decode()) for n in z.namelist() if n.startswith("word/footer"))
        assert "the Wessex Virtual School" not in text  # "Leicestershire Virtual School" -> the organisation, whole
        assert "the Wessex County Council Virtual School (VS)" in text
        assert "for a Wessex looked after child" in text and "Shire Hall" in text and "B. Head" in text
        assert "Wessex County Council" in footer
        assert any(n.startswith("word/media/") for n in z.namelist())  # the logo
    assert "virtualschool@wessex.example.gov.uk" in (out / "findings.csv").read_text(encoding="utf-8-sig")


def test_another_authoritys_thresholds_change_the_findings(wessex: Path) -> None:
    roster = apdocs.load_roster(ROSTER)
    records = list(apdocs.parse_many([RETURNS]))
    day = dt.date.fromisoformat(AS_OF)
    counts = {}
    for profile in (default_profile(), load_profile(wessex)):
        result = reconcile(roster, records, load_config(profile=profile), day, profile=profile)
        counts[profile.authority] = collections.Counter(f.code for f in result.findings)
    leics, wx = counts["Leicestershire"], counts["Wessex"]
    assert wx["ANNUAL_ASSESSMENT_OVERDUE"] > leics["ANNUAL_ASSESSMENT_OVERDUE"]  # 6 months, not 12
    assert wx["EVIDENCE_STALE"] > leics["EVIDENCE_STALE"]
    assert wx["EL_BELOW_LEGAL_MINIMUM"] > leics["EL_BELOW_LEGAL_MINIMUM"]  # £6m, not £5m
    assert wx["PART_TIME_PACKAGE"] < leics["PART_TIME_PACKAGE"]  # a 25-hour week, not 32.5


def test_config_file_still_overrides_the_profile(wessex: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("assessment_overdue_months: 18\n")
    profile = load_profile(wessex)
    assert load_config(profile=profile).assessment_overdue_months == 6
    assert load_config(cfg, profile=profile).assessment_overdue_months == 18
    assert load_config(cfg, profile=profile).full_time_package_hours == 25  # the rest stays the profile's


def test_profile_from_environment_and_bad_profiles_are_exit_3(wessex: Path, tmp_path: Path) -> None:
    out = tmp_path / "a4.docx"
    r = CliRunner().invoke(main, ["blank", "appendix4", "-o", str(out)], env={"APDOCS_PROFILE": str(wessex)})
    assert r.exit_code == 0, r.output
    assert b"Wessex" in zipfile.ZipFile(out).read("word/document.xml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("organisation: X\nauthority: Y\nreturn_address: a@b\ncolour: red\n")
    r = CliRunner().invoke(main, ["forms", "--profile", str(bad)])
    assert r.exit_code == 3 and "colour" in r.output
    bad.write_text("organisation: X\nauthority: Y\nreturn_address: a@b\nthresholds: {el_legal_minimum: lots}\n")
    r = CliRunner().invoke(main, ["reconcile", "--roster", str(ROSTER), "--json", "--profile", str(bad)])
    assert r.exit_code == 3 and "el_legal_minimum" in r.output
    with pytest.raises(ProfileError, match="needs 'authority'"):
        load_profile(_write(tmp_path / "p.yaml", "organisation: X\nreturn_address: a@b\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_a_commented_profile_and_never_replaces_one(tmp_path: Path) -> None:
    run("init", tmp_path)
    path = tmp_path / "apdocs-profile.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# apdocs profile") and "thresholds:" in text
    assert load_profile(path) == load_profile(path)  # it loads, and is the bundled default's content
    assert load_profile(path).organisation == default_profile().organisation
    path.write_text(text.replace("Leicestershire Virtual School", "Edited VS", 1), encoding="utf-8")
    r = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert r.exit_code == 3 and "already there" in r.output
    assert "Edited VS" in path.read_text(encoding="utf-8")


def test_leicestershire_profile_fills_the_marked_places_with_the_letters_words(source_text: str) -> None:
    # The definitions hold placeholders where the letter names the authority; the bundled profile restores the words.
    form = apdocs.load_form("appendix4")
    assert form.intro[0] in source_text and "{" not in form.intro[0]
    raw = (ROOT / "apdocs" / "forms" / "definitions" / "appendix4.yaml").read_text(encoding="utf-8")
    assert "{authority}" in raw and "Leicestershire" not in raw.split("intro:")[1].splitlines()[0]


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_another_authoritys_forms_read_back(wessex: Path, fmt: str) -> None:
    # Readers find answers by slot and question wording, which no profile changes.
    profile = load_profile(wessex)
    for form in ("appendix2", "appendix3", "appendix4"):
        data = apdocs.render_form(form, fmt, {"school_name": "Hollybank Primary", "reference": "R-1"}, profile=profile)
        record = apdocs.parse(data)
        assert (record.form, record.header["school_name"], record.reference) == (form, "Hollybank Primary", "R-1")
        assert not record.warnings


def test_profile_thresholds_may_hold_lists_and_mappings(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.yaml",
        "organisation: X VS\nauthority: X\nreturn_address: vs@x.example\n"
        "thresholds: {yes_no_questions: [q2, q5], core_subjects: {English: [english], maths: [maths]}}\n",
    )
    profile = load_profile(path)
    assert apdocs.load_form("appendix4", profile).organisation == "X VS"  # forms are cached per profile: it hashes
    cfg = load_config(profile=profile)
    assert cfg.yes_no_questions == ("q2", "q5") and set(cfg.core_subjects) == {"English", "maths"}


def test_every_command_but_init_takes_profile() -> None:
    """`init` writes a profile; every other command, register ones included, takes --profile / $APDOCS_PROFILE."""
    import click

    def leaves(cmd: click.Command, name: str) -> list[tuple[str, click.Command]]:
        if isinstance(cmd, click.Group):
            return [leaf for n, c in cmd.commands.items() for leaf in leaves(c, f"{name} {n}".strip())]
        return [(name, cmd)]

    commands = leaves(main, "")
    assert len(commands) > 10
    without = [n for n, c in commands if not any(getattr(p, "envvar", None) == "APDOCS_PROFILE" for p in c.params)]
    assert without == ["init"]


def test_a_logo_replaced_under_the_same_name_reaches_the_next_letter(wessex: Path) -> None:
    """Letters are compiled once per template and profile; a new logo saved over the old file
    (same name, as an officer would) must not leave the old picture in later letters."""
    from apdocs.reports.letters import load_letter_context, render_letter

    def media(letter: bytes) -> list[bytes]:
        with zipfile.ZipFile(io.BytesIO(letter)) as z:
            return [z.read(n) for n in z.namelist() if n.startswith("word/media/")]

    logo = wessex.parent / "logo.png"
    profile = load_profile(wessex)
    first = render_letter("appendix1", load_letter_context(profile=profile), profile=profile)
    assert media(first) == [tiny_png()]
    red = tiny_png(b"\xc0\x10\x20")
    logo.write_bytes(red)
    # the same size, so only the modification time tells the files apart (one second later)
    os.utime(logo, ns=(logo.stat().st_atime_ns, logo.stat().st_mtime_ns + 1_000_000_000))
    profile = load_profile(wessex)
    second = render_letter("appendix1", load_letter_context(profile=profile), profile=profile)
    assert media(second) == [red]
