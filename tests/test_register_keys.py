"""Finding keys come from what a finding is about, never from where it sits."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from apdocs.reconcile.findings import Finding
from apdocs.register.keys import finding_key

BASE = Finding.make(
    "QUESTION_UNANSWERED",
    "Question q3 is blank.",
    school="Hollybank Primary",
    pupil_reference="LAC-0001",
    provider="St. Mary's & Co",
    form="appendix4",
    item="q3",
    source="/a/b/one.docx",
)


def test_key_shape() -> None:
    key = finding_key(BASE)
    assert key.startswith("F-") and len(key) == 12 and int(key[2:], 16) >= 0


@given(
    message=st.text(max_size=50),
    source=st.text(min_size=1, max_size=30),
    school_case=st.sampled_from([str.upper, str.lower, str.title]),
    spaces=st.integers(min_value=1, max_value=3),
)
def test_the_message_source_case_and_spacing_do_not_change_the_key(message: str, source: str, school_case, spaces: int) -> None:
    other = replace(
        BASE,
        message=message,
        source=source,
        school=school_case("Hollybank" + " " * spaces + "Primary"),
        provider="st marys and co",
        pupil_reference=" lac-0001 ",
    )
    assert finding_key(other) == finding_key(BASE)


def test_what_the_finding_is_about_does_change_the_key() -> None:
    base = finding_key(BASE)
    for change in (
        {"code": "ANSWER_NOT_SUBSTANTIVE"},
        {"school": "Riverside Academy"},
        {"pupil_reference": "LAC-0002"},
        {"provider": "Forge Farm Skills"},
        {"form": "appendix2"},
        {"item": "q4"},
    ):
        assert finding_key(replace(BASE, **change)) != base, change


def test_findings_about_whole_files_are_told_apart_by_the_file_name() -> None:
    a = Finding.make("RETURN_UNREADABLE", "x", source="/archive/1/a.docx")
    b = Finding.make("RETURN_UNREADABLE", "x", source="/archive/2/b.docx")
    moved = Finding.make("RETURN_UNREADABLE", "y", source="/elsewhere/a.docx")
    assert finding_key(a) != finding_key(b) and finding_key(a) == finding_key(moved)
