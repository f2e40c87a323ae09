"""The public library API. The CLI is a thin layer over these functions.

``render_form`` does no I/O (definition -> model -> bytes); ``write_form`` adds the
atomic file write. Compiled templates are cached per (form, format), so rendering
many personalised documents costs one compile.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from apdocs import formats
from apdocs.fileio import atomic_write_bytes
from apdocs.forms import load_form
from apdocs.profile import Profile


@cache
def compiled(form_id: str, fmt: str, profile: Profile | None = None) -> formats.CompiledForm:
    """The compiled template for ``form_id`` in format ``fmt``, worded for ``profile`` (cached)."""
    return formats.get(fmt).compile(load_form(form_id, profile))


def render_form(
    form_id: str, fmt: str = "docx", values: dict[str, Any] | None = None, *, profile: Profile | None = None
) -> bytes:
    """Render a fillable form as bytes, personalised with ``values`` (slot id -> value).

    Header slots (``school_name``, ``provider_name``, ``pupil_reference``, ``reference`` ...)
    are the usual personalisation; any slot may be pre-filled. Missing values stay blank.
    """
    return compiled(form_id, fmt, profile).render(values or {})


def write_form(
    form_id: str,
    fmt: str,
    path: str | os.PathLike[str],
    values: dict[str, Any] | None = None,
    *,
    overwrite: bool = False,
    profile: Profile | None = None,
) -> Path:
    """Render and write atomically; refuses to replace an existing file unless ``overwrite``."""
    return atomic_write_bytes(path, render_form(form_id, fmt, values, profile=profile), overwrite=overwrite)
