"""Convert what apdocs cannot read itself (.doc, .xls, .rtf) with LibreOffice, then read that.

Each conversion runs ``soffice --headless --convert-to`` in a sandbox made for it alone:

* a throwaway profile and working folder (``-env:UserInstallation``), deleted afterwards,
  so no conversion sees another's files, settings or recovery data;
* macros off: the profile is seeded with the highest macro security level and macro
  execution disabled, and links are never updated on load;
* nothing fetched: on Linux the process runs in a new network namespace (``unshare -n``)
  where no network exists; elsewhere the profile settings above are the guard;
* a size cap on the input and on the result, and a time limit after which the whole
  process group is killed.

The result (.docx or .xlsx) then goes through the ordinary vetted readers. Without
LibreOffice the file gets a typed error saying so and how to install it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from apdocs.errors import Notice, ParseError
from apdocs.formats.ooxml import cfb_stream_names, sniff
from apdocs.record import ParsedReturn, SourceInfo

log = logging.getLogger("apdocs.formats.convert")

#: Largest file handed to LibreOffice: a legacy form is well under 1 MB.
MAX_INPUT_BYTES = 20 * 1024 * 1024
#: Largest converted file read back.
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
#: Seconds one conversion may take (a cold LibreOffice start is 2-5 s on a slow machine).
TIMEOUT_SECONDS = 90
#: Conversions remembered per process, by input hash (a batch may hold the same file twice).
CACHE_SIZE = 16

INSTALL_HINT = (
    "install LibreOffice so that 'soffice' is on PATH (Debian/Ubuntu: apt-get install libreoffice-writer libreoffice-calc; "
    "Windows/macOS: libreoffice.org), or ask the school to save it as {want}"
)

# Seeded into each throwaway profile: macros never run, links are never updated, no update check.
_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    # "never update links": Writer's LinkUpdateMode NEVER is 0, Calc's ScLkUpdMode LM_NEVER is 1. The
    # network namespace is the guarantee; these only spare LibreOffice the attempt where it has none.
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "1"),
    ("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "1"),
    ("/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments", "AutoCheckEnabled", "false"),
)
_REGISTRY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
    ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(
        f'<item oor:path="{where}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
        for where, name, value in _SETTINGS
    )
    + "</oor:items>\n"
)

_FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML"}

_cache: OrderedDict[tuple[str, str], bytes | ParseError] = OrderedDict()
_cache_lock = threading.Lock()


def soffice() -> str | None:
    """The LibreOffice binary to use: ``APDOCS_SOFFICE`` if set, else ``soffice``/``libreoffice`` on PATH."""
    named = os.environ.get("APDOCS_SOFFICE")
    if named:
        return shutil.which(named) or (named if os.path.isfile(named) else None)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _sandbox_prefix() -> list[str]:
    """``unshare -n`` when this process may make a network namespace (root, or user namespaces allowed)."""
    tool = shutil.which("unshare")
    if not tool or not hasattr(os, "getuid"):
        return []
    if _unshare_works(tool):
        return [tool, "-n"] if os.getuid() == 0 else [tool, "-r", "-n"]
    return []


_unshare_ok: dict[str, bool] = {}


def _unshare_works(tool: str) -> bool:
    if tool not in _unshare_ok:
        args = [tool, "-n", "true"] if os.getuid() == 0 else [tool, "-r", "-n", "true"]
        try:
            _unshare_ok[tool] = subprocess.run(args, capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _unshare_ok[tool] = False
    return _unshare_ok[tool]


def convert(data: bytes, *, source_ext: str, target: str, path: str | None) -> bytes:
    """``data`` (a ``source_ext`` file) converted by LibreOffice to ``target`` ("docx" or "xlsx")."""
    want = f".{target}"
    if len(data) > MAX_INPUT_BYTES:
        raise ParseError(
            f"the {source_ext} file is {len(data)} bytes, more than a form can be ({MAX_INPUT_BYTES} limit)",
            code="FILE_TOO_LARGE",
            path=path,
        )
    key = (hashlib.sha256(data).hexdigest(), target)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            hit = _cache[key]
            if isinstance(hit, ParseError):  # a file LibreOffice could not convert fails the same way again
                raise ParseError(hit.message, code=hit.code, path=path)
            return hit
    binary = soffice()
    if binary is None:
        raise ParseError(
            f"this is a {source_ext} file, which apdocs reads by converting it with LibreOffice, and LibreOffice is not "
            f"installed here; {INSTALL_HINT.format(want=want)}",
            code="CONVERTER_MISSING",
            path=path,
        )
    try:
        out: bytes | ParseError = _run(binary, data, source_ext, target, path)
    except ParseError as exc:
        out = exc
    # a timeout may be the machine's load, not the file's fault: the next attempt tries again
    if not (isinstance(out, ParseError) and out.context.get("timed_out")):
        with _cache_lock:
            _cache[key] = out
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    if isinstance(out, ParseError):
        raise out
    return out


def _run(binary: str, data: bytes, source_ext: str, target: str, path: str | None) -> bytes:
    failed = f"LibreOffice could not convert this {source_ext} file; please ask the school to save it as .{target}"
    with tempfile.TemporaryDirectory(prefix="apdocs-convert-") as tmp:
        work = Path(tmp)
        profile = work / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        src = work / f"return{source_ext}"
        src.write_bytes(data)
        outdir = work / "out"
        cmd = [
            *_sandbox_prefix(),
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            _FILTERS[target],
            "--outdir",
            str(outdir),
            str(src),
        ]
        # only what LibreOffice needs: no proxies, a HOME inside the sandbox
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "SAL_USE_VCLPLUGIN")}
        env.update(HOME=str(work), TMPDIR=str(work), SAL_USE_VCLPLUGIN="svp")
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise ParseError(failed, code="CONVERSION_FAILED", path=path, context={"exception": type(exc).__name__}) from None
        try:
            proc.wait(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ParseError(
                f"LibreOffice took over {TIMEOUT_SECONDS} s to convert this {source_ext} file and was stopped; "
                f"please ask the school to save it as .{target}",
                code="CONVERSION_FAILED",
                path=path,
                context={"timed_out": True},
            ) from None
        finally:
            _kill_group(proc)  # anything it left running in its group
        result = outdir / f"return.{target}"
        if not result.is_file():
            log.info("conversion failed: %s rc=%s", path, proc.returncode)
            raise ParseError(failed, code="CONVERSION_FAILED", path=path)
        if result.stat().st_size > MAX_OUTPUT_BYTES:
            raise ParseError(f"the converted file is larger than any form; {failed}", code="FILE_TOO_LARGE", path=path)
        return result.read_bytes()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# -- the read-only formats that go through the converter ------------------------------------


@dataclasses.dataclass(frozen=True)
class ConvertedFormat:
    """A container read by converting it to ``target`` with LibreOffice."""

    name: str
    extensions: tuple[str, ...]
    target: str
    label: str

    def detect(self, data: bytes) -> bool:
        what = sniff(data)
        if self.name == "rtf":
            return what == "rtf"
        if what != "ole2":
            return False
        names = set(cfb_stream_names(data))
        if {"EncryptionInfo", "EncryptedPackage"} & names:
            return False  # a password-protected .docx/.xlsx: the OOXML opener names it ENCRYPTED
        if self.name == "doc":
            return "WordDocument" in names
        return bool(names & {"Workbook", "Book"}) and "WordDocument" not in names

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from apdocs import formats

        converted = convert(data, source_ext=self.extensions[0], target=self.target, path=path)
        record = formats.get(self.target).read(converted, path=path)
        note = Notice("ROUTE_FALLBACK", f"{self.label} converted to .{self.target} by LibreOffice, then read", where=path)
        return dataclasses.replace(
            record,
            source=SourceInfo(path, hashlib.sha256(data).hexdigest(), self.name),
            warnings=(note, *record.warnings),
        )


DOC = ConvertedFormat("doc", (".doc",), "docx", "an old-style Word .doc file")
XLS = ConvertedFormat("xls", (".xls",), "xlsx", "an old-style Excel .xls file")
RTF = ConvertedFormat("rtf", (".rtf",), "docx", "a Rich Text (RTF) file")


# -- anything else LibreOffice opens: flat XML office files, WordPerfect ----------------------

# (marker in the first bytes, format name, extension LibreOffice is given, target)
_OTHERS = (
    (b'progid="Word.Document"', "wordml", ".xml", "docx"),
    (b"<w:wordDocument", "wordml", ".xml", "docx"),
    (b'progid="Excel.Sheet"', "spreadsheetml", ".xml", "xlsx"),
    (b"urn:schemas-microsoft-com:office:spreadsheet", "spreadsheetml", ".xml", "xlsx"),
    (b"application/vnd.oasis.opendocument.text", "fodt", ".fodt", "docx"),
    (b"application/vnd.oasis.opendocument.spreadsheet", "fods", ".fods", "xlsx"),
)


def _other_kind(data: bytes) -> tuple[str, str, str] | None:
    """(name, extension, target) of a file LibreOffice opens that apdocs has no reader for."""
    if data.startswith(b"\xffWPC"):
        return "wpd", ".wpd", "docx"
    if sniff(data) != "xml":
        return None
    head = data[:4096]
    for marker, name, ext, target in _OTHERS:
        if marker in head and (name not in ("fodt", "fods") or b"<office:document" in head):
            return name, ext, target
    return None


@dataclasses.dataclass(frozen=True)
class FallbackFormat:
    """The converter as a fallback for one more kind LibreOffice opens (see :data:`_OTHERS`)."""

    name: str
    extensions: tuple[str, ...]

    def detect(self, data: bytes) -> bool:
        kind = _other_kind(data)
        return kind is not None and kind[0] == self.name

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from apdocs import formats
        from apdocs.formats.ooxml import has_doctype

        kind = _other_kind(data)
        if kind is None:
            raise ParseError(f"this is not a {self.name} file", code="NOT_A_FORM", path=path)
        name, ext, target = kind
        if has_doctype(data):
            # LibreOffice's XML import would resolve entities: refused before it sees the file
            raise ParseError("the file declares a DTD, which is not allowed in a returned form", code="DTD_FORBIDDEN", path=path)
        converted = convert(data, source_ext=ext, target=target, path=path)
        record = formats.get(target).read(converted, path=path)
        note = Notice("ROUTE_FALLBACK", f"a {name} file converted to .{target} by LibreOffice, then read", where=path)
        return dataclasses.replace(
            record, source=SourceInfo(path, hashlib.sha256(data).hexdigest(), name), warnings=(note, *record.warnings)
        )


FODT = FallbackFormat("fodt", (".fodt",))
FODS = FallbackFormat("fods", (".fods",))
WORDML = FallbackFormat("wordml", (".xml",))
SPREADSHEETML = FallbackFormat("spreadsheetml", (".xml",))
WPD = FallbackFormat("wpd", (".wpd",))
