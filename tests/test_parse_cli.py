"""`apdocs parse` and apdocs.parse: the pinned JSON shape, exit codes, format from bytes, quiet logs."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from apdocs import api
from apdocs.cli import main
from apdocs.errors import ParseError
from apdocs.forms import load_form
from apdocs.parse import detect_format, parse, parse_many, parse_result_to_json

ANSWER = "Synthetic answer: the provider showed us its timetable."


def appendix4_values() -> dict[str, object]:
    form = load_form("appendix4")
    values: dict[str, object] = {q.id: f"{ANSWER} ({q.id})" for q in form.questions()}
    values.update(reference="SYN-0042", pupil_reference="P-TEST-42", provider_name="Example Provider Ltd")
    return values


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> Path:
    """A folder of real rendered returns (synthetic data) in both formats."""
    folder = tmp_path_factory.mktemp("returns")
    values = appendix4_values()
    (folder / "b-appendix4.docx").write_bytes(api.render_form("appendix4", "docx", values))
    (folder / "a-appendix4.xlsx").write_bytes(api.render_form("appendix4", "xlsx", values))
    (folder / "notes.txt").write_text("not a return; folders only pick up office files")
    return folder


def run(*args: str):
    return CliRunner().invoke(main, ["parse", *args])


def test_json_is_the_pinned_shape(returns):
    result = run("--json", str(returns))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [Path(r["source"]["path"]).name for r in rows] == ["a-appendix4.xlsx", "b-appendix4.docx"]
    form = load_form("appendix4")
    for row in rows:
        assert set(row) == {"source", "form", "form_version", "reference", "header", "answers", "warnings"}
        path = Path(row["source"]["path"])
        assert row["source"] == {
            "path": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "format": path.suffix[1:],
        }
        assert (row["form"], row["form_version"], row["reference"]) == ("appendix4", form.version, "SYN-0042")
        # spelled out here, not via build_answers: the shape is a contract, not whatever the code does
        assert row["answers"] == {q.id: f"{ANSWER} ({q.id})" for q in form.questions()}
        assert list(row["answers"]) == [f"q{n}" for n in range(1, 16)]
        assert set(row["header"]) == {h.id for h in form.header}
        assert row["header"]["pupil_reference"] == "P-TEST-42"
        assert isinstance(row["warnings"], list)


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_json_shape_of_appendix2_and_appendix3(tmp_path, fmt):
    a2 = load_form("appendix2")
    cover = a2.covers[0].id
    (tmp_path / f"a2.{fmt}").write_bytes(
        api.render_form(
            "appendix2",
            fmt,
            {"e1.seen": True, "e1.date_seen": "2020-03-12", "e1.note": "Copy on file", f"insurance.{cover}.amount": 5e6},
        )
    )
    (tmp_path / f"a3.{fmt}").write_bytes(
        api.render_form("appendix3", fmt, {"visit_date": "2024-11-05", "a1.1": True, "a1.2": False, "a1.notes": "Two lessons"})
    )
    result = run("--json", str(tmp_path / f"a2.{fmt}"), str(tmp_path / f"a3.{fmt}"))
    assert result.exit_code == 0, result.output
    two, three = json.loads(result.stdout)

    assert list(two["answers"]) == [f"e{n}" for n in range(1, 26)] + ["insurance"]
    assert two["answers"]["e1"] == {"seen": True, "date_seen": "2020-03-12", "note": "Copy on file"}
    assert two["answers"]["e2"] == {"seen": None, "date_seen": None, "note": None}
    insurance = two["answers"]["insurance"]
    assert list(insurance) == ["sole_trader", *(c.id for c in a2.covers)]
    assert insurance["sole_trader"] is None
    assert insurance[cover] == {"amount": 5000000.0, "expiry": None}

    assert list(three["answers"]) == ["a1", "a2", "a3", "a4", "overall_judgement"]
    assert three["header"]["visit_date"] == "2024-11-05"
    a1 = three["answers"]["a1"]
    assert set(a1) == {"judgement", "notes", "sources"}
    assert (a1["judgement"], a1["notes"]) == (None, "Two lessons")
    assert list(a1["sources"]) == [f"a1.{n}" for n in range(1, 17)]
    assert (a1["sources"]["a1.1"], a1["sources"]["a1.2"], a1["sources"]["a1.3"]) == (True, False, None)
    assert three["answers"]["overall_judgement"] is None


def test_human_lines_and_exit_code_when_one_fails(returns, tmp_path):
    bad = tmp_path / "scan.docx"
    bad.write_bytes(b"%PDF-1.5\n%%EOF\n")
    result = run(str(returns), str(bad))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(str(returns / "a-appendix4.xlsx")) and "\tappendix4\tSYN-0042\t" in lines[0]
    assert lines[2].startswith(f"{bad}\tFAILED PDF_DAMAGED\t")  # a PDF, whatever its name, but a broken one
    assert "1 file(s) could not be read" in result.stderr


def test_failure_json(tmp_path):
    missing = tmp_path / "missing.docx"
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    result = run("--json", str(missing), str(empty))
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "source": {"path": str(missing), "sha256": "", "format": "unknown"},
            "error": {"code": "FILE_NOT_FOUND", "message": "no such file"},
        },
        {
            "source": {"path": str(empty), "sha256": "", "format": "unknown"},
            "error": {"code": "EMPTY_FILE", "message": rows[1]["error"]["message"]},
        },
    ]
    assert "empty" in rows[1]["error"]["message"]


def test_usage_error_without_inputs():
    assert run().exit_code == 2


def test_format_comes_from_the_bytes_not_the_name(returns, tmp_path):
    swapped = tmp_path / "really-word.xlsx"
    swapped.write_bytes((returns / "b-appendix4.docx").read_bytes())
    assert detect_format(swapped.read_bytes()) == "docx"
    record = parse(swapped)
    assert record.source.format == "docx" and record.reference == "SYN-0042"
    assert detect_format((returns / "a-appendix4.xlsx").read_bytes(), path="x.docx") == "xlsx"


def test_a_file_named_twice_is_read_once(returns):
    f = returns / "b-appendix4.docx"
    assert len(list(parse_many([f, f, returns]))) == 2


def test_parse_from_bytes_and_to_json(returns):
    data = (returns / "b-appendix4.docx").read_bytes()
    record = parse(data, path="in-memory.docx")
    assert record.source.path == "in-memory.docx"
    one = json.loads(parse_result_to_json(record))
    assert one == record.to_dict()
    many = json.loads(parse_result_to_json(parse_many([returns])))
    assert [r["reference"] for r in many] == ["SYN-0042", "SYN-0042"]


def test_parse_raises_typed_errors(tmp_path):
    with pytest.raises(ParseError) as info:
        parse(tmp_path / "nope.docx")
    assert info.value.code == "FILE_NOT_FOUND" and "nope.docx" in str(info.value)
    with pytest.raises(ParseError) as info:
        parse(tmp_path)
    assert info.value.code == "FILE_UNREADABLE"


def test_unexpected_reader_exceptions_become_typed_failures(returns, monkeypatch):
    """A library bug inside a reader must not escape a batch as a raw exception."""
    from apdocs import formats

    real_get = formats.get

    class Exploding:  # fault injection: stands in for a library bug we cannot trigger on demand
        name = "docx"

        def read(self, data, *, path=None):
            raise KeyError("word/secret-part-text")

    monkeypatch.setattr(formats, "get", lambda name: Exploding() if name == "docx" else real_get(name))
    results = list(parse_many([returns]))
    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and failed[0].error.code == "READ_FAILED"
    assert "secret-part-text" not in failed[0].error.message  # library messages may quote content
    assert [r.ok for r in results] == [True, False]


def test_logs_carry_paths_and_counts_never_answers(returns, caplog):
    with caplog.at_level(logging.DEBUG, logger="apdocs"):
        results = list(parse_many([returns, returns / "missing.docx"]))
    assert len(results) == 3
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "b-appendix4.docx" in text and "FILE_NOT_FOUND" in text and "3 file(s), 1 failed" in text
    for secret in ("Synthetic answer", "SYN-0042", "P-TEST-42", "Example Provider"):
        assert secret not in text
