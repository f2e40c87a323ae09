"""Safe file names for things that arrive by email.

An attachment's name is chosen by whoever sent it, so before it becomes part of a path it
loses anything that could climb out of the archive (``../``, drive letters, either slash),
control characters, characters Windows forbids, and names Windows reserves for devices
(``CON``, ``NUL``, ``COM1`` ...). :func:`unique_name` then avoids collisions in one folder.
"""

from __future__ import annotations

import re
import unicodedata

#: Device names Windows reserves whatever the extension ("nul.docx" is still NUL).
RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "123456789¹²³"}
)
#: Longest name kept, in UTF-8 bytes: comfortably inside every common filesystem's 255.
MAX_NAME_BYTES = 120
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def safe_name(name: str | None, fallback: str = "attachment") -> str:
    """A harmless single path component derived from ``name`` (never empty, never a path)."""
    text = unicodedata.normalize("NFC", name or "")
    # Keep only the last component whichever separator the sender's system used.
    text = re.split(r"[/\\]", text)[-1]
    text = _FORBIDDEN.sub("_", text)
    text = text.strip(" .")  # leading dots hide files; trailing dots/spaces vanish on Windows
    if not text:
        text = fallback
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if stem.split(".")[0].upper().rstrip() in RESERVED:
        stem = "_" + stem
    return _shorten(stem, ext)


def _shorten(stem: str, ext: str) -> str:
    ext = ext[:16]
    suffix = f".{ext}" if ext else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    data = stem.encode()[:budget]
    stem = data.decode("utf-8", errors="ignore").strip(" .") or "attachment"
    return stem + suffix


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... - the first not in ``taken`` (case-insensitive)."""
    lowered = {t.casefold() for t in taken}
    if name.casefold() not in lowered:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = _shorten(f"{stem} ({n})", ext)
        if candidate.casefold() not in lowered:
            return candidate
        n += 1
