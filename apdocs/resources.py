"""Where the bundled letter and email templates are, however apdocs was installed.

The repository's top-level ``templates/`` folder is the one source of truth. A wheel
(``pip install .``) ships it as ``apdocs/_templates`` (pyproject.toml maps the folder to
the package ``apdocs._templates``). An editable install or a bare source checkout has no
such folder inside the package, so the repository's own ``templates/`` is used instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The package that pyproject.toml maps the repository's ``templates/`` folder to.
BUNDLED_PACKAGE = "apdocs._templates"


def templates_dir() -> Path:
    """The folder holding ``covering_letter.docx``, ``letter_context.yaml``, ``email/`` ..."""
    # Looked up as a folder inside the regular package ``apdocs`` rather than by importing the
    # namespace package: that gives a plain Path, and an editable install - whose import
    # mapping for it differs between setuptools versions and modes - takes the fallback instead.
    bundled = resources.files("apdocs").joinpath(BUNDLED_PACKAGE.rpartition(".")[2])
    if isinstance(bundled, Path) and bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[1] / "templates"
