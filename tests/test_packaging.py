"""A wheel (``pip install .``) carries the letter and email templates, and an installed copy uses them."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import docx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SAMPLE_ROSTER = ROOT / "samples" / "roster.csv"
BUNDLED = "apdocs/_templates"  # where pyproject.toml's package-dir puts templates/ in the wheel

# Left out of the build copy: version control, virtualenvs, caches and earlier builds (a stale
# build/lib would leak removed files into the wheel and hide a packaging mistake).
_NOT_SOURCE = {".git", ".venv", "build", "dist", "out", ".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (top and n in _NOT_SOURCE)}


def _shipped_files(folder: Path) -> list[Path]:
    """Files a build would pick up from ``folder`` (not bytecode caches or hidden editor files)."""
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_ignore, symlinks=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"pip wheel failed (it needs the package index for setuptools):\n{proc.stderr}"
    (built,) = (work / "dist").glob("apdocs-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The wheel unpacked, as pip would lay it out in site-packages."""
    site = wheel.parent.parent / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def _run_installed(site: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Python with only the unpacked wheel and this interpreter's dependencies importable.

    ``-S`` skips site-packages' .pth files, so the dev venv's editable hook for /work/main cannot
    supply apdocs; its site-packages are still on the path (via PYTHONPATH) for the dependencies.
    """
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *deps])
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_wheel_holds_every_template_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = [f"{BUNDLED}/{rel.as_posix()}" for rel in _shipped_files(TEMPLATES)]
    assert any(n.endswith(".docx") for n in expected) and any(n.endswith(".j2") for n in expected)
    assert [n for n in expected if n not in names] == []


@pytest.mark.slow
def test_wheel_holds_every_module(wheel: Path) -> None:
    """pyproject.toml lists the packages by hand (see its comment): a new subpackage must be added there."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    modules = [f"apdocs/{rel.as_posix()}" for rel in _shipped_files(ROOT / "apdocs") if rel.suffix == ".py"]
    assert [m for m in modules if m not in names] == []


@pytest.mark.slow
def test_installed_copy_finds_its_own_templates(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, apdocs, apdocs.resources, apdocs.mail.compose as c;"
        "print(json.dumps([apdocs.__file__, str(apdocs.resources.templates_dir()), str(c.default_template_dir())]))"
    )
    proc = _run_installed(installed, ["-c", probe], tmp_path)
    assert proc.returncode == 0, proc.stderr
    package, letters_dir, email_dir = (Path(p).resolve() for p in json.loads(proc.stdout))
    site = installed.resolve()
    assert package == site / "apdocs" / "__init__.py"  # not the checkout this test runs from
    assert letters_dir == site / BUNDLED
    assert email_dir == site / BUNDLED / "email"


@pytest.mark.slow
def test_installed_cli_writes_letters_and_pack_without_template_flags(installed: Path, tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    proc = _run_installed(installed, ["-m", "apdocs", "letters", "--roster", str(SAMPLE_ROSTER), "-o", str(letters)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    # The signatory now comes from the bundled profile (letter_context.yaml only overrides it).
    signatory = yaml.safe_load((ROOT / "apdocs" / "profile_leicestershire.yaml").read_text(encoding="utf-8"))["signatory"]["name"]
    covering = sorted(letters.glob("covering-letter-*.docx"))
    assert covering
    for path in covering:
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(path.read_bytes())).paragraphs)
        assert signatory in text, path.name

    outbox = tmp_path / "outbox"
    proc = _run_installed(installed, ["-m", "apdocs", "pack", "--roster", str(SAMPLE_ROSTER), "-o", str(outbox)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    with SAMPLE_ROSTER.open(encoding="utf-8", newline="") as fh:
        schools = {row["school_name"] for row in csv.DictReader(fh)}
    assert len(list((outbox / "mail").glob("*.eml"))) == len(schools)


@pytest.mark.slow
def test_installed_copy_creates_a_register_with_its_own_migrations(installed: Path, tmp_path: Path) -> None:
    # The Alembic scripts are found inside the installed package, not in this checkout.
    probe = "import apdocs.register.db as d; print(d.MIGRATIONS)"
    proc = _run_installed(installed, ["-c", probe], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).resolve() == installed.resolve() / "apdocs" / "register" / "migrations"
    proc = _run_installed(installed, ["-m", "apdocs", "findings", "list", "--db", str(tmp_path / "r.db"), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
