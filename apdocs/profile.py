"""A Virtual School's profile: who it is, where forms go back to, and the thresholds its letter sets.

One YAML file per Virtual School. Leicestershire's, as in its 2020 letter, is bundled and is the
default; ``--profile PATH`` or ``$APDOCS_PROFILE`` choose another. The profile is loaded once by
the caller (the CLI) and passed down as data: form definitions, guidance quotes and templates mark
the places that name the authority (``{authority}``, ``{organisation}``, ``{council}``,
``{return_address}``) and :meth:`Profile.fill` fills them in. Substituting Leicestershire's
profile gives back the letter's words exactly, which is what the wording tests check.

This module sits low (beside ``forms`` and ``values``): it imports only ``errors`` and ``fileio``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from apdocs.errors import ApdocsError
from apdocs.fileio import OutputExistsError, atomic_write_bytes

PROFILE_ENV = "APDOCS_PROFILE"
BUNDLED = "profile_leicestershire.yaml"
#: The places apdocs' data marks as naming the authority, and the profile field each is filled from.
PLACEHOLDERS = ("authority", "organisation", "council", "return_address")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


class ProfileError(ApdocsError):
    code = "PROFILE_INVALID"


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str
    email: str
    phone: str


@dataclass(frozen=True)
class Profile:
    """Frozen and hashable, so compiled forms can be cached per profile."""

    organisation: str
    authority: str
    council: str
    return_address: str
    sender: str
    reply_to: str
    postal_address: tuple[str, ...]
    phone: str
    website: str
    letterhead_footer: tuple[str, ...]
    signatory: Signatory
    logo: Path | None
    return_within_days: int
    # Not hashed: a threshold may be a mapping (core_subjects). Forms, which are cached per profile, do not use them.
    thresholds: tuple[tuple[str, Any], ...] = field(default=(), hash=False)
    path: str | None = field(default=None, hash=False, compare=False)  # where it was read from, for messages

    def fill(self, text: str) -> str:
        """``text`` with each ``{authority}``-style placeholder replaced by this profile's value."""
        return _PLACEHOLDER.sub(lambda m: str(getattr(self, m.group(1))), text)

    def letter_context(self) -> dict[str, Any]:
        """The values every letter shares (``{{ signatory.name }}``, ``{{ organisation }}`` ...)."""
        return {
            "organisation": self.organisation,
            "authority": self.authority,
            "council": self.council,
            "return_address": self.return_address,
            "postal_address": list(self.postal_address),
            "phone": self.phone,
            "website": self.website,
            "letterhead_footer": list(self.letterhead_footer),
            "signatory": {
                "name": self.signatory.name,
                "role": self.signatory.role,
                "email": self.signatory.email,
                "phone": self.signatory.phone,
            },
            "return_within_days": self.return_within_days,
        }


_REQUIRED = ("organisation", "authority", "return_address")
_TEXT = ("organisation", "authority", "council", "return_address", "sender", "reply_to", "phone", "website")
_LINES = ("postal_address", "letterhead_footer")
_KNOWN = {*_TEXT, *_LINES, "signatory", "logo", "return_within_days", "thresholds"}


def _build(data: Any, path: str) -> Profile:
    def bad(why: str) -> ProfileError:
        return ProfileError(f"profile {why}", path=path)

    if not isinstance(data, dict):
        raise bad("must be a YAML mapping of key: value")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise bad(f"has unknown key(s): {', '.join(unknown)}")
    for key in _REQUIRED:
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise bad(f"needs {key!r} (text)")
    text: dict[str, str] = {}
    for key in _TEXT:
        value = data.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise bad(f"key {key!r} must be text")
        text[key] = "" if value is None else str(value).strip()
    lines: dict[str, tuple[str, ...]] = {}
    for key in _LINES:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise bad(f"key {key!r} must be a list of lines")
        lines[key] = tuple(str(v) for v in value)
    sig = data.get("signatory") or {}
    if not isinstance(sig, dict) or set(sig) - {"name", "role", "email", "phone"}:
        raise bad("key 'signatory' must map name, role, email and phone")
    days = data.get("return_within_days", 28)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise bad("key 'return_within_days' must be a whole number of days from 1 to 365")
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise bad("key 'thresholds' must be a mapping (the keys of `apdocs reconcile --config`)")
    logo = data.get("logo")
    logo_path = None
    if logo:
        logo_path = (Path(path).parent / str(logo)) if not Path(str(logo)).is_absolute() else Path(str(logo))
        if not logo_path.is_file():
            raise bad(f"logo {str(logo)!r} is not a file")
    return Profile(
        organisation=text["organisation"],
        authority=text["authority"],
        council=text["council"] or text["authority"],
        return_address=text["return_address"],
        sender=text["sender"] or text["return_address"],
        reply_to=text["reply_to"] or text["sender"] or text["return_address"],
        postal_address=lines["postal_address"],
        phone=text["phone"],
        website=text["website"],
        letterhead_footer=lines["letterhead_footer"],
        signatory=Signatory(*(str(sig.get(k) or "") for k in ("name", "role", "email", "phone"))),
        logo=logo_path,
        return_within_days=days,
        # Lists become tuples, so the profile stays hashable; reconcile's config validates the keys.
        thresholds=tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in thresholds.items()),
        path=path,
    )


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read profile: {exc}", path=str(path)) from exc


def bundled_profile_text() -> str:
    return resources.files("apdocs").joinpath(BUNDLED).read_text(encoding="utf-8")


@cache
def default_profile() -> Profile:
    """Leicestershire's profile, as in its letter (bundled)."""
    return _build(yaml.safe_load(bundled_profile_text()), BUNDLED)


def load_profile(path: str | os.PathLike[str] | None = None) -> Profile:
    """The profile at ``path``, else at ``$APDOCS_PROFILE``, else the bundled default."""
    chosen = path or os.environ.get(PROFILE_ENV) or None
    if chosen is None:
        return default_profile()
    p = Path(chosen)
    return _build(_read(p), str(p))


def init_profile(folder: str | os.PathLike[str], name: str = "apdocs-profile.yaml") -> Path:
    """Write a commented profile to start from into ``folder``; never replaces an existing file."""
    target = Path(folder) / name
    if target.exists():  # an edited profile is hours of work: init never replaces one, and has no --force
        raise OutputExistsError("a profile is already there; edit it, or init another folder", path=str(target))
    return atomic_write_bytes(Path(folder) / name, bundled_profile_text().encode("utf-8"), overwrite=False, mode=0o644)
