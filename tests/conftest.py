from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from apdocs.api import render_form
from apdocs.forms import FORM_IDS
from tests.docx_edit import answers
from tests.office import LibreOffice, require

# CI runs must be reproducible: the same examples every run, no wall-clock deadlines.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SOURCE_TEXT = SHARED / "source" / "letter-and-appendices.txt"


@pytest.fixture(scope="session")
def libreoffice() -> Iterator[LibreOffice]:
    lo = LibreOffice(require("soffice"))
    yield lo
    lo.close()


@pytest.fixture(scope="session")
def source_text() -> str:
    """The Virtual School letter and appendices, as shipped beside the project."""
    if not SOURCE_TEXT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"source text missing: {SOURCE_TEXT}")
        pytest.skip("source text not available beside the project")
    return SOURCE_TEXT.read_text(encoding="utf-8")


#: Returns of each form re-saved by LibreOffice for the ``resaved`` fixture (and a blank of each).
RETURNS_PER_FORM = 8


@pytest.fixture(scope="session")
def resaved(libreoffice: LibreOffice, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """name -> a different return of each form re-saved by LibreOffice, one soffice call for all
    (shared by the modules that compare two ways of reading them)."""
    src = tmp_path_factory.mktemp("rendered")
    files = []
    for form_id in FORM_IDS:
        for n in range(RETURNS_PER_FORM):
            p = src / f"{form_id}-{n}.docx"
            p.write_bytes(render_form(form_id, "docx", answers(form_id, n)))
            files.append(p)
        blank = src / f"{form_id}-blank.docx"
        blank.write_bytes(render_form(form_id, "docx", {}))
        files.append(blank)
    outs = libreoffice.convert(files, "docx:MS Word 2007 XML", tmp_path_factory.mktemp("resaved"))
    return {p.stem: o.read_bytes() for p, o in zip(files, outs, strict=True)}


# -- the register --------------------------------------------------------------------


_DEFAULT_REGISTERS = Path(tempfile.mkdtemp(prefix="apdocs-test-registers-"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Commands that write a tracker record the run in a register, by default apdocs.db in the current
    directory: for the tests, the checkout. Give each test its own, empty default register instead, so
    no test sees another's returns (a hook, not an autouse fixture: Hypothesis refuses those)."""
    os.environ["APDOCS_DB"] = str(_DEFAULT_REGISTERS / f"{abs(hash(item.nodeid))}.db")


def pytest_sessionfinish(session: pytest.Session) -> None:
    shutil.rmtree(_DEFAULT_REGISTERS, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session, on loopback; yields its base URL (no database)."""
    from tests.postgres import PostgresServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found; Debian's postgresql package has them"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = PostgresServer(bindir)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def register_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty register: a SQLite file path, or a new database on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "register.db")
        return
    from tests.postgres import create_database, drop_database

    base = request.getfixturevalue("postgres_server")
    url = create_database(base)
    try:
        yield url
    finally:
        drop_database(base, url)
