"""Letters from editable Word templates (docxtpl): the covering letter, Appendix 1, feedback.

VS staff edit the templates in Word; placeholders are Jinja2 (``{{ school.name }}``,
``{{ signatory.name }}``, ``{{ return_deadline }}``, loops such as
``{%p for line in school.address_lines %}``). A placeholder with no value is a
:class:`~apdocs.errors.TemplateError` naming it - never a letter with a gap in it.
Text is XML-escaped on the way in, so a name like "Smith & Jones <Ltd>" is just text.

Each template is read and parsed once per process (cached on path, size and mtime);
rendering many letters re-uses it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from docxtpl import DocxTemplate
from jinja2 import nodes

from apdocs.errors import TemplateError
from apdocs.fileio import OutputExistsError, atomic_write_bytes
from apdocs.formats.zipwriter import ZipWriter
from apdocs.profile import Profile, default_profile
from apdocs.reports.accessible import finished_template
from apdocs.resources import templates_dir

#: The project's own templates (editable copies VS staff can change in Word), bundled in a wheel.
TEMPLATES_DIR = templates_dir()
DEFAULT_TEMPLATES = {
    "covering": "covering_letter.docx",
    "appendix1": "appendix1_guidance.docx",
    "feedback": "feedback_letter.docx",
}
DEFAULT_CONTEXT = "letter_context.yaml"
#: Each bundled template's document title (the title property screen readers announce).
TITLES = {
    "covering": "Alternative provision quality assurance: covering letter",
    "appendix1": "Appendix 1: guidance on alternative provision",
    "feedback": "Alternative provision quality assurance: what we still need",
}


def template_path(name_or_path: str | os.PathLike[str]) -> Path:
    """``covering``, ``appendix1`` or ``feedback`` -> the bundled template; anything else is a path."""
    name = str(name_or_path)
    path = TEMPLATES_DIR / DEFAULT_TEMPLATES[name] if name in DEFAULT_TEMPLATES else Path(name)
    if not path.is_file():
        raise TemplateError("template not found", path=str(path))
    return path


class _Env(jinja2.Environment):
    """Compiles each distinct template source once: docxtpl calls ``from_string`` on a part's
    whole XML for every letter, and compiling it was most of a letter's cost (a pack renders
    one covering letter per school from the same template)."""

    _COMPILED_KEPT = 64

    def __init__(self) -> None:
        # StrictUndefined: a missing value is an error, not an empty string.
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True)
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> jinja2.Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        found = self._compiled.get(source)
        if found is None:
            if len(self._compiled) >= self._COMPILED_KEPT:
                self._compiled.clear()
            found = self._compiled[source] = super().from_string(source)
        return found


@cache
def _env() -> jinja2.Environment:
    """One environment for every letter (rendering is stateless; compiled parts are reused)."""
    return _Env()


#: The parts docxtpl renders (body, headers, footers, footnotes, core properties); every other
#: part of a letter is the template's own bytes.
_RENDERED = re.compile(r"(word/(document|header[0-9]*|footer[0-9]*|footnotes)\.xml|docProps/core\.xml)")
#: What stands in for the styles while docxtpl renders: python-docx parses styles.xml on every
#: open (350 KB in a Word-made template), and docxtpl never reads or changes it.
_STYLES, _STUB_STYLES = (
    "word/styles.xml",
    (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
    ),
)


@dataclass
class _Compiled:
    data: bytes
    placeholders: tuple[str, ...]  # dotted paths the template needs from the context
    # The fast path: docxtpl opens ``skeleton`` (the template with stub styles) and only the parts
    # it rendered are deflated per letter; ``statics`` holds every other part, deflated once.
    # A pack renders one covering letter per school: re-parsing and re-deflating the ~800 KB of
    # unchanging styles for each was most of a letter's cost.
    skeleton: bytes = b""
    statics: ZipWriter | None = None
    names: frozenset[str] = frozenset()  # every part of the template (without rels and content types)
    relationships: tuple[tuple[str, int], ...] = ()  # rendered part -> its relationship count


@lru_cache(maxsize=16)
def _compile(
    path: str, size: int, mtime: float, title: str, author: str, logo: str | None, logo_stamp: tuple[int, int] | None
) -> _Compiled:
    # ``logo_stamp`` (the logo's size and mtime in ns) is only part of the key: a logo replaced
    # under the same name during a long-lived process must not keep the old picture in letters.
    # Finished once per template and profile, before anything is rendered: the language, title and
    # author live in parts no placeholder touches, so every letter shares them (and the fast path
    # keeps them deflated once); the logo goes into the header before docxtpl renders it, because
    # docxtpl re-creates the header parts it renders.
    data = finished_template(Path(path).read_bytes(), title=title, author=author, logo=Path(logo) if logo else None)
    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
        parts = [tpl.patch_xml(tpl.get_xml())]
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            parts += [tpl.patch_xml(tpl.get_part_xml(part)) for _, part in tpl.get_headers_footers(uri)]
        env = _env()
        needed: list[str] = []
        for source in parts:
            needed += _required_paths(env.parse(source))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template has a placeholder error near line {exc.lineno}: {exc.message}", path=path) from exc
    except Exception as exc:  # not a .docx, or a broken one
        raise TemplateError(f"cannot read template: {exc}", path=path) from exc
    return _with_fast_path(_Compiled(data, tuple(dict.fromkeys(needed))))


def _with_fast_path(compiled: _Compiled) -> _Compiled:
    """The template split into the parts docxtpl renders and the rest (see :class:`_Compiled`)."""
    with zipfile.ZipFile(io.BytesIO(compiled.data)) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
    skeleton = io.BytesIO()
    with zipfile.ZipFile(skeleton, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in entries:
            zf.writestr(name, _STUB_STYLES if name == _STYLES else raw)
    statics = ZipWriter(time.localtime(), level=6)
    for name, raw in entries:
        if not _RENDERED.fullmatch(name):
            statics.add_static(name, raw)
    compiled.skeleton, compiled.statics = skeleton.getvalue(), statics
    opened = DocxTemplate(io.BytesIO(compiled.skeleton))
    opened.init_docx()
    parts = _parts(opened)
    compiled.names = frozenset(parts)
    compiled.relationships = tuple((n, len(p.rels)) for n, p in parts.items() if _RENDERED.fullmatch(n))
    return compiled


def _parts(tpl: DocxTemplate) -> dict[str, Any]:
    # tpl.docx as it stands: init_docx() after a render would reload the template over it.
    return {str(p.partname).lstrip("/"): p for p in tpl.docx.part.package.iter_parts()}


def _fast_output(tpl: DocxTemplate, compiled: _Compiled) -> bytes | None:
    """The rendered letter from its rendered parts and the template's others; None when the
    render added a part or a relationship (a link, an image), which only a full save writes."""
    parts = _parts(tpl)
    if compiled.statics is None or set(parts) != compiled.names:
        return None
    if any(len(parts[n].rels) != count for n, count in compiled.relationships):
        return None
    return compiled.statics.finish([(n, parts[n].blob) for n, _ in compiled.relationships])


def _required_paths(ast: nodes.Template) -> list[str]:
    """Dotted names read from the context (``school.name``), skipping loop variables and defaults."""
    from jinja2 import meta

    top = meta.find_undeclared_variables(ast)
    out: list[str] = []

    def walk(node: nodes.Node) -> None:
        if isinstance(node, nodes.Filter) and node.name == "default":
            return
        if isinstance(node, nodes.Test) and node.name == "defined":
            return
        if isinstance(node, nodes.Getattr | nodes.Name):
            path = _dotted(node)
            if path and path.split(".")[0] in top:
                out.append(path)
                return
        for child in node.iter_child_nodes():
            walk(child)

    walk(ast)
    return out


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base else None
    return None


def _missing(context: dict[str, Any], paths: tuple[str, ...]) -> list[str]:
    missing = []
    for path in paths:
        value: Any = context
        for part in path.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif not isinstance(value, dict) and hasattr(value, part):
                value = getattr(value, part)
            else:
                missing.append(path)
                break
        else:
            if value is None:
                missing.append(path)
    return missing


def _stamp(file: str | None) -> tuple[int, int] | None:
    """A file's size and mtime (ns), to key caches on its contents' version; None when absent."""
    if file is None:
        return None
    try:
        st = os.stat(file)
    except OSError:
        return None  # finished_template reports a missing logo, typed
    return (st.st_size, st.st_mtime_ns)


def render_letter(
    template: str | os.PathLike[str], context: dict[str, Any], *, profile: Profile | None = None, title: str | None = None
) -> bytes:
    """Render a docxtpl template with ``context``; a placeholder with no value is a TemplateError naming it.

    The result is finished for accessibility: en-GB language, a title property (``title``, else
    the bundled template's), the profile's organisation as author, and its logo (with alt text)
    in the page header when the profile has one.
    """
    path = template_path(template)
    st = path.stat()
    prof = profile or default_profile()
    doc_title = title or TITLES.get(str(template), path.stem.replace("_", " ").capitalize())
    logo = str(prof.logo) if prof.logo is not None else None
    compiled = _compile(str(path.resolve()), st.st_size, st.st_mtime, doc_title, prof.organisation, logo, _stamp(logo))
    missing = _missing(context, compiled.placeholders)
    if missing:
        names = ", ".join("{{ " + m + " }}" for m in missing)
        raise TemplateError(f"no value for placeholder(s) {names}", path=str(path), context={"placeholders": missing})
    tpl = _render(compiled.skeleton, context, path)
    fast = _fast_output(tpl, compiled)
    if fast is not None:
        return fast
    tpl = _render(compiled.data, context, path)  # the whole template, saved by docxtpl
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def _render(data: bytes, context: dict[str, Any], path: Path) -> DocxTemplate:
    tpl = DocxTemplate(io.BytesIO(data))
    try:
        tpl.render(context, jinja_env=_env(), autoescape=True)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"no value for a placeholder: {exc.message}", path=str(path)) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template error: {exc}", path=str(path)) from exc
    return tpl


# -- contexts ---------------------------------------------------------------------


def long_date(day: dt.date) -> str:
    """30 March 2024: the form dates take in a letter."""
    return f"{day.day} {day:%B %Y}"


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def long_dates(text: str) -> str:
    """Finding messages give dates as ISO (2024-03-30); a letter reads them as 30 March 2024."""

    def one(m: re.Match[str]) -> str:
        try:
            return long_date(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return m.group(0)

    return _ISO_DATE.sub(one, text)


#: Days schools are given to return the forms when the context sets no ``return_deadline``.
DEFAULT_RETURN_WITHIN_DAYS = 28


def dated_context(base: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """``base`` with the dates a letter needs, counted from ``day`` (the letter's date).

    ``letter_date`` defaults to ``day``; ``return_deadline`` to ``day`` plus
    ``return_within_days`` (default 28, moved on to a weekday), so a deadline never
    falls before its letter.
    Values the context sets itself are kept.
    """
    out = dict(base)
    out.setdefault("letter_date", long_date(day))
    if not out.get("return_deadline"):
        due = day + dt.timedelta(days=int(out.get("return_within_days", DEFAULT_RETURN_WITHIN_DAYS)))
        while due.weekday() >= 5:  # schools return forms on a working day
            due += dt.timedelta(days=1)
        out["return_deadline"] = f"{due:%A} {long_date(due)}"
    return out


def load_letter_context(path: str | os.PathLike[str] | None = None, *, profile: Profile | None = None) -> dict[str, Any]:
    """The letter-wide values (signatory, organisation, return address, deadline ...).

    They come from the profile (default: the bundled one); a context YAML at ``path`` (or the
    bundled ``templates/letter_context.yaml``, which sets nothing until staff edit it) overrides them.
    """
    base = (profile or default_profile()).letter_context()
    p = Path(path) if path else TEMPLATES_DIR / DEFAULT_CONTEXT
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read letter context: {exc}", path=str(p)) from exc
    if not isinstance(data, dict):
        raise TemplateError("letter context must be a YAML mapping", path=str(p))
    if isinstance(data.get("signatory"), dict):  # a context may set only some of the signatory's details
        data["signatory"] = {**base["signatory"], **data["signatory"]}
    data = {**base, **data}
    for key in ("return_deadline", "letter_date"):
        if isinstance(data.get(key), dt.date):
            data[key] = long_date(data[key])
    return data


def school_context(school: Any) -> dict[str, Any]:
    return {"name": school.name, "urn": school.urn, "email": school.email, "address_lines": list(school.address_lines)}


def slug(text: str) -> str:
    """ "St Mary's C of E" -> "st-mary-s-c-of-e"; accents folded ("École" -> "ecole") rather than dropped."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-") or "school"


def _file_names(prefix: str, schools: Any) -> list[str]:
    """One ``PREFIX-<school>.docx`` per school; names that slug alike get ``-2``, ``-3`` rather than replace each other."""
    names: list[str] = []
    for school in schools:
        base = f"{prefix}-{slug(school.name)}"
        name, n = f"{base}.docx", 2
        while name in names:
            name, n = f"{base}-{n}.docx", n + 1
        names.append(name)
    return names


def _write_all(rendered: list[tuple[Path, bytes]], overwrite: bool) -> list[Path]:
    """Write a rendered set of letters; unless ``overwrite``, refuse before writing any if one already exists."""
    if not overwrite:
        existing = [path for path, _ in rendered if path.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise OutputExistsError(f"letter exists{more}; pass --force to replace", path=str(existing[0]))
    return [atomic_write_bytes(path, data, overwrite=overwrite) for path, data in rendered]


def feedback_context(school: Any, result: Any, base: dict[str, Any]) -> dict[str, Any]:
    """What one school still owes, and why, for the feedback letter."""
    from apdocs.reconcile.engine import FORM_TITLES

    owes = [
        {
            "severity": f.severity,
            "pupil_reference": f.pupil_reference or "",
            "provider": f.provider or "",
            "form": FORM_TITLES.get(f.form or "", "") if f.form else "",
            "what": long_dates(f.message),
            "why": f.guidance,
            "code": f.code,
        }
        for f in school.owes
    ]
    return {
        **dated_context(base, result.as_of),
        "school": school_context(school),
        "as_of": long_date(result.as_of),
        "owes": owes,
        "rag": school.rag,
    }


def write_feedback_letters(
    result: Any,
    outdir: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    context_path: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    profile: Profile | None = None,
) -> list[Path]:
    """One feedback letter per roster school: ``OUTDIR/feedback-<school>.docx``.

    Everything is rendered before anything is written, and letters already there (an
    officer may have edited them) are refused unless ``overwrite``.
    """
    base = load_letter_context(context_path, profile=profile)
    out = Path(outdir)
    names = _file_names("feedback", result.schools)
    rendered = [
        (out / name, render_letter(template or "feedback", feedback_context(school, result, base), profile=profile))
        for name, school in zip(names, result.schools, strict=True)
    ]
    return _write_all(rendered, overwrite)


def write_covering_letters(
    roster: Any,
    outdir: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    appendix1: str | os.PathLike[str] | None = None,
    context_path: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    profile: Profile | None = None,
) -> list[Path]:
    """A covering letter per roster school, and Appendix 1 once; refuses to replace files unless ``overwrite``."""
    base = dated_context(load_letter_context(context_path, profile=profile), dt.date.today())
    out = Path(outdir)
    schools = roster.schools
    jobs = [
        (out / name, template or "covering", {**base, "school": school_context(s)})
        for name, s in zip(_file_names("covering-letter", schools), schools, strict=True)
    ]
    jobs.append((out / "appendix1-guidance.docx", appendix1 or "appendix1", base))
    # Render everything before writing anything, so a template error (or a letter already there) leaves no half set.
    rendered = [(path, render_letter(tpl, ctx, profile=profile)) for path, tpl, ctx in jobs]
    return _write_all(rendered, overwrite)
