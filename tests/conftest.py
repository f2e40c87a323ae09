from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

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


# -- the register --------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _register_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands that write a tracker record the run in a register; by default that is apdocs.db in the
    current directory, which for the tests is the checkout. Point the default somewhere disposable."""
    old = os.environ.get("APDOCS_DB")
    os.environ["APDOCS_DB"] = str(tmp_path_factory.mktemp("register-default") / "apdocs.db")
    yield
    if old is None:
        os.environ.pop("APDOCS_DB", None)
    else:
        os.environ["APDOCS_DB"] = old


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
