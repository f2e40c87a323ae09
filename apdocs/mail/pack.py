"""``apdocs pack``: one personalised pack and one ready-to-send email per commissioning school.

For each school with placements it commissioned *directly* (SEIP placements are covered
by the Council's agreement with the partnership, so they are left out):

* its covering letter (rendered by :mod:`apdocs.reports.letters`);
* one Appendix 4 per pupil x provider;
* one Appendix 2 and one Appendix 3 per provider it uses;
* ``.xlsx`` beside each ``.docx`` when asked;
* ``mail/<school>.eml`` with all of them attached.

Outbox layout::

    OUTBOX/
      manifest.json, manifest.csv     every file written, with its reference id and SHA-256
      schools/<school>/...            the documents
      mail/<school>.eml               one message per school
      send-log.jsonl                  written by apdocs send

Re-running into the same outbox is safe: names and reference ids are deterministic, each
file is replaced atomically, and files a previous run listed that are no longer wanted are
removed (only those: a folder apdocs did not make is refused).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apdocs import formats
from apdocs.api import render_form
from apdocs.errors import Notice
from apdocs.fileio import atomic_write_bytes, sync_files
from apdocs.forms import load_form
from apdocs.mail.compose import Attachment, build_message, render_templates
from apdocs.mail.errors import OutboxError
from apdocs.mail.names import unique_name
from apdocs.mail.references import reference_id
from apdocs.profile import Profile, default_profile
from apdocs.reports.safe import csv_cell
from apdocs.roster import Placement, Provider, Roster, School

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
MANIFEST_COLUMNS = (
    "school",
    "school_email",
    "role",
    "form",
    "format",
    "provider",
    "pupil_reference",
    "reference",
    "file",
    "sha256",
    "bytes",
)

#: (school, its direct placements) -> [(file name, bytes, media type)] of the letters to enclose.
LetterRenderer = Callable[[School, list[Placement]], list[tuple[str, bytes, str]]]
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def covering_letters(
    context_path: str | Path | None = None, *, today: dt.date | None = None, profile: Profile | None = None
) -> LetterRenderer:
    """The Virtual School's covering letter per school, and the Appendix 1 guidance, from
    :mod:`apdocs.reports.letters` (editable Word templates). Appendix 1 is rendered once."""
    from apdocs.reports.letters import dated_context, load_letter_context, render_letter, school_context

    base = dated_context(load_letter_context(context_path, profile=profile), today or dt.date.today())
    guidance = render_letter("appendix1", base, profile=profile)

    def render(school: School, _placements: list[Placement]) -> list[tuple[str, bytes, str]]:
        letter = render_letter("covering", {**base, "school": school_context(school)}, profile=profile)
        return [("Covering-letter.docx", letter, _DOCX_TYPE), ("Appendix1-guidance.docx", guidance, _DOCX_TYPE)]

    return render


@dataclass(frozen=True)
class PlannedDoc:
    form_id: str
    provider: Provider
    reference: str
    placement: Placement | None = None  # Appendix 4 only

    @property
    def pupil_reference(self) -> str | None:
        return self.placement.pupil_reference if self.placement else None


@dataclass(frozen=True)
class SchoolPack:
    school: School
    placements: tuple[Placement, ...]
    documents: tuple[PlannedDoc, ...]


@dataclass
class PackResult:
    outbox: Path
    schools: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outbox": str(self.outbox),
            "schools": self.schools,
            "files": len(self.files),
            "emails": sum(1 for f in self.files if f["role"] == "email"),
            "notices": [n.to_dict() for n in self.notices],
        }


def plan(roster: Roster) -> list[SchoolPack]:
    """What each school is sent, in roster order. Pure: no I/O."""
    by_school: dict[str, list[Placement]] = {}
    schools: dict[str, School] = {}
    for p in roster:
        if p.commissioned_by != "school":
            continue
        by_school.setdefault(p.school.key, []).append(p)
        schools.setdefault(p.school.key, p.school)
    packs = []
    for key, placements in by_school.items():
        school = schools[key]
        docs: list[PlannedDoc] = []
        seen_pairs: set[tuple[str, str]] = set()
        for p in placements:
            if (p.pupil_reference.casefold(), p.provider.key) not in seen_pairs:
                seen_pairs.add((p.pupil_reference.casefold(), p.provider.key))
                ref = reference_id("appendix4", school.name, p.provider.name, p.pupil_reference)
                docs.append(PlannedDoc("appendix4", p.provider, ref, p))
        providers: dict[str, Provider] = {}
        for p in placements:
            providers.setdefault(p.provider.key, p.provider)
        for provider in providers.values():
            for form_id in ("appendix2", "appendix3"):
                docs.append(PlannedDoc(form_id, provider, reference_id(form_id, school.name, provider.name)))
        packs.append(SchoolPack(school, tuple(placements), tuple(docs)))
    return packs


def slug(text: str, limit: int = 48) -> str:
    """ASCII, file-name-safe, readable: "St Mary's C of E" -> "St-Marys-C-of-E"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.replace("'", "").replace("&", " and ")
    out = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-")
    return out or "unnamed"


def form_values(doc: PlannedDoc, school: School) -> dict[str, Any]:
    """Header slots the pack pre-fills; only those the form has are used."""
    values: dict[str, Any] = {
        "school_name": school.name,
        "provider_name": doc.provider.name,
        "reference": doc.reference,
        "registration_number": doc.provider.urn or None,
    }
    if doc.placement is not None:
        values.update(
            pupil_reference=doc.placement.pupil_reference,
            placement_start=doc.placement.start.isoformat(),
            hours_per_week=doc.placement.hours_per_week,
        )
    header = {h.id for h in load_form(doc.form_id).header}
    return {k: v for k, v in values.items() if k in header and v is not None}


def message_id(pack: SchoolPack, domain: str) -> str:
    """Stable for the same school and the same documents, new when the pack's content changes."""
    key = "|".join([pack.school.key, *sorted(d.reference for d in pack.documents)])
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.apdocs@{domain}>"


def write_pack(
    roster: Roster,
    outbox: str | Path,
    *,
    xlsx: bool = False,
    sender: str | None = None,
    reply_to: str | None = None,
    sender_name: str | None = None,
    template_dir: str | Path | None = None,
    reply_by: str | None = None,
    letters: LetterRenderer | None = None,
    now: dt.datetime | None = None,
    on_school: Callable[[SchoolPack], None] | None = None,
    profile: Profile | None = None,
) -> PackResult:
    """Write each school's pack and .eml; From, Reply-To and the wording come from ``profile``
    (default: the bundled one) unless ``sender``/``reply_to`` are given."""
    prof = profile or default_profile()
    sender = sender or prof.sender
    reply_to = reply_to or (prof.reply_to if sender == prof.sender else None)
    out = Path(outbox)
    old = _previous_manifest(out)
    result = PackResult(out)
    fmts = ("docx", "xlsx") if xlsx else ("docx",)
    organisation = prof.organisation
    when = now or dt.datetime.now(dt.UTC)
    domain = sender.rpartition("@")[2] or "localhost"
    taken_dirs: set[str] = set()
    for pack in plan(roster):
        school = pack.school
        folder_name = unique_name(slug(school.name), taken_dirs)
        taken_dirs.add(folder_name)
        folder = out / "schools" / folder_name
        files = _SchoolFiles(out, folder)
        letter_names = []
        for lname, ldata, ltype in letters(school, list(pack.placements)) if letters is not None else []:
            letter_names.append(files.add("letter", lname, ldata, ltype, {"format": Path(lname).suffix.lstrip(".")}))
        docs_for_template = []
        for doc in pack.documents:
            form = load_form(doc.form_id, prof)
            parts = (form.title.replace(" ", ""), doc.pupil_reference and slug(doc.pupil_reference, 24), slug(doc.provider.name))
            base = "_".join(x for x in parts if x)
            for fmt in fmts:
                data = render_form(doc.form_id, fmt, form_values(doc, school), profile=prof)
                row = {
                    "form": doc.form_id,
                    "format": fmt,
                    "provider": doc.provider.name,
                    "pupil_reference": doc.pupil_reference or "",
                    "reference": doc.reference,
                }
                name = files.add("form", f"{base}.{fmt}", data, formats.get(fmt).media_type, row)
                docs_for_template.append(
                    {
                        "filename": name,
                        "title": form.display_name,
                        "provider": doc.provider.name,
                        "pupil_reference": doc.pupil_reference,
                        "reference": doc.reference,
                        "format": fmt,
                    }
                )
        context = {
            "school": {"name": school.name, "email": school.email},
            "documents": docs_for_template,
            "letters": letter_names,
            "organisation": organisation,
            "authority": prof.authority,
            "return_address": reply_to or sender,
            "reply_by": reply_by,
        }
        rendered = render_templates(context, template_dir)
        raw = build_message(
            sender=sender,
            reply_to=reply_to or sender,
            to=school.email,
            rendered=rendered,
            attachments=files.attachments,
            message_id=message_id(pack, domain),
            date=when,
            sender_name=sender_name or organisation,
        )
        eml = out / "mail" / f"{folder_name}.eml"
        atomic_write_bytes(eml, raw, durable=False)  # made durable with the rest before the manifest
        files.listed.append(_row("email", eml.relative_to(out).as_posix(), raw, {"format": "eml"}))
        for row in files.listed:
            row.update(school=school.name, school_email=school.email)
            result.files.append(row)
        result.schools += 1
        if on_school:
            on_school(pack)
    _remove_stale(out, old, {f["file"] for f in result.files})
    # Every document and email reaches the disk before the manifest that lists them is written.
    sync_files(out / f["file"] for f in result.files)
    _write_manifests(out, result, when)
    return result


class _SchoolFiles:
    """Writes one school's documents and remembers them for the email and the manifest."""

    def __init__(self, out: Path, folder: Path) -> None:
        self.out, self.folder = out, folder
        self.attachments: list[Attachment] = []
        self.listed: list[dict[str, Any]] = []
        self.names: set[str] = set()

    def add(self, role: str, name: str, data: bytes, media_type: str, row: dict[str, Any]) -> str:
        name = unique_name(name, self.names)
        self.names.add(name)
        path = self.folder / name
        atomic_write_bytes(path, data, durable=False)  # synced in one pass before the manifest
        self.attachments.append(Attachment(name, data, media_type))
        self.listed.append(_row(role, path.relative_to(self.out).as_posix(), data, row))
        return name


def _row(role: str, file: str, data: bytes, row: dict[str, Any]) -> dict[str, Any]:
    blank = dict.fromkeys(("form", "format", "provider", "pupil_reference", "reference"), "")
    return {**blank, **row, "role": role, "file": file, "sha256": _sha(data), "bytes": len(data)}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _previous_manifest(out: Path) -> set[str]:
    """Files the last pack listed; refuses a non-empty folder apdocs did not make."""
    manifest = out / MANIFEST_JSON
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            return {f["file"] for f in data.get("files", [])}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutboxError(f"outbox manifest unreadable ({exc}); choose another folder", path=str(manifest)) from exc
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutboxError("not an apdocs outbox and not empty; choose a new or empty folder", path=str(out))
    return set()


def _remove_stale(out: Path, old: set[str], new: set[str]) -> None:
    root = out.resolve()
    for rel in sorted(old - new):
        path = (out / rel).resolve()
        if root in path.parents and path.is_file():  # only inside the outbox, only files it listed
            path.unlink()


def _write_manifests(out: Path, result: PackResult, when: dt.datetime) -> None:
    data = {"generated_at": when.isoformat(timespec="seconds"), "schools": result.schools, "files": result.files}
    atomic_write_bytes(out / MANIFEST_JSON, json.dumps(data, indent=2, ensure_ascii=False).encode())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in result.files:
        writer.writerow([csv_cell(row.get(c)) for c in MANIFEST_COLUMNS])  # formula-safe
    # UTF-8 with BOM so Excel shows accented school names correctly.
    atomic_write_bytes(out / MANIFEST_CSV, buf.getvalue().encode("utf-8-sig"))
