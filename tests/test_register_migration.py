"""A register made by an older apdocs is upgraded in place, keeping its data; the schema the code
uses is the one the migrations make."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from apdocs.register import schema
from apdocs.register.db import create_engine, migrate, open_engine
from tests.register_helpers import cli

HEAD = "0003"  # the newest revision shipped
FIRST_VERSION = Path(__file__).parent / "data" / "register-0001.sqlite"  # made by revision 0001, kept as it was


def test_a_register_made_by_the_first_schema_version_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(FIRST_VERSION, db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]

    code, out = cli("findings", "list", "--db", db, "--json")  # any use of the register upgrades it
    assert code == 0, out
    (finding,) = json.loads(out)
    assert finding["key"] == "F-0123456789" and finding["status"] == "accepted"
    assert finding["decision"]["note"] == "agreed with VS head" and finding["decision"]["by"] == "officer1"

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        assert conn.execute("SELECT as_of, returns_read, command, summary FROM runs").fetchall() == [
            ("2025-03-31", 1, "unknown", None)
        ]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"ix_findings_status", "ix_decisions_key", "ix_finding_events_key"} <= indexes
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_code_s_schema_is_the_one_the_migrations_make(register_db: str) -> None:
    engine = open_engine(register_db)
    try:
        inspector = sa.inspect(engine)
        for table in schema.metadata.sorted_tables:
            made = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
            want = {c.name: c.nullable for c in table.columns}
            assert made == want, table.name
    finally:
        engine.dispose()


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
    engine.dispose()


def test_a_first_version_register_upgrades_in_place_on_either_database(register_db: str) -> None:
    """The same upgrade on PostgreSQL: a register left at revision 0001, with data, brought to the newest."""
    from apdocs.register.db import resolve_url

    engine = create_engine(resolve_url(register_db))
    try:
        migrate(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (as_of, started_at, returns_read, returns_failed, findings, counts) "
                    "VALUES ('2025-03-31', '2025-03-31 09:00:00', 1, 0, 0, '{}')"
                )
            )
            conn.execute(
                sa.text(
                    'INSERT INTO decisions (key, decision, note, "by", at, source) '
                    "VALUES ('F-0123456789', 'accept', 'kept', 'officer1', '2025-03-31 10:00:00', 'cli')"
                )
            )
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
            assert conn.execute(sa.text("SELECT command FROM runs")).scalar_one() == "unknown"
            assert conn.execute(sa.text("SELECT note FROM decisions")).scalar_one() == "kept"
        assert "ix_findings_status" in {ix["name"] for ix in sa.inspect(engine).get_indexes("findings")}
    finally:
        engine.dispose()
