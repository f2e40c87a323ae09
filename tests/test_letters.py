"""Letters from the editable docxtpl templates: verbatim source text, strict placeholders."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.errors import TemplateError
from apdocs.reports import letters
from apdocs.reports.letter_templates import build_appendix1, build_covering_letter, build_feedback_letter, split_source
from apdocs.reports.letters import dated_context, load_letter_context, render_letter, template_path

ROOT = Path(__file__).resolve().parents[1]
SCHOOL = {"name": "Hollybank Primary", "urn": "120001", "email": "a@b.example", "address_lines": ["1 Hollybank Road", "Anytown"]}


def context(**over: object) -> dict:
    ctx = dated_context(load_letter_context(), dt.date(2025, 4, 1))
    ctx.update(school=dict(SCHOOL))
    ctx.update(over)
    return ctx


def paragraphs(data: bytes) -> list[str]:
    d = docx.Document(io.BytesIO(data))
    out = [p.text for p in d.paragraphs]
    out += [p.text for t in d.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    return [p for p in out if p.strip()]


def test_covering_letter_is_the_source_letter_with_placeholders_filled(source_text: str) -> None:
    text = paragraphs(render_letter("covering", context()))
    assert text[:3] == ["Hollybank Primary", "1 Hollybank Road", "Anytown"]
    assert "Dear Colleague" in text and "A. Officer" in text
    joined = "\n".join(text)
    assert "{{" not in joined and "{%" not in joined
    # 28 days after the letter's date, by default
    assert "should be returned to: virtualschool@leics.gov.uk by Tuesday 29 April 2025." in joined
    assert "Tony Barnard" not in joined and "07947" not in joined  # the real signatory is a placeholder now
    verbatim = [p for p in text if p not in ("Hollybank Primary", "1 Hollybank Road", "Anytown", "1 April 2025")]
    personal = ("A. Officer", "Virtual School Head,", "Email: ", "Tel: ", "should be returned to:")
    checked = 0
    for p in verbatim:
        if not any(m in p for m in personal):
            assert p in source_text, p
            checked += 1
    assert checked >= 15


def test_appendix1_is_verbatim(source_text: str) -> None:
    text = paragraphs(render_letter("appendix1", context()))
    assert text[0] == "Appendix 1" and len(text) > 25
    for p in text:
        assert p in source_text, p
    assert not any("[bookmark" in p for p in text)


def test_committed_templates_match_what_the_builder_makes(source_text: str) -> None:
    # Staff may edit the .docx in Word; until then they are exactly the builder's output (as text).
    for name, built in (
        ("covering", build_covering_letter(source_text)),
        ("appendix1", build_appendix1(source_text)),
        ("feedback", build_feedback_letter()),
    ):
        assert paragraphs(template_path(name).read_bytes()) == paragraphs(built), name


def test_missing_placeholder_is_a_clear_error_naming_it() -> None:
    ctx = context()
    del ctx["return_deadline"]
    ctx["signatory"] = {k: v for k, v in ctx["signatory"].items() if k != "phone"}
    with pytest.raises(TemplateError) as exc:
        render_letter("covering", ctx)
    assert "{{ return_deadline }}" in str(exc.value) and "{{ signatory.phone }}" in str(exc.value)
    assert exc.value.context["placeholders"] == ["return_deadline", "signatory.phone"]
    with pytest.raises(TemplateError, match=r"school\.name"):
        render_letter("covering", context(school={"address_lines": []}))


def test_strict_undefined_catches_what_the_precheck_cannot(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("{{ school['postcode'] }}")
    path = tmp_path / "t.docx"
    d.save(path)
    with pytest.raises(TemplateError, match="postcode"):
        render_letter(path, context())


def test_text_is_escaped_not_markup_and_broken_templates_are_typed_errors(tmp_path: Path) -> None:
    text = paragraphs(render_letter("covering", context(school={**SCHOOL, "name": "Smith & Jones <Academy>"})))
    assert text[0] == "Smith & Jones <Academy>"
    bad = tmp_path / "bad.docx"
    d = docx.Document()
    d.add_paragraph("{{ school.name ")
    d.save(bad)
    with pytest.raises(TemplateError, match="placeholder error"):
        render_letter(bad, context())
    not_docx = tmp_path / "n.docx"
    not_docx.write_text("hello")
    with pytest.raises(TemplateError, match="cannot read template"):
        render_letter(not_docx, context())
    with pytest.raises(TemplateError, match="not found"):
        render_letter(tmp_path / "none.docx", context())


def test_template_is_compiled_once_for_many_letters() -> None:
    letters._compile.cache_clear()
    for i in range(5):
        render_letter("covering", context(school={**SCHOOL, "name": f"School {i}"}))
    info = letters._compile.cache_info()
    assert (info.misses, info.hits) == (1, 4)


def test_feedback_letter_lists_what_is_owed_and_why() -> None:
    owes = [
        {
            "pupil_reference": "LAC-0001",
            "provider": "Greenway",
            "form": "Appendix 4",
            "what": "Question 15 is not answered.",
            "why": "Q",
        },
        {
            "pupil_reference": "",
            "provider": "Greenway",
            "form": "Appendix 2",
            "what": "No Appendix 2 has been received.",
            "why": "W",
        },
    ]
    text = "\n".join(paragraphs(render_letter("feedback", context(as_of="31 March 2025", owes=owes))))
    assert "Question 15 is not answered." in text and "No Appendix 2 has been received." in text
    assert "Guidance: “Q”" in text and "Please send the missing" in text
    assert "We need nothing further" not in text
    nothing = "\n".join(paragraphs(render_letter("feedback", context(as_of="31 March 2025", owes=[]))))
    assert "We need nothing further" in nothing and "Please send the missing" not in nothing


def test_letters_cli_writes_one_per_school_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["letters", "--roster", str(ROOT / "samples" / "roster.csv"), "-o", str(tmp_path)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "appendix1-guidance.docx",
        "covering-letter-hollybank-primary.docx",
        "covering-letter-oakfield-high-school.docx",
        "covering-letter-riverside-academy.docx",
    ]
    again = runner.invoke(main, args)
    assert again.exit_code == 3 and "exists" in again.output
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0
    ctx = tmp_path / "ctx.yaml"
    # A context overrides the profile's signatory detail by detail; a detail set to nothing is an error.
    ctx.write_text("signatory: {name: X, role: null}\n")
    out2 = tmp_path / "two"
    broken = runner.invoke(
        main, ["letters", "--roster", str(ROOT / "samples" / "roster.csv"), "-o", str(out2), "--context", str(ctx)]
    )
    assert broken.exit_code == 3 and "signatory.role" in broken.output
    assert not out2.exists() or not any(out2.iterdir())  # nothing half-written


def test_split_source_finds_letter_and_appendix1(source_text: str) -> None:
    letter, a1 = split_source(source_text)
    assert letter[0] == "Dear Colleague" and "Appendix 1" in a1[:3]
    assert not any(line.startswith("Appendix 2") for line in a1)


def test_schools_whose_names_slug_alike_get_a_letter_each(tmp_path: Path) -> None:
    from apdocs.roster import roster_from_rows

    header = ROOT.joinpath("samples", "roster.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row |= {"school_urn": "120001", "provider_name": "Greenway", "provider_type": "unregistered", "sole_trader": "n"}
    row |= {"provider_daytime_hours": "10", "provider_full_time_pupils": "1", "commissioned_by": "school"}
    row |= {"hours_per_week": "10", "placement_start": "2024-09-02", "ehc_plan": "n", "medical_reason": "n"}
    names = ("St Mary's", "St Mary s", "École Sainte-Marie")
    rows = [(1, header)]
    for line, name in enumerate(names, 2):
        cells = {**row, "school_name": name, "school_email": f"s{line}@x.example", "pupil_reference": f"LAC-{line}"}
        rows.append((line, [cells[h] for h in header]))
    roster = roster_from_rows(rows)
    assert len(roster.schools) == 3
    paths = letters.write_covering_letters(roster, tmp_path)
    assert sorted(p.name for p in paths) == [
        "appendix1-guidance.docx",
        "covering-letter-ecole-sainte-marie.docx",
        "covering-letter-st-mary-s-2.docx",
        "covering-letter-st-mary-s.docx",
    ]


def test_deadline_follows_the_letter_date_unless_the_context_fixes_it() -> None:
    day = dt.date(2026, 11, 29)  # a Sunday
    # 28 days on is a Sunday: the deadline moves on to the Monday
    assert dated_context({}, day) == {"letter_date": "29 November 2026", "return_deadline": "Monday 28 December 2026"}
    assert dated_context({"return_within_days": 10}, day)["return_deadline"] == "Wednesday 9 December 2026"
    fixed = {"return_deadline": "Friday 16 May 2025", "letter_date": "1 April 2025"}
    assert dated_context(fixed, day) == fixed
