"""Word -> PDF with the real LibreOffice (soffice), headless, in a private profile."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from apdocs.errors import ApdocsError

# A tagged PDF carries the headings, table structure, language and alt text for screen readers
# (LibreOffice 7.4+ takes export options as JSON); an untagged one is a picture of text to them.
TAGGED_PDF = 'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"}}'
TIMEOUT_S = 300  # a cold LibreOffice start on a busy machine takes tens of seconds


class PdfError(ApdocsError):
    code = "PDF_FAILED"


class LibreOfficeMissing(PdfError):
    code = "LIBREOFFICE_MISSING"


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise LibreOfficeMissing("--pdf needs LibreOffice (soffice) on PATH; install it, or leave out --pdf")
    return found


def to_pdf(docx: bytes, name: str = "report.docx") -> bytes:
    """The PDF LibreOffice makes of ``docx``. Its own profile folder per call, so a desktop
    LibreOffice (or another conversion) running at the same time neither blocks nor breaks this one."""
    binary = soffice()
    with tempfile.TemporaryDirectory(prefix="apdocs-pdf-") as tmp:
        work = Path(tmp)
        src = work / Path(name).name
        src.write_bytes(docx)
        cmd = [
            binary,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            TAGGED_PDF,
            "--outdir",
            str(work / "out"),
            str(src),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"LibreOffice did not finish within {TIMEOUT_S}s") from exc
        out = work / "out" / (src.stem + ".pdf")
        if not out.is_file():
            raise PdfError(f"LibreOffice made no PDF (exit {proc.returncode})")
        return out.read_bytes()
